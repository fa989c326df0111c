import { Pool } from 'pg';
import { ConnectionError, DatabaseError, DataTypes, Model, Sequelize } from 'sequelize';
import { createMigratedDatabase, createProxiedDatabase, ProxiedDatabase, TestDatabase } from './support';
import { createReadPool } from '../src/db';
import { isDatabaseUnavailable } from '../src/errors';
import { defineUser, User } from '../src/models/user';
import { UserReads } from '../src/user-reads';

describe('UserReads: the hot read path on its own pool', () => {
  let db: TestDatabase;
  let sequelize: Sequelize;
  let pool: Pool;
  let reads: UserReads;

  beforeAll(async () => {
    let database;
    ({ db, database, sequelize } = await createMigratedDatabase());
    await database.readPool.end();
    defineUser(sequelize);
    pool = createReadPool({ ...db.config, timeoutMs: 1000 }, 2);
    reads = new UserReads(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await sequelize?.close();
    await db?.drop();
  });

  test('answers exactly what the model answers: same fields, same values, same JSON', async () => {
    const created = await User.create({ email: 'ada@example.com', name: 'Ada' });
    const viaModel = (await User.findByPk(created.id))!.toJSON();
    const viaReads = await reads.findById(created.id);
    expect(viaReads).toEqual(viaModel);
    expect(JSON.stringify(viaReads)).toBe(JSON.stringify(viaModel));
  });

  test('an id that does not exist is undefined, and the connection goes back to the pool', async () => {
    expect(await reads.findById(2_000_000_000)).toBeUndefined();
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  test('the column list comes from the model: a column added to the model is read too', () => {
    class Wider extends Model {}
    Wider.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true },
        email: DataTypes.STRING,
        nickname: { type: DataTypes.STRING, field: 'nick_name' },
      },
      { sequelize, tableName: 'users', underscored: true, timestamps: true },
    );
    expect(new UserReads(pool, Wider).selectById).toBe(
      'SELECT "id" AS "id", "email" AS "email", "nick_name" AS "nickname", "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "users" WHERE "id" = $1',
    );
  });

  test('an SQL error is a Sequelize DatabaseError with its SQLSTATE, and the connection stays pooled', async () => {
    await reads.findById(1);
    const before = pool.totalCount;
    const err = await reads.findById(2 ** 40).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).original).toMatchObject({ code: '22003' });
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(pool.totalCount).toBe(before);
  });

  test('a statement blocked past the timeout is a database-unavailable error, not a hang', async () => {
    const blocker = await pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const err = await reads.findById(1).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2500);
      // The server's statement_timeout (a DatabaseError, 57014) and pg's query_timeout (a ConnectionError) share
      // the bound; whichever fires first, the answer is "unavailable", never a hang or a 500.
      expect([DatabaseError, ConnectionError]).toContain((err as Error).constructor);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
  });
});

describe('UserReads when the database stops answering', () => {
  let proxied: ProxiedDatabase;
  let pool: Pool;
  let reads: UserReads;

  beforeAll(async () => {
    proxied = await createProxiedDatabase({ timeoutMs: 1000 });
    await proxied.database.readPool.end();
    pool = createReadPool(proxied.config, 2);
    defineUser(proxied.sequelize);
    await proxied.sequelize.query(
      'CREATE TABLE users (id serial PRIMARY KEY, email text, name text, created_at timestamptz, updated_at timestamptz)',
    );
    reads = new UserReads(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await proxied?.close();
  });

  test('a hung connection is a ConnectionError within the bound, it is discarded, and a later read works', async () => {
    expect(await reads.findById(1)).toBeUndefined();
    expect(pool.totalCount).toBe(1);
    proxied.proxy.hang();
    const started = Date.now();
    const err = await reads.findById(1).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(pool.totalCount).toBe(0);
    proxied.proxy.up();
    expect(await reads.findById(1)).toBeUndefined();
  });

  test('a database that refuses connections is a ConnectionError', async () => {
    proxied.proxy.down();
    try {
      const err = await reads.findById(1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      proxied.proxy.up();
    }
  });
});
