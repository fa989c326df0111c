import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { silentLogger } from './support';
import { handleShutdownSignals } from '../src/server';

/**
 * The drain, without the app: a request still running at SIGTERM must finish, an idle keep-alive connection must be
 * closed (after a short idle moment, not at once), and the process exits only after both.
 */
test('a slow request in flight finishes, an idle keep-alive connection is closed, then release and exit', async () => {
  let draining = false;
  const server = http.createServer((req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    const answer = () => res.end(JSON.stringify({ path: req.url }));
    if (req.url === '/slow') setTimeout(answer, 800);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const events: string[] = [];
  const exited = new Promise<number>((resolve) => {
    const shutdown = handleShutdownSignals({
      server,
      logger: silentLogger,
      graceMs: 5000,
      startDraining: () => {
        draining = true;
      },
      release: async () => {
        events.push('release');
      },
      exit: (code) => {
        events.push('exit');
        resolve(code);
      },
    });
    // An idle keep-alive connection: one request answered, the socket left open.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = http.get({ host: '127.0.0.1', port, path: '/fast', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        // A slow request on another connection, then the signal while it runs.
        http
          .get({ host: '127.0.0.1', port, path: '/slow' }, (slow) => {
            let body = '';
            slow.on('data', (chunk) => (body += chunk));
            slow.on('end', () => events.push(`slow answered ${slow.statusCode} ${body}`));
          })
          .on('error', (err: NodeJS.ErrnoException) => events.push(`slow failed ${err.code ?? err.message}`));
        setTimeout(() => void shutdown('SIGTERM'), 100);
      });
    });
    first.on('socket', (socket) => socket.once('close', () => events.push('idle connection closed')));
  });

  const started = Date.now();
  expect(await exited).toBe(0);
  expect(events).toEqual(['idle connection closed', 'slow answered 200 {"path":"/slow"}', 'release', 'exit']);
  // The slow request set the pace (800 ms, signalled at 100 ms), not the 5 s grace period.
  expect(Date.now() - started).toBeLessThan(2000);
}, 10000);
