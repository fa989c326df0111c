import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from './support';
import { pgConnection } from '../src/db';

/**
 * The server the suites run on is the database as the construct deploys it: PostgreSQL 17 (the construct's default
 * engine version), TLS required on every connection (`rds.force_ssl=1`), the server verified against a CA file the
 * way the image verifies RDS against its bundle, and an app login that is not a superuser.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function connect(options: ConstructorParameters<typeof Client>[0]): Promise<Client> {
  const client = new Client({ ...(options as object), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

test('the app connects to PostgreSQL 17 over TLS, as its own login that is not a superuser', async () => {
  const client = await connect(pgConnection(db.config));
  try {
    const { rows } = await client.query(
      `SELECT current_setting('server_version_num')::int / 10000 AS major, s.ssl, r.rolsuper
         FROM pg_stat_ssl s, pg_roles r WHERE s.pid = pg_backend_pid() AND r.rolname = current_user`,
    );
    expect(rows).toEqual([{ major: 17, ssl: true, rolsuper: false }]);
  } finally {
    await client.end();
  }
  expect([db.config.ssl, db.config.caFile]).toEqual(['require', expect.stringMatching(/\.crt$/)]);
});

test('a connection without TLS is refused before authentication', async () => {
  await expect(connect({ ...pgConnection(db.config), ssl: false })).rejects.toThrow(/no encryption/);
});

test('a client that does not trust the CA refuses the server certificate', async () => {
  await expect(connect({ ...pgConnection(db.config), ssl: { rejectUnauthorized: true } })).rejects.toThrow(
    /unable to verify the first certificate|self[- ]signed certificate|unable to get local issuer certificate/,
  );
});
