import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { DIST, createTestDatabase, envFor, query, TestDatabase } from './support';
import { pgConnection } from '../src/db';
import { MIGRATION_LOCK_KEY } from '../src/migrator';

/** A session that holds the migration advisory lock until `release()`. */
async function lockHolder(db: TestDatabase): Promise<{ release(): Promise<void> }> {
  const client = new Client(pgConnection(db.config));
  client.on('error', () => undefined);
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await client.end();
    },
  };
}

function migrate(
  db: TestDatabase,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST, 'migrate-cli.js'), ...args], {
      env: { PATH: process.env.PATH, ...envFor(db.config) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Names of the migrations an up or down run logged as done (`migrated` or `reverted` events). */
const logged = (stdout: string, event: 'migrated' | 'reverted') =>
  stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.event === event)
    .map((entry) => entry.name);

const listed = async (db: TestDatabase, command: 'pending' | 'executed') =>
  JSON.parse((await migrate(db, command, '--json')).stdout).map((m: { name: string }) => m.name);

const MIGRATION = '20260101000000-create-users';

describe('migrations (npm run migrate, compiled: Umzug CLI under the advisory lock)', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('pending, up, executed, down, pending', async () => {
    expect(await listed(db, 'pending')).toEqual([MIGRATION]);
    const up = await migrate(db, 'up');
    expect(up.code).toBe(0);
    expect(logged(up.stdout, 'migrated')).toEqual([MIGRATION]);
    expect(await query(db.config, "SELECT to_regclass('public.users') AS t")).toEqual([{ t: 'users' }]);
    expect(await listed(db, 'executed')).toEqual([MIGRATION]);
    const down = await migrate(db, 'down');
    expect(down.code).toBe(0);
    expect(logged(down.stdout, 'reverted')).toEqual([MIGRATION]);
    expect(await query(db.config, "SELECT to_regclass('public.users') AS t")).toEqual([{ t: null }]);
    expect(await listed(db, 'pending')).toEqual([MIGRATION]);
  });

  test('three processes migrating an empty database at once apply each migration exactly once', async () => {
    const runs = await Promise.all([migrate(db, 'up'), migrate(db, 'up'), migrate(db, 'up')]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs.flatMap((r) => logged(r.stdout, 'migrated'))).toEqual([MIGRATION]);
    expect(await query(db.config, 'SELECT name FROM migrations')).toEqual([{ name: MIGRATION }]);
  });

  test('down waits for the lock an up holds: a down during migrations never runs at the same time', async () => {
    await migrate(db, 'up');
    // Another session holds the migration lock; down must wait for it instead of reverting underneath.
    const holder = await lockHolder(db);
    let finished = false;
    try {
      const down = migrate(db, 'down').then((result) => {
        finished = true;
        return result;
      });
      // The CLI needs a moment to start; wait (bounded) until its lock request is seen waiting.
      let waiting = 0;
      for (let i = 0; i < 60 && waiting === 0 && !finished; i++) {
        await new Promise((r) => setTimeout(r, 250));
        [{ n: waiting }] = await query(
          db.config,
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sample-users-api-migrate' AND wait_event_type = 'Lock'",
        );
      }
      expect({ waiting, finished }).toEqual({ waiting: 1, finished: false });
      // Read the table directly: every CLI command, listing included, waits for the lock too.
      expect(await query(db.config, 'SELECT name FROM migrations')).toEqual([{ name: MIGRATION }]);
      await holder.release();
      expect((await down).code).toBe(0);
      expect(await query(db.config, 'SELECT name FROM migrations')).toEqual([]);
    } finally {
      await holder.release();
    }
  });

  test('an unknown command names the choices and exits non-zero; --help lists the commands and exits 0', async () => {
    const bad = await migrate(db, 'sideways');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid choice: sideways (choose from [up, down, pending, executed, create])');
    const help = await migrate(db, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run migrate -- [-h] <command> ...');
  });

  test('without a database configured it exits 1 naming the variable', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(DIST, 'migrate-cli.js'), 'up'], {
        env: { PATH: process.env.PATH },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DB_HOST: is required (or DATABASE_URL) to run migrations');
  });
});
