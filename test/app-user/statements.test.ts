import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { cloneOf, ensureAppUser, scramVerifier, SqlClient } from '../../src/database/app-user/statements';
import { canLogIn, rotate } from '../../tools/rotation-simulation';
import {
  createMasterDatabase,
  MasterDatabase,
  ScramServer,
  startScramServer,
  TEST_POSTGRES_MAJOR,
} from '../../tools/scram-postgres';

let server: ScramServer;
beforeAll(async () => {
  server = await startScramServer();
});
afterAll(() => server?.stop());

/** A master connection that records every statement it runs. */
async function recordingMaster(db: MasterDatabase): Promise<{ client: Client & SqlClient; statements: string[] }> {
  const client = await db.connect(db.master);
  const statements: string[] = [];
  const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<any>;
  (client as any).query = (text: string, values?: unknown[]) => {
    statements.push(text);
    return query(text, values);
  };
  return { client, statements };
}

async function bootstrap(db: MasterDatabase, username: string, login: { username: string; password: string }) {
  const { client, statements } = await recordingMaster(db);
  try {
    const works = await canLogIn(db.endpoint, login);
    const report = await ensureAppUser(client, { databaseName: db.endpoint.database, username }, login, works);
    return { report, statements };
  } finally {
    await client.end();
  }
}

const newLogin = (username: string) => ({ username, password: randomBytes(24).toString('base64url') });

