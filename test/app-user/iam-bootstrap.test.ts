/**
 * The app-user bootstrap behind RDS Proxy (`database.proxy`), on the PostgreSQL major the construct deploys, with TLS
 * and passwords as on RDS. There the app authenticates with IAM end to end, so the bootstrap gets no app secret: it
 * must leave the user a member of `rds_iam` with no password, probe its privileges without its login, and turn a
 * setup that had passwords (the clone of the alternating-users rotation) into one with no password left.
 *
 * RDS behaviour modelled: `rds_iam` is a NOLOGIN role the master user may grant; a member of it can log in only
 * with an IAM token ("Creating a database account using IAM authentication", RDS User Guide: `GRANT rds_iam TO
 * db_userx`). The test server has no IAM, so the tests assert the membership and that no password is left.
 */
import { randomBytes } from 'crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { newUser, sqlRequestFor } from './handover-fixtures';
import { onEvent } from '../../src/database/app-user/bootstrap';
import { runSql, SqlRequest } from '../../src/database/app-user/sql';
import { cloneOf } from '../../src/database/app-user/statements';
import { canLogIn } from '../../tools/rotation-simulation';
import { createMasterDatabase, MasterDatabase, ScramServer, startScramServer } from '../../tools/scram-postgres';
import { invokePayload } from '../helpers';

let server: ScramServer;
beforeAll(async () => {
  server = await startScramServer();
});
afterAll(() => server?.stop());

const MASTER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:master';

interface Role {
  readonly login: boolean;
  readonly hasPassword: boolean;
  readonly rdsIam: boolean;
}

async function role(db: MasterDatabase, name: string): Promise<Role | undefined> {
  const rows = await db.asSuperuser<{ login: boolean; has_password: boolean; rds_iam: boolean }>(
    `SELECT rolcanlogin AS login, rolpassword IS NOT NULL AS has_password,
            pg_has_role(rolname, 'rds_iam', 'MEMBER') AS rds_iam
       FROM pg_authid WHERE rolname = $1`,
    [name],
  );
  return rows[0] && { login: rows[0].login, hasPassword: rows[0].has_password, rdsIam: rows[0].rds_iam };
}

async function setup(): Promise<{ db: MasterDatabase; request: SqlRequest }> {
  const db = await createMasterDatabase(server, { rdsIam: true });
  return { db, request: sqlRequestFor(db, newUser()) };
}

const tls = () => ({ ssl: true, ca: server.ca });

test('without an app secret the SQL function makes the user a member of rds_iam with no password, and no clone', async () => {
  const { db, request } = await setup();
  const result = await runSql(request, tls());
  expect(result).toMatchObject({ superuser: false, createRole: false, memberOfAdmin: false, passwordSet: false });
  expect(result.createRoleRefused).toBe(true);
  expect(await role(db, request.username)).toEqual({ login: true, hasPassword: false, rdsIam: true });
  expect(await role(db, cloneOf(request.username))).toBeUndefined();
  // Idempotent: a second deployment finds it as it left it.
  await runSql(request, tls());
  expect(await role(db, request.username)).toEqual({ login: true, hasPassword: false, rdsIam: true });
});

test('the app user created this way can use the database it was granted (as the proxy logs it in)', async () => {
  const { db, request } = await setup();
  await runSql(request, tls());
  // The proxy's login is an IAM token; the test takes the app's role in a superuser session instead.
  const session = new Client({
    host: server.host,
    port: server.port,
    database: request.databaseName,
    user: 'postgres',
    password: server.superuser.password,
    ssl: server.tls,
  });
  await session.connect();
  try {
    await session.query(`SET ROLE "${request.username}"`);
    await session.query('CREATE TABLE t (id int)');
    await session.query('INSERT INTO t VALUES (1)');
    expect((await session.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 1 }]);
    await expect(session.query('CREATE ROLE intruder')).rejects.toMatchObject({ code: '42501' });
  } finally {
    await session.end();
  }
  const owner = await db.asSuperuser<{ owner: string }>(
    "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 't'",
  );
  expect(owner).toEqual([{ owner: request.username }]);
});

