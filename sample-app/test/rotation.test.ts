/**
 * Credential rotation, simulated end to end on a real PostgreSQL with password authentication:
 *
 * - the construct's bootstrap SQL function (src/database/app-user/sql.ts in the library) creates the app user;
 * - "tasks" are processes of this app that read DB_USER/DB_PASSWORD once, at start, as ECS injects them;
 * - a small load balancer sends the load-test tool's requests to the registered tasks;
 * - a rotation runs the alternating-users rotation function's steps and SQL (tools/rotation-simulation.ts), and the
 *   redeploy the construct starts after it: a new task with the current secret, registered, then the old one
 *   deregistered and stopped (SIGTERM, drain).
 *
 * It fails if the app held the master user, if a rotation changed the password the running tasks hold, or if any
 * request failed; and it shows that the rotation is real: after the second rotation the oldest password is refused.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { RunningApp, startApp } from './support';
import { runSql } from '../../src/database/app-user/sql';
import { AppSecret, canLogIn, Login, rotate } from '../../tools/rotation-simulation';
import { createMasterDatabase, MasterDatabase, ScramServer, startScramServer } from '../../tools/scram-postgres';
import { runLoadTest } from '../perf/loadtest';

/** Round-robin over registered targets, like the ALB: a deregistered target gets no new requests. */
class LoadBalancer {
  private readonly targets: { port: number; agent: http.Agent }[] = [];
  private next = 0;
  private server?: http.Server;
  failures = 0;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (this.targets.length === 0) {
        this.failures++;
        res.writeHead(503).end();
        return;
      }
      const target = this.targets[this.next++ % this.targets.length];
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
          agent: target.agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        this.failures++;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  register(port: number): void {
    this.targets.push({ port, agent: new http.Agent({ keepAlive: true }) });
  }

  deregister(port: number): void {
    const i = this.targets.findIndex((t) => t.port === port);
    const [target] = this.targets.splice(i, 1);
    setTimeout(() => target.agent.destroy(), 5000);
  }

  async stop(): Promise<void> {
    for (const t of this.targets) t.agent.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

let server: ScramServer;
let db: MasterDatabase;
const apps: RunningApp[] = [];
const lb = new LoadBalancer();

beforeAll(async () => {
  server = await startScramServer();
  db = await createMasterDatabase(server);
  await lb.start();
});

afterAll(async () => {
  for (const app of apps) app.process.kill('SIGKILL');
  await lb.stop();
  server?.stop();
});

/** A task: the app started with the secret's current login, as ECS would inject it, and registered once ready. */
async function startTask(login: Login): Promise<RunningApp> {
  const app = await startApp({
    DB_HOST: db.endpoint.host,
    DB_PORT: String(db.endpoint.port),
    DB_NAME: db.endpoint.database,
    DB_USER: login.username,
    DB_PASSWORD: login.password,
    // TLS as in AWS: required by the server, verified against a CA file (the RDS bundle there, the test CA here).
    DB_SSL: 'require',
    DB_CA_FILE: server.caFile,
    DB_POOL_MAX: '4',
  });
  apps.push(app);
  const ready = await fetch(`http://127.0.0.1:${app.port}/ready`);
  expect(ready.status).toBe(200);
  lb.register(app.port);
  return app;
}

/** The redeploy after a rotation: the new task first, then the old one leaves the load balancer and drains. */
async function redeploy(old: RunningApp, secret: AppSecret): Promise<RunningApp> {
  const task = await startTask(secret.current);
  lb.deregister(old.port);
  old.process.kill('SIGTERM');
  expect(await old.exited).toBe(0);
  return task;
}

async function sessionUsers(): Promise<string[]> {
  const rows = await db.asSuperuser<{ usename: string }>(
    'SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.usename).sort();
}

test('two rotations under load: no failed request, the running tasks keep working logins, the oldest password ends', async () => {
  const username = `app_${process.pid}`;
  const secret: AppSecret = { current: { username, password: 'first-password-from-secrets-manager' } };
  const report = await runSql(
    {
      host: db.endpoint.host,
      port: db.endpoint.port,
      databaseName: db.endpoint.database,
      username,
      masterLogins: [db.master],
      current: secret.current,
    },
    { ssl: true, ca: server.ca },
  );
  expect(report).toMatchObject({ superuser: false, createRole: false, createDatabase: false, memberOfAdmin: false });

  // The first task migrates the empty database as the app user.
  let task = await startTask(secret.current);
  const firstLogin = secret.current;
  const seen = new Set<string>();
  const steps = (async () => {
    await new Promise((r) => setTimeout(r, 1500));
    (await sessionUsers()).forEach((u) => seen.add(u));

    await rotate(db.endpoint, db.master, secret);
    expect(secret.current.username).toBe(`${username}_clone`);
    // The running task still holds the first login: a new connection with it must succeed.
    expect(await canLogIn(db.endpoint, firstLogin)).toBe(true);
    task = await redeploy(task, secret);
    await new Promise((r) => setTimeout(r, 1500));
    (await sessionUsers()).forEach((u) => seen.add(u));

    await rotate(db.endpoint, db.master, secret);
    expect(secret.current.username).toBe(username);
    // The rotation after next changed the first login's password: the oldest credentials are refused now...
    expect(await canLogIn(db.endpoint, firstLogin)).toBe(false);
    // ...while the login the running task holds (the clone's) still works.
    expect(await canLogIn(db.endpoint, secret.previous!)).toBe(true);
    task = await redeploy(task, secret);
    (await sessionUsers()).forEach((u) => seen.add(u));
  })();

  const load = runLoadTest({
    url: `http://127.0.0.1:${lb.port}`,
    connections: 8,
    duration: 9,
    postPercent: 20,
    timeoutSeconds: 10,
    progress: false,
  });
  const [result] = await Promise.all([load, steps]);
  expect(result).toMatchObject({ errors: 0, timeouts: 0, non2xx: 0 });
  expect(lb.failures).toBe(0);
  expect(result.requests).toBeGreaterThan(500);
  // Both logins served traffic; the master user never did.
  expect([...seen].sort()).toEqual([username, `${username}_clone`].sort());
  expect(seen.has(db.master.username)).toBe(false);

  // The app user cannot do what the master can.
  const app = new Client({ ...db.endpoint, user: secret.current.username, password: secret.current.password });
  await app.connect();
  try {
    await expect(app.query('CREATE ROLE intruder')).rejects.toThrow(/permission denied/);
    const [{ rolsuper }] = (await app.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows;
    expect(rolsuper).toBe(false);
  } finally {
    await app.end();
  }
  task.process.kill('SIGTERM');
  await task.exited;
}, 120000);
