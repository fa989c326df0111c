import { Router } from 'express';
import { Sequelize } from 'sequelize';
import { isDatabaseUnavailable } from '../errors';

/**
 * `/health` is liveness: it never touches the database, so a database outage does not make the load balancer
 * replace every task. `/ready` is readiness: it answers 503 while the database is unreachable or the process drains.
 */
export function healthRouter(sequelize: Sequelize, isDraining: () => boolean): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    if (isDraining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    try {
      await sequelize.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      res.setHeader('Retry-After', '2');
      res.status(503).json({
        status: 'unavailable',
        error: { code: 'database_unavailable', message: 'the database is not reachable' },
      });
    }
  });
  return router;
}
