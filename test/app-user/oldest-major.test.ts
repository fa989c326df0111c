import {
  databaseWithMasterSchema,
  migrateAs,
  newLogin,
  newUser,
  ownedBy,
  renamedAfterOrders,
  run,
} from './handover-fixtures';
import { cloneOf } from '../../src/database/app-user/statements';
import { canLogIn, rotate } from '../../tools/rotation-simulation';
import { createMasterDatabase, OLDEST_POSTGRES_MAJOR, ScramServer, startScramServer } from '../../tools/scram-postgres';

/**
 * The bootstrap, the handover and the alternating-users rotation on the oldest PostgreSQL major the construct accepts
 * (14), where roles work differently from 16 on: a CREATEROLE master is not made a member of the roles it creates,
 * and the public schema is not owned by pg_database_owner. Same TLS and scram setup as the suites on 17.
 */
let server: ScramServer;
beforeAll(async () => {
  server = await startScramServer({ major: OLDEST_POSTGRES_MAJOR });
});
afterAll(() => server?.stop());

test(`the server is PostgreSQL ${OLDEST_POSTGRES_MAJOR} and requires TLS`, async () => {
  const db = await createMasterDatabase(server);
  const [row] = await db.asSuperuser(
    "SELECT current_setting('server_version_num')::int / 10000 AS major, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
  );
  expect(row).toEqual({ major: OLDEST_POSTGRES_MAJOR, ssl: true });
  await expect(canLogIn({ ...db.endpoint, ssl: undefined }, db.master)).rejects.toThrow(/no encryption/);
});

test('the bootstrap hands over what the master built, and the app migrates as itself and as its clone after rotations', async () => {
  const db = await databaseWithMasterSchema(server);
  const user = newUser();
  const secret = { current: newLogin(user) };
  const report = await run(db, user, secret.current);
  expect(report).toMatchObject({ superuser: false, createRole: false, memberOfAdmin: false, passwordSet: true });
  expect(report.objectsHandedOver).toBeGreaterThan(10);
  expect(await ownedBy(db, db.master.username)).toEqual([]);
  expect(await migrateAs(db, secret.current)).toEqual([]);
  // Two rotations: the clone takes over, then the app user again; each logs in and runs DDL on the handed-over objects.
  await rotate(db.endpoint, db.master, secret);
  expect(secret.current.username).toBe(cloneOf(user));
  const clone = await db.connect(secret.current);
  await clone.query('ALTER TABLE counters ADD COLUMN made_by_clone boolean');
  await clone.end();
  await rotate(db.endpoint, db.master, secret);
  expect(secret.current.username).toBe(user);
  expect(await canLogIn(db.endpoint, secret.current)).toBe(true);
});

test('renaming the app user hands everything to the new user and keeps the previous login working', async () => {
  const { db, firstLogin, second } = await renamedAfterOrders(server);
  expect(await ownedBy(db, second)).toEqual(['table orders']);
  const old = await db.connect(firstLogin);
  await old.query('INSERT INTO orders VALUES (1)');
  await old.end();
});
