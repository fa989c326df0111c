import { randomBytes } from 'crypto';
import { Client } from 'pg';
import type { SqlRequest } from '../../src/database/app-user/sql';
import { ensureAppUser } from '../../src/database/app-user/statements';
import { canLogIn } from '../../tools/rotation-simulation';
import { createMasterDatabase, MasterDatabase, ScramServer } from '../../tools/scram-postgres';

/** What the handover suites share: the master's schema, the app's next migration, and how to run the bootstrap. */

export const newLogin = (username: string) => ({ username, password: randomBytes(24).toString('base64url') });
export const newUser = () => `app_${randomBytes(3).toString('hex')}`;

export async function run(
  db: MasterDatabase,
  username: string,
  login: { username: string; password: string },
  previousUsernames?: string[],
) {
  const master = await db.connect(db.master);
  try {
    const works = await canLogIn(db.endpoint, login);
    return await ensureAppUser(
      master,
      { databaseName: db.endpoint.database, username, previousUsernames },
      login,
      works,
    );
  } finally {
    await master.end();
  }
}

/** Everything the master built for the app: one of each kind a migration tool makes. */
export const MASTER_SCHEMA = `
  CREATE TYPE mood AS ENUM ('sad', 'happy');
  CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
  CREATE TYPE money_pair AS (amount numeric, currency text);
  CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, mood mood) PARTITION BY RANGE (at);
  CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE counters (id serial PRIMARY KEY, n positive);
  CREATE SEQUENCE invoice_numbers;
  CREATE VIEW happy_events AS SELECT * FROM events WHERE mood = 'happy';
  CREATE MATERIALIZED VIEW event_counts AS SELECT at, count(*) AS n FROM events GROUP BY at;
  CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2';
  CREATE PROCEDURE reset_counters() LANGUAGE sql AS 'DELETE FROM counters';
  CREATE SCHEMA billing;
  CREATE TABLE billing.invoices (id int PRIMARY KEY, total money_pair);
`;

/** What the app's migrations do next: each statement needs ownership (or privileges) of one kind of object. */
export const APP_MIGRATION = [
  "ALTER TYPE mood ADD VALUE 'calm'",
  'ALTER DOMAIN positive SET DEFAULT 1',
  'ALTER TYPE money_pair ADD ATTRIBUTE note text',
  "INSERT INTO events (at, mood) VALUES ('2026-06-01', 'happy')",
  'ALTER TABLE events ADD COLUMN source text',
  "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
  'INSERT INTO counters (n) VALUES (3)',
  "SELECT nextval('invoice_numbers')",
  'SELECT count(*) FROM happy_events',
  'REFRESH MATERIALIZED VIEW event_counts',
  'CREATE OR REPLACE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS $$SELECT x + x$$',
  'CALL reset_counters()',
  'CREATE OR REPLACE PROCEDURE reset_counters() LANGUAGE sql AS $$TRUNCATE counters$$',
  'CREATE TABLE billing.payments (id int)',
  'ALTER TABLE billing.invoices ADD COLUMN paid boolean',
];

export async function migrateAs(db: MasterDatabase, login: { username: string; password: string }): Promise<string[]> {
  const app: Client = await db.connect(login);
  const failures: string[] = [];
  try {
    for (const statement of APP_MIGRATION) {
      await app.query(statement).catch((e: Error) => failures.push(`${statement}: ${e.message}`));
    }
  } finally {
    await app.end();
  }
  return failures;
}

/** Objects in the app's database still owned by `role`, as pg_shdepend records ownership. */
export async function ownedBy(db: MasterDatabase, role: string): Promise<string[]> {
  const rows = await db.asSuperuser<{ what: string }>(
    `SELECT pg_describe_object(classid, objid, objsubid) AS what FROM pg_shdepend
      WHERE deptype = 'o' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1`,
    [role],
  );
  return rows.map((r) => r.what);
}

/** A database in which the master built MASTER_SCHEMA. */
export async function databaseWithMasterSchema(server: ScramServer): Promise<MasterDatabase> {
  const db = await createMasterDatabase(server);
  const admin = await db.connect(db.master);
  await admin.query(MASTER_SCHEMA);
  await admin.end();
  return db;
}

/** A database whose app user (`first`) created a table `orders`, then renamed to `second` by the bootstrap. */
export async function renamedAfterOrders(server: ScramServer) {
  const db = await createMasterDatabase(server);
  const first = newUser();
  const firstLogin = newLogin(first);
  await run(db, first, firstLogin);
  const app = await db.connect(firstLogin);
  await app.query('CREATE TABLE orders (id int)');
  await app.end();
  const second = newUser();
  await run(db, second, newLogin(second), [first]);
  return { db, first, firstLogin, second };
}

/** What the bootstrap hands the SQL function for a database on the test server: its master, and no app login yet. */
export function sqlRequestFor(db: MasterDatabase, username: string): SqlRequest {
  return {
    host: db.endpoint.host,
    port: db.endpoint.port,
    databaseName: db.endpoint.database,
    username,
    masterLogins: [db.master],
  };
}
