import { randomUUID } from 'node:crypto';
import express, { Express, RequestHandler } from 'express';
import { Logger } from 'pino';
import { Database } from './db';
import { errorHandler, notFound } from './errors';
import { defineUser } from './models/user';
import { healthRouter } from './routes/health';
import { usersRouter } from './routes/users';
import { UserReads } from './user-reads';

export interface AppOptions {
  /** The database handles the app uses; the caller opens and closes them. */
  readonly database: Pick<Database, 'sequelize' | 'readPool'>;
  readonly logger: Logger;
  /** Largest accepted JSON body, e.g. `16kb`. */
  readonly bodyLimit?: string;
  /** True once shutdown began: responses then ask clients to close their connection. */
  readonly isDraining?: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Request id (from `x-request-id` when it is sane), one JSON log line per request, `Connection: close` when draining. */
function requestContext(logger: Logger, isDraining: () => boolean): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (isDraining()) res.setHeader('Connection', 'close');
    const started = performance.now();
    res.on('finish', () => {
      if (!logger.isLevelEnabled('info')) return;
      logger.info(
        {
          requestId,
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 1000) / 1000,
        },
        'request',
      );
    });
    next();
  };
}

/** Builds the Express app. It never listens: the entry (`index.ts`) or a test does. */
export function createApp(options: AppOptions): Express {
  const isDraining = options.isDraining ?? (() => false);
  const { sequelize, readPool } = options.database;
  const model = defineUser(sequelize);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(options.logger, isDraining));
  // The body parser runs only on the routes that take a body, and the users API comes first: it is what most
  // requests ask for, and each middleware or route a request passes costs it CPU (docs/performance.md).
  const jsonBody = express.json({ limit: options.bodyLimit ?? '16kb', strict: true });
  app.use('/users', usersRouter({ model, reads: new UserReads(readPool, model) }, jsonBody));
  app.use(healthRouter(sequelize, isDraining));
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}
