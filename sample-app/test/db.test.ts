import { DatabaseError, Sequelize } from 'sequelize';
import { createSequelize, queryRows } from '../src/db';
import { isDatabaseUnavailable } from '../src/errors';
import { createProxiedDatabase, createTestDatabase, FaultyProxy, ProxiedDatabase, TestDatabase } from './support';

/** Sequelize's pool as the tests read it: which connections exist, and which are lent out. */
function pool(sequelize: Sequelize): { size: number; using: number } {
  const p = (sequelize.connectionManager as unknown as { pool: { size: number; using: number } }).pool;
  return { size: p.size, using: p.using };
}

describe('queryRows: one statement on a connection from Sequelize pool', () => {
  let db: TestDatabase;
  let sequelize: Sequelize;

  beforeAll(async () => {
    db = await createTestDatabase();
    sequelize = createSequelize({ ...db.config, poolMax: 2 });
  });
  afterAll(async () => {
    await sequelize?.close();
    await db?.drop();
  });

  test('returns the rows with pg types, parameters bound, and gives the connection back', async () => {
    const rows = await queryRows<{ n: number; t: string; at: Date }>(sequelize, "SELECT $1::int AS n, $2::text AS t, '2026-01-02T03:04:05Z'::timestamptz AS at", [
      7,
      "it's",
    ]);
    expect(rows).toEqual([{ n: 7, t: "it's", at: new Date('2026-01-02T03:04:05Z') }]);
    expect(pool(sequelize).using).toBe(0);
  });

  test('many at once share the bounded pool and each gets its own answer', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => queryRows<{ n: number }>(sequelize, 'SELECT $1::int AS n', [i])));
    expect(answers.map((rows) => rows[0].n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool(sequelize).size).toBeLessThanOrEqual(2);
    expect(pool(sequelize).using).toBe(0);
  });

  test('an SQL error comes back as a Sequelize DatabaseError with its SQLSTATE, and the connection stays pooled', async () => {
    await queryRows(sequelize, 'SELECT 1', []);
    const before = pool(sequelize).size;
    const err = await queryRows(sequelize, 'SELECT $1::int', ['not a number']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).original).toMatchObject({ code: '22P02' });
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(pool(sequelize)).toEqual({ size: before, using: 0 });
    expect(await queryRows(sequelize, 'SELECT 2 AS n', [])).toEqual([{ n: 2 }]);
  });

  test('a statement that outlives the timeout is a database-unavailable error', async () => {
    const err = await queryRows(sequelize, 'SELECT pg_sleep(5)', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });
});

describe('queryRows when the database stops answering', () => {
  let proxied: ProxiedDatabase;
  let proxy: FaultyProxy;
  let sequelize: Sequelize;

  beforeAll(async () => {
    proxied = await createProxiedDatabase({ poolMax: 2, timeoutMs: 1000 });
    ({ proxy, sequelize } = proxied);
  });
  afterAll(() => proxied?.close());

  test('the hung connection is taken out of the pool, not lent again, and a later query works', async () => {
    expect(await queryRows(sequelize, 'SELECT 1 AS n', [])).toEqual([{ n: 1 }]);
    expect(pool(sequelize).size).toBe(1);
    proxy.hang();
    const started = Date.now();
    const err = await queryRows(sequelize, 'SELECT 1 AS n', []).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(pool(sequelize)).toEqual({ size: 0, using: 0 });
    proxy.up();
    expect(await queryRows(sequelize, 'SELECT 3 AS n', [])).toEqual([{ n: 3 }]);
  });
});