describe('ensureAppUser on a PostgreSQL with password authentication, run by a master user that is not a superuser', () => {
  test('creates the app login and its clone: neither is superuser or can create roles or databases; only the app logs in', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    const { report } = await bootstrap(db, user, login);
    expect(report).toEqual({
      superuser: false,
      createRole: false,
      createDatabase: false,
      replication: false,
      bypassRls: false,
      memberOfAdmin: false,
      passwordSet: true,
      objectsHandedOver: 0,
    });
    expect(await canLogIn(db.endpoint, login)).toBe(true);
    expect(await canLogIn(db.endpoint, { username: user, password: 'wrong' })).toBe(false);
    // The clone exists without a password until a rotation gives it one.
    expect(
      await canLogIn(db.endpoint, { username: cloneOf(user), password: randomBytes(24).toString('base64url') }),
    ).toBe(false);
    const roles = await db.asSuperuser(
      'SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1',
      [[user, cloneOf(user)]],
    );
    expect(roles).toEqual([
      { rolname: user, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true },
      { rolname: cloneOf(user), rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true },
    ]);
  });

  test('the app user runs DDL and DML in public but cannot create roles or databases or read what the master keeps in another database', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    // The app's database is the app's (the bootstrap hands it everything there): the master keeps its own elsewhere.
    const adminDatabase = `${db.endpoint.database}_admin`;
    await db.asSuperuser(`CREATE DATABASE ${adminDatabase} OWNER ${db.master.username}`);
    const admin = new Client({
      ...db.endpoint,
      database: adminDatabase,
      user: db.master.username,
      password: db.master.password,
    });
    await admin.connect();
    await admin.query('CREATE SCHEMA admin_only; CREATE TABLE admin_only.secrets (v text)');
    await admin.end();
    await bootstrap(db, user, login);
    const elsewhere = new Client({ ...db.endpoint, database: adminDatabase, user, password: login.password });
    await elsewhere.connect();
    try {
      await expect(elsewhere.query('SELECT * FROM admin_only.secrets')).rejects.toThrow(/permission denied/);
    } finally {
      await elsewhere.end();
    }
    const app = await db.connect(login);
    try {
      await app.query('CREATE TABLE items (id serial PRIMARY KEY, name text)');
      await app.query("INSERT INTO items (name) VALUES ('a')");
      await app.query('ALTER TABLE items ADD COLUMN note text');
      expect((await app.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(1);
      await expect(app.query('CREATE ROLE intruder')).rejects.toThrow(/permission denied/);
      await expect(app.query('CREATE DATABASE intruder')).rejects.toThrow(/permission denied/);
      await expect(app.query(`ALTER ROLE ${user} CREATEROLE`)).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
  });

  test('runs again without changes: no password statement when the current login works, and never the password in a statement', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    const first = await bootstrap(db, user, login);
    expect(first.statements.some((s) => /PASSWORD 'SCRAM-SHA-256\$4096:/.test(s))).toBe(true);
    expect(first.statements.some((s) => s.includes(login.password))).toBe(false);
    const second = await bootstrap(db, user, login);
    expect(second.report.passwordSet).toBe(false);
    expect(second.statements.some((s) => /PASSWORD/.test(s))).toBe(false);
    expect(await canLogIn(db.endpoint, login)).toBe(true);
  });

  test('objects the clone creates belong to the app user, so migrations work whichever login the rotation made current', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const secret = { current: newLogin(user) } as { current: { username: string; password: string } };
    await bootstrap(db, user, secret.current);
    await rotate(db.endpoint, db.master, secret);
    expect(secret.current.username).toBe(cloneOf(user));
    const clone = await db.connect(secret.current);
    await clone.query('CREATE TABLE made_by_clone (id int)');
    await clone.end();
    const [{ owner }] = await db.asSuperuser(
      "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'made_by_clone'",
    );
    expect(owner).toBe(user);
    await rotate(db.endpoint, db.master, secret);
    expect(secret.current.username).toBe(user);
    const app = await db.connect(secret.current);
    await app.query('ALTER TABLE made_by_clone ADD COLUMN name text');
    await app.end();
  });

  test('hands the tables the master user created in public (before the app had a user) over to the app user', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    const admin = await db.connect(db.master);
    await admin.query(
      'CREATE TABLE legacy (id serial PRIMARY KEY, v text); CREATE VIEW legacy_v AS SELECT v FROM legacy',
    );
    await admin.end();
    const { report } = await bootstrap(db, user, login);
    expect(report.objectsHandedOver).toBe(2);
    const app = await db.connect(login);
    await app.query("INSERT INTO legacy (v) VALUES ('x')");
    await app.query('ALTER TABLE legacy ADD COLUMN w text');
    await app.end();
    const owners = await db.asSuperuser(
      "SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1",
    );
    expect(new Set(owners.map((o) => o.owner))).toEqual(new Set([user]));
  });

  test('refuses a secret whose username is neither the app user nor its clone, and changes nothing', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    await expect(bootstrap(db, user, newLogin('someone_else'))).rejects.toThrow(/"someone_else" is neither/);
    expect(await db.asSuperuser('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).toEqual([]);
  });

  test('the app user can never be made a member of the master user: PostgreSQL 16 and later refuse the cycle', async () => {
    const db = await createMasterDatabase(server);
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    await bootstrap(db, user, login);
    // The master created the app user, so it is a member of it (with ADMIN OPTION): the reverse would be a cycle.
    await expect(db.asSuperuser(`GRANT ${db.master.username} TO ${user}`)).rejects.toThrow(/is a member of role/);
    const [{ version }] = await db.asSuperuser("SELECT current_setting('server_version_num')::int AS version");
    expect(version).toBeGreaterThanOrEqual(TEST_POSTGRES_MAJOR * 10000);
  });

  test('fails the deployment and rolls back when the app user was made a member of rds_superuser in the meantime', async () => {
    const db = await createMasterDatabase(server);
    await db.asSuperuser(
      'DO $$ BEGIN CREATE ROLE rds_superuser NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$',
    );
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    await bootstrap(db, user, login);
    await db.asSuperuser(`GRANT rds_superuser TO ${user}`);
    const admin = await db.connect(db.master);
    await admin.query('CREATE TABLE created_meanwhile (id int)');
    await admin.end();
    await expect(bootstrap(db, user, login)).rejects.toThrow(/must not have memberOfAdmin \(member of rds_superuser\)/);
    const [{ owner }] = await db.asSuperuser(
      "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'created_meanwhile'",
    );
    expect(owner).toBe(db.master.username);
  });
});

describe('the privilege check refuses every role that reads or writes all data or the server', () => {
  test.each([
    'rds_superuser',
    'pg_read_all_data',
    'pg_write_all_data',
    'pg_read_server_files',
    'pg_write_server_files',
    'pg_execute_server_program',
  ])('membership in %s (directly or through the clone) fails the deployment, naming the role', async (role) => {
    const db = await createMasterDatabase(server);
    // RDS's rds_superuser exists on every RDS instance; the harness makes one like it (cluster-wide, once).
    if (role === 'rds_superuser') {
      await db.asSuperuser(
        'DO $$ BEGIN CREATE ROLE rds_superuser NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$',
      );
    }
    const user = `app_${randomBytes(3).toString('hex')}`;
    const login = newLogin(user);
    await bootstrap(db, user, login);
    await db.asSuperuser(`GRANT ${role} TO ${cloneOf(user)}`);
    await expect(bootstrap(db, user, login)).rejects.toThrow(
      new RegExp(`^the app user must not have memberOfAdmin \\(member of ${role}\\)$`),
    );
  });
});

describe('scramVerifier', () => {
  test('matches the RFC 7677 test vector (user "user", password "pencil")', () => {
    // RFC 7677 section 3: salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
    const verifier = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    expect(verifier).toBe(
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
  });
});

describe('the rotation harness tells a refused login from a broken connection', () => {
  test('a refused password is false; a server that is not there is an error, never "refused"', async () => {
    const db = await createMasterDatabase(server);
    expect(await canLogIn(db.endpoint, { username: db.master.username, password: 'not-the-password' })).toBe(false);
    expect(await canLogIn(db.endpoint, db.master)).toBe(true);
    await expect(
      canLogIn({ ...db.endpoint, port: 1 }, { username: db.master.username, password: db.master.password }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  test('the server is PostgreSQL 17 and requires TLS: a plain connection is refused, and so is a server the client cannot verify', async () => {
    const db = await createMasterDatabase(server);
    const app = await db.connect(db.master);
    const { rows } = await app.query(
      "SELECT current_setting('server_version_num')::int AS version, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    await app.end();
    expect(Math.floor(rows[0].version / 10000)).toBe(TEST_POSTGRES_MAJOR);
    expect(rows[0].ssl).toBe(true);
    await expect(canLogIn({ ...db.endpoint, ssl: undefined }, db.master)).rejects.toThrow(/no encryption/);
    // A client that trusts only its system CAs refuses the test CA's certificate, as the app would refuse an impostor.
    await expect(canLogIn({ ...db.endpoint, ssl: { rejectUnauthorized: true } }, db.master)).rejects.toThrow(
      /self-signed certificate|unable to verify|unable to get local issuer/,
    );
  });
});