test('moving a password setup behind the proxy removes every password: the clone can no longer log in', async () => {
  const { db, request } = await setup();
  const current = { username: request.username, password: randomBytes(18).toString('base64url') };
  const clone = { username: cloneOf(request.username), password: randomBytes(18).toString('base64url') };
  await runSql({ ...request, current }, tls());
  // A rotation gave the clone its password.
  await db.asSuperuser(`ALTER ROLE "${clone.username}" WITH PASSWORD '${clone.password}'`);
  expect(await canLogIn(db.endpoint, current)).toBe(true);
  expect(await canLogIn(db.endpoint, clone)).toBe(true);

  await runSql(request, tls());
  expect(await role(db, request.username)).toEqual({ login: true, hasPassword: false, rdsIam: true });
  expect(await role(db, clone.username)).toEqual({ login: false, hasPassword: false, rdsIam: true });
  expect(await canLogIn(db.endpoint, current)).toBe(false);
  expect(await canLogIn(db.endpoint, clone)).toBe(false);
});

test('moving back to passwords revokes rds_iam (on RDS it would disable the password) and sets the password', async () => {
  const { db, request } = await setup();
  await runSql(request, tls());
  const current = { username: request.username, password: randomBytes(18).toString('base64url') };
  const result = await runSql({ ...request, current }, tls());
  expect(result.passwordSet).toBe(true);
  expect(await role(db, request.username)).toEqual({ login: true, hasPassword: true, rdsIam: false });
  expect(await canLogIn(db.endpoint, current)).toBe(true);
});

test('a server without rds_iam fails the deployment with what is missing, and leaves no user behind', async () => {
  const db = await createMasterDatabase(server);
  const username = newUser();
  const request = sqlRequestFor(db, username);
  const exists = await db.asSuperuser("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'");
  if (exists.length > 0) await db.asSuperuser('ALTER ROLE rds_iam RENAME TO rds_iam_hidden');
  try {
    await expect(runSql(request, tls())).rejects.toThrow(
      'the role rds_iam does not exist: IAM database authentication (database.proxy) needs RDS for PostgreSQL',
    );
  } finally {
    if (exists.length > 0) await db.asSuperuser('ALTER ROLE rds_iam_hidden RENAME TO rds_iam');
  }
  expect(await role(db, username)).toBeUndefined();
});

describe('the bootstrap handler without an app secret', () => {
  const smMock = mockClient(SecretsManagerClient);
  const lambdaMock = mockClient(LambdaClient);
  const clients = { sm: new SecretsManagerClient({}), lambda: new LambdaClient({}), cfn: new CloudFormationClient({}) };
  afterEach(() => {
    smMock.reset();
    lambdaMock.reset();
  });

  test('reads only the master secret, finds the database by Host and Port, and the user ends with rds_iam', async () => {
    const { db, request } = await setup();
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: JSON.stringify(db.master) });
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
      .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
    let sent: SqlRequest | undefined;
    lambdaMock.on(InvokeCommand).callsFake(async (input) => {
      sent = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) as SqlRequest;
      return { Payload: invokePayload(JSON.stringify(await runSql(sent, tls()))) };
    });
    const result = await onEvent(clients, {
      RequestType: 'Create',
      ResourceProperties: {
        MasterSecretArn: MASTER,
        SqlFunctionName: 'sql',
        DatabaseName: request.databaseName,
        Username: request.username,
        Host: request.host,
        Port: String(request.port),
      },
    });
    expect(result.Data).toMatchObject({ createRoleRefused: 'true', passwordSet: 'false', superuser: 'false' });
    expect(sent).toMatchObject({ host: request.host, port: request.port });
    expect(sent).not.toHaveProperty('current');
    const read = smMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(new Set(read)).toEqual(new Set([MASTER]));
    expect(await role(db, request.username)).toEqual({ login: true, hasPassword: false, rdsIam: true });
  });

  test('without an app secret and without Host it fails before touching anything', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'm', password: 'p' }) });
    await expect(
      onEvent(clients, {
        RequestType: 'Create',
        ResourceProperties: { MasterSecretArn: MASTER, SqlFunctionName: 'sql', DatabaseName: 'app', Username: 'app' },
      }),
    ).rejects.toThrow('the bootstrap needs the app secret or the Host property to find the database');
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
