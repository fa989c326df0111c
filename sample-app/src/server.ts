import { Server, ServerResponse } from 'node:http';
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
  /** The response of the connection's latest request, if it had one. */
  response?: ServerResponse;
  /** The response seen at the previous sweep: a different one means the connection carried a request since. */
  seen?: ServerResponse;
  /** When a sweep first found the connection idle. */
  idleSince?: number;
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
    connections.set(socket, {});
    socket.once('close', () => connections.delete(socket));
  });
  // One assignment per request, no listener on the response: the sweep reads the state only while draining.
  options.server.on('request', (req, res) => {
    const state = connections.get(req.socket);
    if (state) state.response = res;
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
          const busy = state.response !== undefined && !state.response.writableFinished;
          if (busy || state.response !== state.seen) {
            state.seen = state.response;
            state.idleSince = undefined;
            if (busy) continue;
          }
          state.idleSince ??= now;
          if (now - state.idleSince >= IDLE_WHILE_DRAINING_MS) socket.destroy();
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
