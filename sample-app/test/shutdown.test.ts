import * as http from 'node:http';
import { createTestDatabase, envFor, startApp, TestDatabase } from './support';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface Outcome {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status?: number;
  readonly error?: string;
}

function get(agent: http.Agent, port: number, path: string): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ startedAt, endedAt: Date.now(), status: res.statusCode }));
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ startedAt, endedAt: Date.now(), error: err.code ?? err.message }),
    );
  });
}

test('SIGTERM under load: in-flight requests finish, nothing fails, the pool closes and the process exits 0', async () => {
  const app = await startApp({ ...envFor(db.config), SHUTDOWN_GRACE_MS: '5000' });
  const created = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: app.port,
        path: '/users',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) =>
        res.statusCode === 201 ? resolve(res.statusCode) : reject(new Error(`POST answered ${res.statusCode}`)),
    );
    req.end(JSON.stringify({ email: 'load@example.com', name: 'Load' }));
  });
  expect(created).toBe(201);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  const outcomes: Outcome[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const outcome = await get(agent, app.port, '/users/1');
      outcomes.push(outcome);
      if (outcome.error === 'ECONNREFUSED') return; // the listener is closed: a load balancer stops sending here
    }
  };
  const workers = Array.from({ length: 20 }, worker);
  await new Promise((r) => setTimeout(r, 1000));
  const signalledAt = Date.now();
  app.process.kill('SIGTERM');
  const code = await app.exited;
  stop = true;
  await Promise.all(workers);
  agent.destroy();

  expect(code).toBe(0);
  const failed = outcomes.filter(
    (o) => (o.status !== undefined && o.status !== 200) || (o.error && o.error !== 'ECONNREFUSED'),
  );
  expect(failed).toEqual([]);
  const inFlightAtSignal = outcomes.filter(
    (o) => o.startedAt <= signalledAt && o.endedAt >= signalledAt && o.status === 200,
  );
  expect(inFlightAtSignal.length).toBeGreaterThan(0);
  expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(100);
  expect(app.output()).toContain('"msg":"stopped"');
});

test('a start with an unreachable database exits 1 with a clear message', async () => {
  await expect(
    startApp({ ...envFor({ ...db.config, port: 1 }), DB_TIMEOUT_MS: '500' }, undefined, 15000),
  ).rejects.toThrow(/exited with 1 before listening[\s\S]*startup failed/);
});

test('invalid configuration exits 1 naming the variable', async () => {
  await expect(startApp({ PORT: 'eighty' }, undefined, 15000)).rejects.toThrow(
    /PORT: must be an integer from 0 to 65535/,
  );
});
