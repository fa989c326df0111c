import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DIST, createTestDatabase, envFor, query, TestDatabase } from './support';

function migrate(db: TestDatabase, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST, 'migrate-cli.js'), command], {
      env: { PATH: process.env.PATH, ...envFor(db.config) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

describe('migrations (npm run migrate, compiled)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('status, up, status, down, status', async () => {
    expect(lastJson((await migrate(db, 'status')).stdout)).toEqual({
      command: 'status',
      executed: [],
      pending: ['20260101000000-create-users'],
    });
    const up = await migrate(db, 'up');
    expect(up.code).toBe(0);
    expect(lastJson(up.stdout).applied).toEqual(['20260101000000-create-users']);
    expect(await query(db.config, "SELECT to_regclass('public.users') AS t")).toEqual([{ t: 'users' }]);
    expect(lastJson((await migrate(db, 'status')).stdout)).toMatchObject({ executed: ['20260101000000-create-users'], pending: [] });
    const down = await migrate(db, 'down');
    expect(lastJson(down.stdout).reverted).toEqual(['20260101000000-create-users']);
    expect(await query(db.config, "SELECT to_regclass('public.users') AS t")).toEqual([{ t: null }]);
  });

  test('three processes migrating an empty database at once apply each migration exactly once', async () => {
    const runs = await Promise.all([migrate(db, 'up'), migrate(db, 'up'), migrate(db, 'up')]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const applied = runs.flatMap((r) => lastJson(r.stdout).applied);
    expect(applied).toEqual(['20260101000000-create-users']);
    expect(await query(db.config, 'SELECT name FROM migrations')).toEqual([{ name: '20260101000000-create-users' }]);
  });

  test('an unknown command prints usage and exits 2; --help exits 0', async () => {
    const bad = await migrate(db, 'sideways');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "sideways"');
    const help = await migrate(db, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run migrate');
  });

  test('without a database configured it exits 1 naming the variable', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(DIST, 'migrate-cli.js'), 'up'], { env: { PATH: process.env.PATH } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DB_HOST: is required (or DATABASE_URL) to run migrations');
  });
});
