import { Server } from 'node:http';
import * as net from 'node:net';
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

/** A connection counts as idle, and is closed while draining, once it carried no request for this long. */
const IDLE_WHILE_DRAINING_MS = 250;

interface ConnectionState {
  active: number;
  idleSince: number;
}

/**
 * On SIGTERM or SIGINT: stop accepting, let in-flight requests finish, close the pool and exit 0.
 *
 * `server.close()` alone does not end busy keep-alive connections on Node 20, and closing every idle keep-alive
 * connection at once races with clients that are just sending their next request on it (they see ECONNRESET).
 * So the listener stops accepting, responses sent while draining say `Connection: close`, a connection is closed
 * only after it stayed idle for a moment, and whatever remains after the grace period is closed by force.
 */
export function handleShutdownSignals(options: ShutdownOptions): (signal: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const connections = new Map<net.Socket, ConnectionState>();
  options.server.on('connection', (socket: net.Socket) => {
    connections.set(socket, { active: 0, idleSince: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  options.server.on('request', (req, res) => {
    const state = connections.get(req.socket);
    if (!state) return;
    state.active++;
    res.once('close', () => {
      state.active--;
      state.idleSince = Date.now();
    });
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    shuttingDown ??= (async () => {
      options.logger.info({ signal, graceMs: options.graceMs }, 'shutting down: draining in-flight requests');
      options.startDraining();
      // The net-level close stops accepting without closing idle keep-alive connections all at once.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(options.server, () => resolve()));
      const sweep = setInterval(() => {
        const now = Date.now();
        for (const [socket, state] of connections) {
          if (state.active === 0 && now - state.idleSince >= IDLE_WHILE_DRAINING_MS) socket.destroy();
        }
      }, 50);
      const force = setTimeout(() => {
        options.logger.warn({ open: connections.size }, 'grace period over: closing remaining connections');
        for (const socket of connections.keys()) socket.destroy();
      }, options.graceMs);
      await closed;
      clearInterval(sweep);
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
