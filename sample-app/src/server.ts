import { Server } from 'node:http';
import { Logger } from 'pino';

export interface ShutdownOptions {
  readonly server: Server;
  readonly logger: Logger;
  /** Time in-flight requests get before their connections are closed; shorter than the task's stop timeout. */
  readonly graceMs: number;
  /** Called first: from then on responses carry `Connection: close` and `/ready` answers 503. */
  readonly startDraining: () => void;
  /** Closes what the server used (database pool, embedded database), after the last request. */
  readonly release: () => Promise<void>;
  readonly exit?: (code: number) => void;
}

/**
 * On SIGTERM or SIGINT: stop accepting, let in-flight requests finish, close the pool and exit 0.
 *
 * `server.close()` alone does not end busy keep-alive connections on Node 20: responses sent while draining say
 * `Connection: close`, idle connections are closed as they become idle, and whatever remains after the grace
 * period is closed by force.
 */
export function handleShutdownSignals(options: ShutdownOptions): (signal: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    shuttingDown ??= (async () => {
      options.logger.info({ signal, graceMs: options.graceMs }, 'shutting down: draining in-flight requests');
      options.startDraining();
      const closed = new Promise<void>((resolve) => options.server.close(() => resolve()));
      options.server.closeIdleConnections();
      const idleSweep = setInterval(() => options.server.closeIdleConnections(), 50);
      const force = setTimeout(() => {
        options.logger.warn('grace period over: closing remaining connections');
        options.server.closeAllConnections();
      }, options.graceMs);
      await closed;
      clearInterval(idleSweep);
      clearTimeout(force);
      let code = 0;
      try {
        await options.release();
      } catch (err) {
        options.logger.error({ err }, 'releasing resources failed');
        code = 1;
      }
      options.logger.info({ code }, 'stopped');
      exit(code);
    })();
    return shuttingDown;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return shutdown;
}
