/**
 * Behind RDS Proxy (`database.proxy` in the construct) the container gets `DB_IAM_AUTH=true` and no password: each new
 * connection presents an IAM authentication token that the task role signs. Documented behaviour relied on (RDS User
 * Guide, "Connecting to your DB instance using IAM authentication"): the token is a SigV4-presigned request for
 * `rds-db:connect` on `<host>:<port>/?Action=connect&DBUser=<user>`, valid 15 minutes, used as the password over TLS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Signer } from '@aws-sdk/rds-signer';
import { Client } from 'pg';
import { QueryTypes } from 'sequelize';
import { createTestDatabase, TestDatabase } from './support';
import { ConfigError, DatabaseConfig, loadConfig } from '../src/config';
import { openDatabase, passwordSource, pgConnection } from '../src/db';
import { migrateWithLock } from '../src/migrator';

const IAM_ENV = {
  NODE_ENV: 'production',
  DB_HOST: 'proxy.proxy-abc.us-east-1.rds.amazonaws.com',
  DB_PORT: '5432',
  DB_NAME: 'app',
  DB_USER: 'app_user',
  DB_IAM_AUTH: 'true',
  AWS_REGION: 'us-east-1',
};

describe('configuration', () => {
  test('DB_IAM_AUTH=true: no password, TLS, the task region', () => {
    expect(loadConfig(IAM_ENV).database).toMatchObject({
      host: IAM_ENV.DB_HOST,
      user: 'app_user',
      password: '',
      ssl: 'require',
      iamAuthentication: { region: 'us-east-1' },
    });
  });

  test.each([
    [{ DB_PASSWORD: 'x' }, 'DB_IAM_AUTH: is true, so DB_PASSWORD must not be set'],
    [{ DB_SSL: 'disable' }, 'DB_SSL: must be require with DB_IAM_AUTH=true'],
    [{ AWS_REGION: '' }, 'AWS_REGION: is required with DB_IAM_AUTH=true'],
    [{ DB_IAM_AUTH: 'yes' }, 'DB_IAM_AUTH: must be one of true, false, got "yes"'],
  ])('%j is refused with the variable named', (change, message) => {
    expect(() => loadConfig({ ...IAM_ENV, ...change })).toThrow(ConfigError);
    expect(() => loadConfig({ ...IAM_ENV, ...change })).toThrow(message);
  });

  test('DB_IAM_AUTH with DATABASE_URL is refused', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/d', DB_IAM_AUTH: 'true' })).toThrow(
      'DB_IAM_AUTH: works with the DB_* variables, not with DATABASE_URL',
    );
  });

  test('without DB_IAM_AUTH the password is used as it is', () => {
    const config = loadConfig({ ...IAM_ENV, DB_IAM_AUTH: undefined, DB_PASSWORD: 'pw' }).database!;
    expect(config.iamAuthentication).toBeUndefined();
    expect(passwordSource(config)).toBe('pw');
  });
});

describe('the token', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('is signed by the SDK for rds-db:connect as the user on the proxy endpoint, valid 15 minutes', async () => {
    // Static credentials stand in for the task role's: signing is local, nothing is sent.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session',
    });
    const source = passwordSource(loadConfig(IAM_ENV).database!);
    expect(typeof source).toBe('function');
    const token = await (source as () => Promise<string>)();
    expect(token.startsWith(`${IAM_ENV.DB_HOST}:5432/?`)).toBe(true);
    const query = new URLSearchParams(token.slice(token.indexOf('?') + 1));
    expect(query.get('Action')).toBe('connect');
    expect(query.get('DBUser')).toBe('app_user');
    expect(query.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(query.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/rds-db\/aws4_request$/);
    expect(query.get('X-Amz-Expires')).toBe('900');
    expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the app signs a token for each new connection, on PostgreSQL over TLS', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());
  afterEach(() => jest.restoreAllMocks());

  test('Sequelize, the read pool and the migration lock all connect with the token as the password', async () => {
    // The test server cannot verify IAM tokens: the "token" here is the login's password, so a connection succeeds
    // only if the signer's answer is what reached the server as the password.
    const sign = jest.spyOn(Signer.prototype, 'getAuthToken').mockResolvedValue(db.config.password);
    const config: DatabaseConfig = { ...db.config, password: '', iamAuthentication: { region: 'us-east-1' } };
    const database = openDatabase(config);
    try {
      await migrateWithLock(database.sequelize, config);
      const rows = await database.sequelize.query<{ n: number }>('SELECT 1 AS n', { type: QueryTypes.SELECT });
      expect(rows).toEqual([{ n: 1 }]);
      const read = await database.readPool.query('SELECT current_user AS u');
      expect(read.rows).toEqual([{ u: db.config.user }]);
      // One token per connection opened: Sequelize's, the read pool's and the migration lock's own.
      expect(sign.mock.calls.length).toBeGreaterThanOrEqual(3);
    } finally {
      await database.close();
    }
  });

  test('a token the server refuses fails the connection (no fallback to an empty password)', async () => {
    jest.spyOn(Signer.prototype, 'getAuthToken').mockResolvedValue('not-the-token');
    const config: DatabaseConfig = { ...db.config, password: '', iamAuthentication: { region: 'us-east-1' } };
    const database = openDatabase(config);
    try {
      await expect(database.readPool.query('SELECT 1')).rejects.toThrow(/password authentication failed/);
      await expect(database.sequelize.authenticate()).rejects.toThrow(/password authentication failed/);
    } finally {
      await database.close();
    }
  });
});

describe('DB_READ_HOST: the hot read path on the Aurora readers', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());
  afterEach(() => jest.restoreAllMocks());

  test('is read from the environment, and absent without it', () => {
    expect(loadConfig({ ...IAM_ENV, DB_READ_HOST: 'cluster-ro.example' }).database!.readHost).toBe(
      'cluster-ro.example',
    );
    expect(loadConfig(IAM_ENV).database!.readHost).toBeUndefined();
  });

  test('the read pool connects to the reader host and Sequelize to the writer; both work on the same server', async () => {
    // The test server's certificate names both localhost and 127.0.0.1: the writer is one name, the "reader" the other.
    expect(db.config.host).toBe('127.0.0.1');
    const database = openDatabase({ ...db.config, readHost: 'localhost' });
    try {
      expect((database.readPool as any).options.host).toBe('localhost');
      expect((await database.readPool.query('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
      const [[row]] = (await database.sequelize.query('SELECT 2 AS n')) as [{ n: number }[], unknown];
      expect(row).toEqual({ n: 2 });
      expect((database.sequelize as any).config.host).toBe('127.0.0.1');
    } finally {
      await database.close();
    }
  });

  test('with IAM authentication the read pool signs its tokens for the reader host, Sequelize for the writer', async () => {
    const hosts: string[] = [];
    jest.spyOn(Signer.prototype, 'getAuthToken').mockImplementation(async function (this: Signer) {
      hosts.push((this as unknown as { hostname: string }).hostname);
      return db.config.password;
    });
    const database = openDatabase({
      ...db.config,
      password: '',
      readHost: 'localhost',
      iamAuthentication: { region: 'us-east-1' },
    });
    try {
      await database.readPool.query('SELECT 1');
      await database.sequelize.query('SELECT 1');
      expect(new Set(hosts)).toEqual(new Set(['localhost', '127.0.0.1']));
    } finally {
      await database.close();
    }
  });
});

describe('DB_CA_FILE: several CA files, as the image lists the RDS bundle and Amazon Root CA 1 (for RDS Proxy)', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ca-'));
    // A real CA that did not sign the test server's certificate (the first of Node's bundled roots).
    writeFileSync(path.join(dir, 'other-ca.pem'), tls.rootCertificates[0]);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  const connects = async (caFile: string) => {
    const client = new Client({ ...pgConnection({ ...db.config, caFile }), connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      return (await client.query('SELECT 1 AS n')).rows[0].n === 1;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  test('the server is verified when its CA is one of the listed files, and refused when it is none of them', async () => {
    expect(db.config.ssl).toBe('require');
    const other = path.join(dir, 'other-ca.pem');
    expect(await connects(`${other}:${db.config.caFile}`)).toBe(true);
    expect(await connects(`${db.config.caFile}:${other}`)).toBe(true);
    expect(await connects(other)).toBe(false);
  });
});
