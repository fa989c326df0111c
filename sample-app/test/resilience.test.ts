import { Express } from 'express';
import request from 'supertest';
import { createProxiedDatabase, FaultyProxy, ProxiedDatabase, silentLogger } from './support';
import { createApp } from '../src/app';
import { migrateWithLock } from '../src/migrator';

let proxied: ProxiedDatabase;
let proxy: FaultyProxy;
let app: Express;

beforeAll(async () => {
  proxied = await createProxiedDatabase({ timeoutMs: 2000 });
  proxy = proxied.proxy;
  await migrateWithLock(proxied.sequelize, proxied.config);
  app = createApp({ database: proxied.database, logger: silentLogger });
  await request(app).post('/users').send({ email: 'steady@example.com', name: 'Steady' }).expect(201);
});

afterAll(() => proxied?.close());

afterEach(() => proxy.up());

async function timed(path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await request(app).get(path);
  return { status: res.status, body: res.body, ms: Date.now() - started };
}

/** Polls until the API answers 200 again; the app must recover by itself. */
async function waitForRecovery(deadlineMs = 15000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if ((await request(app).get('/users/1')).status === 200) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the API did not recover');
}

describe.each([
  ['down (connections refused)', () => proxy.down()],
  ['hung (connections open, no answers)', () => proxy.hang()],
])('database %s', (_name, breakIt) => {
  test('requests answer 503 database_unavailable within about 2 seconds, liveness stays up, and it recovers', async () => {
    await request(app).get('/users/1').expect(200);
    breakIt();

    const results = await Promise.all([timed('/users/1'), timed('/users'), timed('/ready')]);
    for (const r of results) {
      expect(r.status).toBe(503);
      expect(r.ms).toBeLessThan(3000);
      expect(JSON.stringify(r.body)).toContain('database_unavailable');
    }
    const post = await request(app).post('/users').send({ email: 'during@example.com', name: 'During' });
    expect(post.status).toBe(503);
    expect(post.headers['retry-after']).toBe('2');
    expect((await timed('/health')).status).toBe(200);

    proxy.up();
    await waitForRecovery();
    await request(app).get('/ready').expect(200);
  });
});
