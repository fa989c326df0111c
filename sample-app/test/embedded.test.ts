import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startApp } from './support';

const dataDir = mkdtempSync(path.join(tmpdir(), 'sample-embedded-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function json(port: number, urlPath: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, init);
  return { status: res.status, body: await res.json() };
}

test('with no database configured it starts the embedded PostgreSQL, serves the API, keeps data, and guards the data directory', async () => {
  const first = await startApp({ EMBEDDED_DATA_DIR: dataDir }, undefined, 60000);
  try {
    expect(first.output()).toContain('started the embedded PostgreSQL (PGlite)');
    expect((await json(first.port, '/health')).body).toEqual({ status: 'ok' });
    expect((await json(first.port, '/ready')).status).toBe(200);
    const created = await json(first.port, '/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'embedded@example.com', name: 'Embedded' }),
    });
    expect(created.status).toBe(201);

    await expect(startApp({ EMBEDDED_DATA_DIR: dataDir }, undefined, 30000)).rejects.toThrow(
      new RegExp(`in use by process ${first.process.pid}`),
    );
  } finally {
    first.process.kill('SIGTERM');
  }
  expect(await first.exited).toBe(0);
  expect(existsSync(path.join(dataDir, '.lock'))).toBe(false);

  const second = await startApp({ EMBEDDED_DATA_DIR: dataDir }, undefined, 60000);
  try {
    const list = await json(second.port, '/users');
    expect(list.body.data.map((u: any) => u.email)).toEqual(['embedded@example.com']);
  } finally {
    second.process.kill('SIGTERM');
    await second.exited;
  }
});

test('in production without a database it refuses to start rather than use the embedded one', async () => {
  await expect(startApp({ NODE_ENV: 'production', EMBEDDED_DATA_DIR: dataDir }, undefined, 15000)).rejects.toThrow(
    /DB_HOST: is required in production/,
  );
});
