import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { newLogin, newUser, sqlRequestFor } from './handover-fixtures';
import { BootstrapEvent, BootstrapProperties, onEvent } from '../../src/database/app-user/bootstrap';
import { redeploy } from '../../src/database/app-user/redeploy';
import { createRoleIsRefused, runSql, SqlRequest } from '../../src/database/app-user/sql';
import { CurrentLogin } from '../../src/database/app-user/statements';
import { canLogIn, Endpoint } from '../../tools/rotation-simulation';
import { createMasterDatabase, ScramServer, startScramServer } from '../../tools/scram-postgres';
import { invokePayload } from '../helpers';

const smMock = mockClient(SecretsManagerClient);
const lambdaMock = mockClient(LambdaClient);
const ecsMock = mockClient(ECSClient);
const sm = new SecretsManagerClient({ region: 'us-east-1' });
const lambda = new LambdaClient({ region: 'us-east-1' });
const ecs = new ECSClient({ region: 'us-east-1' });
const clients = { sm, lambda, cfn: new CloudFormationClient({ region: 'us-east-1' }) };

const MASTER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf';
const APP = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-GhIjKl';
const properties: BootstrapProperties = {
  MasterSecretArn: MASTER,
  AppSecretArn: APP,
  SqlFunctionName: 'api-app-user-sql',
  DatabaseName: 'app',
  Username: 'app_user',
};
const appSecret = { username: 'app_user', password: 'app-pw', host: 'db.example', port: 5432, masterarn: MASTER };
const masterSecret = { username: 'app_admin', password: 'master-pw', host: 'db.example', port: 5432 };
const report = {
  superuser: false,
  createRole: false,
  createDatabase: false,
  replication: false,
  bypassRls: false,
  memberOfAdmin: false,
  passwordSet: true,
  objectsHandedOver: 0,
};

function secrets(pendingMaster?: object) {
  smMock
    .on(GetSecretValueCommand, { SecretId: APP, VersionStage: 'AWSCURRENT' })
    .resolves({ SecretString: JSON.stringify(appSecret) });
  smMock
    .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSCURRENT' })
    .resolves({ SecretString: JSON.stringify(masterSecret) });
  if (pendingMaster) {
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
      .resolves({ SecretString: JSON.stringify(pendingMaster) });
  } else {
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
      .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
  }
}

const payloadOf = (call: number) =>
  JSON.parse(
    Buffer.from(lambdaMock.commandCalls(InvokeCommand)[call].args[0].input.Payload as Uint8Array).toString('utf8'),
  );

beforeEach(() => {
  smMock.reset();
  lambdaMock.reset();
  ecsMock.reset();
});

describe('bootstrap onEvent', () => {
  test.each(['Create', 'Update'] as const)(
    '%s hands the current app login and the master login to the SQL function and returns its report',
    async (type) => {
      secrets();
      lambdaMock.on(InvokeCommand).resolves({ Payload: invokePayload(JSON.stringify(report)) });
      const result = await onEvent(clients, { RequestType: type, ResourceProperties: properties });
      expect(result.PhysicalResourceId).toBe('app_user@app');
      expect(result.Data).toMatchObject({ superuser: 'false', createRole: 'false', passwordSet: 'true' });
      expect(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.FunctionName).toBe('api-app-user-sql');
      expect(payloadOf(0)).toEqual({
        host: 'db.example',
        port: 5432,
        databaseName: 'app',
        username: 'app_user',
        masterLogins: [{ username: 'app_admin', password: 'master-pw' }],
        current: { username: 'app_user', password: 'app-pw' },
      });
    },
  );

  test('during a master rotation it offers the pending master password after the current one', async () => {
    secrets({ ...masterSecret, password: 'master-pw-next' });
    lambdaMock.on(InvokeCommand).resolves({ Payload: invokePayload(JSON.stringify(report)) });
    await onEvent(clients, { RequestType: 'Update', ResourceProperties: properties });
    expect(payloadOf(0).masterLogins.map((l: { password: string }) => l.password)).toEqual([
      'master-pw',
      'master-pw-next',
    ]);
  });

  test("fails the deployment with the SQL function's error message", async () => {
    secrets();
    lambdaMock.on(InvokeCommand).resolves({
      FunctionError: 'Unhandled',
      Payload: invokePayload(JSON.stringify({ errorMessage: 'the app user must not have superuser' })),
    });
    await expect(onEvent(clients, { RequestType: 'Create', ResourceProperties: properties })).rejects.toThrow(
      'app user bootstrap failed: the app user must not have superuser',
    );
  });

  test('Delete keeps the user and reads no secret', async () => {
    const event: BootstrapEvent = {
      RequestType: 'Delete',
      ResourceProperties: properties,
      PhysicalResourceId: 'app_user@app',
    };
    expect(await onEvent(clients, event)).toEqual({ PhysicalResourceId: 'app_user@app' });
    expect(smMock.calls()).toHaveLength(0);
    expect(lambdaMock.calls()).toHaveLength(0);
  });

  test('refuses a secret without a password, before invoking anything', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'app_user', host: 'db' }) });
    await expect(onEvent(clients, { RequestType: 'Create', ResourceProperties: properties })).rejects.toThrow(
      /must hold username and password/,
    );
    expect(lambdaMock.calls()).toHaveLength(0);
  });
});

