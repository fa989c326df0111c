import {
  APP_MIGRATION,
  databaseWithMasterSchema,
  migrateAs,
  newLogin,
  newUser,
  ownedBy,
  renamedAfterOrders,
  run,
} from './handover-fixtures';
import { cloneOf } from '../../src/database/app-user/statements';
import { createMasterDatabase, ScramServer, startScramServer } from '../../tools/scram-postgres';

/**
 * The handover of what the master user built for the app before the app had a user of its own (the upgrade path), and
 * of what a renamed app user owns, on a PostgreSQL with password authentication and a master user that is not a
 * superuser (as on RDS).
 */

// The lock test waits out the handover's lock timeout (5 s).
jest.setTimeout(30000);

let server: ScramServer;
beforeAll(async () => {
  server = await startScramServer();
});
afterAll(() => server?.stop());

describe('the master built the schema before the app had its own user (the upgrade path)', () => {
  test('fails on the defect: without a handover, the app user cannot alter a single kind of object', async () => {
    const db = await databaseWithMasterSchema(server);
    const user = newUser();
    const login = newLogin(user);
    // The app user, as the bootstrap makes it, but the master keeps everything (what the old bootstrap left).
    await db.asSuperuser(`CREATE ROLE ${user} LOGIN PASSWORD '${login.password}'`);
    await db.asSuperuser(`GRANT CONNECT, TEMPORARY ON DATABASE ${db.endpoint.database} TO ${user}`);
    await db.asSuperuser(`GRANT USAGE, CREATE ON SCHEMA public TO ${user}`);
    expect((await migrateAs(db, login)).length).toBe(APP_MIGRATION.length);
  });

  test('after the bootstrap, every migration statement works and the master owns nothing in the database', async () => {
    const db = await databaseWithMasterSchema(server);
    const user = newUser();
    const login = newLogin(user);
    const report = await run(db, user, login);
    // enum, domain, composite type, partitioned table, partition, table, sequence, view, materialized view,
    // function, procedure, schema, table in that schema (the serial and identity sequences follow their tables).
    expect(report.objectsHandedOver).toBe(13);
    expect(await migrateAs(db, login)).toEqual([]);
    expect(await ownedBy(db, db.master.username)).toEqual([]);
  });

  test('objects of an extension the master installed stay with the extension, and are not counted', async () => {
    const db = await createMasterDatabase(server);
    // An extension a non-superuser may install in PostgreSQL 13 and later (trusted).
    await db.asSuperuser(`GRANT CREATE ON DATABASE ${db.endpoint.database} TO ${db.master.username}`);
    const admin = await db.connect(db.master);
    await admin.query('CREATE EXTENSION IF NOT EXISTS pgcrypto');
    await admin.query('CREATE TABLE plain (id int)');
    await admin.end();
    const user = newUser();
    const report = await run(db, user, newLogin(user));
    expect(report.objectsHandedOver).toBe(1);
    expect(await ownedBy(db, db.master.username)).toEqual(['extension pgcrypto']);
  });

  test('waits a bounded time for a lock and names the table it waited on; nothing is half handed over', async () => {
    const db = await createMasterDatabase(server);
    const admin = await db.connect(db.master);
    await admin.query('CREATE TABLE busy (id int); CREATE TABLE calm (id int)');
    await admin.end();
    const holder = await db.connect(db.master);
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE busy IN ACCESS SHARE MODE');
    const user = newUser();
    const started = Date.now();
    await expect(run(db, user, newLogin(user))).rejects.toThrow(
      /could not hand public\.busy \(table\) over to the app user within 5 s: it is in use; deploy again once the transaction holding it has finished$/,
    );
    expect(Date.now() - started).toBeLessThan(15000);
    await holder.query('ROLLBACK');
    await holder.end();
    // The transaction rolled back: the master still owns both, and the app user was not created.
    expect(await ownedBy(db, db.master.username)).toEqual(['table busy', 'table calm']);
    expect(await db.asSuperuser('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).toEqual([]);
  });

  test('an object it cannot hand over fails the bootstrap, naming it, and changes nothing', async () => {
    const db = await createMasterDatabase(server);
    const admin = await db.connect(db.master);
    await admin.query('CREATE TABLE plain (id int)');
    const [{ oid }] = (await admin.query('SELECT lo_create(0) AS oid')).rows;
    await admin.end();
    const user = newUser();
    await expect(run(db, user, newLogin(user))).rejects.toThrow(
      new RegExp(
        `could not hand over what the master user owns in the app's database: large object ${oid}; change their owner to "${user}" by hand \\(ALTER \\.\\.\\. OWNER TO\\), or drop them$`,
      ),
    );
    expect(await ownedBy(db, db.master.username)).toEqual([`large object ${oid}`, 'table plain']);
  });
});

describe('database.appUsername renamed on a live stack', () => {
  test('everything the previous user owns goes to the new one; the previous login keeps working until its tasks are gone', async () => {
    const db = await databaseWithMasterSchema(server);
    const before = newUser();
    const beforeLogin = newLogin(before);
    await run(db, before, beforeLogin);
    expect((await ownedBy(db, before)).length).toBeGreaterThanOrEqual(13);
    const after = newUser();
    const afterLogin = newLogin(after);
    const report = await run(db, after, afterLogin, [before]);
    expect(report.objectsHandedOver).toBe(13);
    expect(await ownedBy(db, before)).toEqual([]);
    expect(await migrateAs(db, afterLogin)).toEqual([]);
    // Tasks still running with the previous login (the rollout has not replaced them yet) keep their access.
    const old = await db.connect(beforeLogin);
    await old.query("INSERT INTO events (at, mood) VALUES ('2026-07-01', 'sad')");
    await old.end();
    // The previous login's privileges come only through the new user: it owns nothing and has no admin power.
    const [roles] = await db.asSuperuser(
      'SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1',
      [before],
    );
    expect(roles).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
  });

  test('renamed back (a rollback), everything returns to the first user', async () => {
    const { db, first, firstLogin, second } = await renamedAfterOrders(server);
    expect(await ownedBy(db, second)).toEqual(['table orders']);
    await run(db, first, firstLogin, [second]);
    expect(await ownedBy(db, first)).toEqual(['table orders']);
    expect(await ownedBy(db, second)).toEqual([]);
    // No membership cycle (PostgreSQL refuses one): the way back revokes the first user's membership in the second.
    const [{ cycle }] = await db.asSuperuser('SELECT pg_has_role($1, $2, $3) AS cycle', [first, second, 'MEMBER']);
    expect(cycle).toBe(false);
    const again = await db.connect(firstLogin);
    await again.query('ALTER TABLE orders ADD COLUMN total int');
    await again.end();
  });

  test('a previous user the master may not take over (a superuser) is refused with what to do, and nothing changes', async () => {
    const db = await createMasterDatabase(server);
    const before = newUser();
    await db.asSuperuser(`CREATE ROLE ${before} SUPERUSER LOGIN`);
    await db.asSuperuser(`CREATE TABLE kept (id int)`);
    await db.asSuperuser(`ALTER TABLE kept OWNER TO ${before}`);
    const after = newUser();
    await expect(run(db, after, newLogin(after), [before])).rejects.toThrow(
      new RegExp(
        `cannot hand over what the previous app user "${before}" owns: .*; give it back its name \\(database.appUsername\\) or have an administrator run REASSIGN OWNED BY "${before}" TO "${after}"`,
      ),
    );
    expect(await ownedBy(db, before)).toEqual(['table kept']);
    expect(await db.asSuperuser('SELECT 1 FROM pg_roles WHERE rolname = $1', [after])).toEqual([]);
  });

  test('the clone of the previous user is handed over too', async () => {
    const db = await createMasterDatabase(server);
    const before = newUser();
    await run(db, before, newLogin(before));
    await db.asSuperuser(`CREATE TABLE by_clone (id int)`);
    await db.asSuperuser(`ALTER TABLE by_clone OWNER TO ${cloneOf(before)}`);
    const after = newUser();
    await run(db, after, newLogin(after), [before]);
    expect(await ownedBy(db, cloneOf(before))).toEqual([]);
    expect(await ownedBy(db, after)).toEqual(['table by_clone']);
  });
});