describe('SQL function against a PostgreSQL with password authentication', () => {
  let server: ScramServer;
  beforeAll(async () => {
    server = await startScramServer();
  });
  afterAll(() => server?.stop());

  async function request(): Promise<{
    request: SqlRequest & { current: CurrentLogin };
    endpoint: Endpoint;
  }> {
    const db = await createMasterDatabase(server);
    const username = newUser();
    return { endpoint: db.endpoint, request: { ...sqlRequestFor(db, username), current: newLogin(username) } };
  }

  test('first run sets the password, second run finds it working; the app logs in', async () => {
    const { request: r, endpoint } = await request();
    expect(await runSql(r, { ssl: true, ca: server.ca })).toMatchObject({ passwordSet: true, createRoleRefused: true });
    expect((await runSql(r, { ssl: true, ca: server.ca })).passwordSet).toBe(false);
    expect(await canLogIn(endpoint, r.current)).toBe(true);
  });

  test('falls back to the pending master password while a master rotation is half done', async () => {
    const { request: r, endpoint } = await request();
    const stale = { username: r.masterLogins[0].username, password: 'stale-password' };
    await runSql({ ...r, masterLogins: [stale, r.masterLogins[0]] }, { ssl: true, ca: server.ca });
    expect(await canLogIn(endpoint, r.current)).toBe(true);
  });

  test('the create-role probe passes for the app login and fails the deployment for a login that can create roles', async () => {
    const { request: r } = await request();
    await runSql(r, { ssl: true, ca: server.ca });
    expect(await createRoleIsRefused(r, { ssl: true, ca: server.ca })).toBe(true);
    // The master can create roles: as "the app" it must fail the deployment, and its probe role must not remain.
    await expect(
      createRoleIsRefused({ ...r, current: r.masterLogins[0] }, { ssl: true, ca: server.ca }),
    ).rejects.toThrow('the app user could create a role');
    const master = new Client({
      host: r.host,
      port: r.port,
      database: r.databaseName,
      user: r.masterLogins[0].username,
      password: r.masterLogins[0].password,
      ssl: server.tls,
    });
    await master.connect();
    const { rows } = await master.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'probe_%'");
    await master.end();
    expect(rows[0].n).toBe(0);
  });

  test('end to end: the bootstrap handler reads the secrets (mocked) and the SQL function it invokes creates the user', async () => {
    const { request: r, endpoint } = await request();
    const app = { ...r.current, host: r.host, port: r.port, dbname: r.databaseName };
    const master = { ...r.masterLogins[0], host: r.host, port: r.port };
    smMock
      .on(GetSecretValueCommand, { SecretId: APP, VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: JSON.stringify(app) });
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: JSON.stringify(master) });
    smMock
      .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
      .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
    // The Lambda API, played by the SQL function's own code against the local PostgreSQL.
    lambdaMock.on(InvokeCommand).callsFake(async (input) => {
      const sqlRequest = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) as SqlRequest;
      return { Payload: invokePayload(JSON.stringify(await runSql(sqlRequest, { ssl: true, ca: server.ca }))) };
    });
    const result = await onEvent(clients, {
      RequestType: 'Create',
      ResourceProperties: { ...properties, DatabaseName: r.databaseName, Username: r.username },
    });
    expect(result.Data).toMatchObject({ superuser: 'false', createRoleRefused: 'true', passwordSet: 'true' });
    expect(await canLogIn(endpoint, r.current)).toBe(true);
  });

  test('says which master logins failed when none works', async () => {
    const { request: r } = await request();
    const stale = { username: r.masterLogins[0].username, password: 'stale-password' };
    await expect(
      runSql({ ...r, masterLogins: [stale] }, { ssl: true, ca: server.ca, connectTimeoutMs: 3000 }),
    ).rejects.toThrow(/cannot log in as the master user: password authentication failed/);
  });
});

describe('redeploy after a rotation', () => {
  const target = {
    cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/api',
    service: 'api',
    secretArn: APP,
    rotationLambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotation',
    rotationSchedule: 'rate(30 days)',
  };
  const redeployClients = { ecs, sm };
  const labelMoved = (label: string, arn = APP) => ({
    resources: [arn],
    detail: { labelUpdated: label, versionId: 'v2' },
  });

  test('an AWSCURRENT move of the app secret forces a new deployment of the service', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({
      service: {
        deployments: [
          { id: 'ecs-svc/2', status: 'PRIMARY' },
          { id: 'ecs-svc/1', status: 'ACTIVE' },
        ],
      },
    });
    expect(await redeploy(redeployClients, target, labelMoved('AWSCURRENT'))).toEqual({
      redeployed: true,
      deploymentId: 'ecs-svc/2',
    });
    expect(ecsMock.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({
      cluster: target.cluster,
      service: 'api',
      forceNewDeployment: true,
    });
  });

  test.each([
    ['another label', labelMoved('CUSTOM')],
    ['another secret', labelMoved('AWSCURRENT', MASTER)],
  ])('ignores %s', async (_, event) => {
    expect((await redeploy(redeployClients, target, event)).redeployed).toBe(false);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  test('throws when ECS answers without a new primary deployment, so the Errors alarm fires', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({ service: { deployments: [] } });
    await expect(redeploy(redeployClients, target, labelMoved('AWSCURRENT'))).rejects.toThrow(
      /started no new deployment/,
    );
  });
});
