import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { BootstrapEvent, BootstrapProperties, onEvent } from '../../src/database/app-user/bootstrap';
import { invokePayload } from '../helpers';

/**
 * Documented behaviour relied on: when a stack update fails, CloudFormation rolls every updated resource back by
 * sending its custom resource an Update whose ResourceProperties are the previous ones, and the stack's status is
 * UPDATE_ROLLBACK_IN_PROGRESS while it does; a custom resource that fails that Update leaves the stack in
 * UPDATE_ROLLBACK_FAILED ("Custom resource ... failed to update during rollback"), which only
 * ContinueUpdateRollback with --resources-to-skip gets out of.
 * Sources: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
 */

const smMock = mockClient(SecretsManagerClient);
const lambdaMock = mockClient(LambdaClient);
const cfnMock = mockClient(CloudFormationClient);
const clients = {
  sm: new SecretsManagerClient({ region: 'us-east-1' }),
  lambda: new LambdaClient({ region: 'us-east-1' }),
  cfn: new CloudFormationClient({ region: 'us-east-1' }),
};
const noWait = { retryDelayMs: 0 };

const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Api/11111111-2222-3333-4444-555555555555';
const MASTER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf';
const APP = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-GhIjKl';
const properties = (revision: string): BootstrapProperties => ({
  MasterSecretArn: MASTER,
  AppSecretArn: APP,
  SqlFunctionName: 'api-app-user-sql',
  DatabaseName: 'app',
  Username: 'app_user',
  Revision: revision,
});
const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:7';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:8';
/** The Update CloudFormation sends back to the previous revision, during a rollback or not. */
const updateTo = (revision: string, from: string): BootstrapEvent => ({
  RequestType: 'Update',
  StackId: STACK,
  ResourceProperties: properties(revision),
  OldResourceProperties: properties(from),
  PhysicalResourceId: 'app_user@app',
});
const appSecret = { username: 'app_user', password: 'app-pw', host: 'db.example', port: 5432 };
const masterSecret = { username: 'app_admin', password: 'master-pw' };

function secretsReturn(app: string, master: string) {
  smMock.on(GetSecretValueCommand, { SecretId: APP, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: app });
  smMock.on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: master });
  smMock
    .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
    .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
}
const stackIs = (status: string) =>
  cfnMock.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [{ StackName: 'Api', StackId: STACK, StackStatus: status as any, CreationTime: new Date() }],
  });
const sqlFails = (message: string) =>
  lambdaMock
    .on(InvokeCommand)
    .resolves({ FunctionError: 'Unhandled', Payload: invokePayload(JSON.stringify({ errorMessage: message })) });

beforeEach(() => {
  smMock.reset();
  lambdaMock.reset();
  cfnMock.reset();
});

/** Each way the bootstrap can fail, set up on the mocks. */
const failureKinds: [string, () => void, RegExp][] = [
  [
    'the SQL function refuses an admin power',
    () => {
      secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
      sqlFails('the app user must not have memberOfAdmin');
    },
    /^app user bootstrap failed: the app user must not have memberOfAdmin$/,
  ],
  [
    'the master password was changed outside Secrets Manager',
    () => {
      secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
      sqlFails('cannot log in as the master user: password authentication failed for user "app_admin"');
    },
    /^app user bootstrap failed: cannot log in as the master user/,
  ],
  [
    'the database is unreachable (a Multi-AZ failover)',
    () => {
      secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
      sqlFails('connect ETIMEDOUT 10.0.3.17:5432');
    },
    /^app user bootstrap failed: connect ETIMEDOUT/,
  ],
  [
    'the SQL function cannot be invoked',
    () => {
      secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
      lambdaMock.on(InvokeCommand).rejects(new Error('Rate exceeded'));
    },
    /^Rate exceeded$/,
  ],
  [
    'a secret is not JSON',
    () => {
      secretsReturn('not json at all', JSON.stringify(masterSecret));
    },
    /is not a JSON object$/,
  ],
  [
    'a secret cannot be read',
    () => {
      smMock.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not authorized'));
    },
    /^AccessDeniedException/,
  ],
];

describe.each(failureKinds)('when %s', (_kind, arrange, error) => {
  test('an Update during a rollback succeeds, keeps the physical id and says why in its data, so the rollback completes', async () => {
    arrange();
    stackIs('UPDATE_ROLLBACK_IN_PROGRESS');
    const result = await onEvent(clients, updateTo(OLD, NEW), noWait);
    expect(result.PhysicalResourceId).toBe('app_user@app');
    expect(result.Data?.RollbackNotApplied).toMatch(/^the rollback to .*api:7 kept the database as it is: /);
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(1);
  });

  test('the same Update outside a rollback fails the deployment', async () => {
    arrange();
    stackIs('UPDATE_IN_PROGRESS');
    await expect(onEvent(clients, updateTo(NEW, OLD), noWait)).rejects.toThrow(error);
  });

  test('a Create fails (CloudFormation then deletes it, which never fails)', async () => {
    arrange();
    await expect(
      onEvent(clients, { RequestType: 'Create', StackId: STACK, ResourceProperties: properties(NEW) }, noWait),
    ).rejects.toThrow(error);
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    const deleted = await onEvent(clients, {
      RequestType: 'Delete',
      StackId: STACK,
      ResourceProperties: properties(NEW),
      PhysicalResourceId: 'app_user@app',
    });
    expect(deleted).toEqual({ PhysicalResourceId: 'app_user@app' });
  });
});

test('an Update whose stack status cannot be read fails with both reasons', async () => {
  failureKinds[0][1]();
  cfnMock.on(DescribeStacksCommand).rejects(new Error('Throttling'));
  await expect(onEvent(clients, updateTo(OLD, NEW), noWait)).rejects.toThrow(
    /app user bootstrap failed: the app user must not have memberOfAdmin.*\(the stack status could not be read: Throttling\)/,
  );
});

test('a rollback that succeeds runs the bootstrap as usual (a renamed user is handed back)', async () => {
  secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
  lambdaMock.on(InvokeCommand).resolves({ Payload: invokePayload(JSON.stringify({ objectsHandedOver: 3 })) });
  stackIs('UPDATE_ROLLBACK_IN_PROGRESS');
  const result = await onEvent(clients, updateTo(OLD, NEW), noWait);
  expect(result.Data).toEqual({ objectsHandedOver: '3' });
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
});

test("a secret that is not JSON fails without quoting any of the secret's characters", async () => {
  secretsReturn('pw-s3cr3t-value', JSON.stringify(masterSecret));
  const error = await onEvent(
    clients,
    { RequestType: 'Create', StackId: STACK, ResourceProperties: properties(NEW) },
    noWait,
  ).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toBe(`the secret ${APP} (AWSCURRENT) is not a JSON object`);
  expect((error as Error).message).not.toMatch(/pw|s3cr3t|value/);
});

test('a master password rotated between reading it and logging in: the bootstrap reads the secret again and succeeds', async () => {
  let reads = 0;
  smMock.on(GetSecretValueCommand, { SecretId: APP, VersionStage: 'AWSCURRENT' }).resolves({
    SecretString: JSON.stringify(appSecret),
  });
  smMock.on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSCURRENT' }).callsFake(() => {
    reads += 1;
    return { SecretString: JSON.stringify({ ...masterSecret, password: reads === 1 ? 'old-pw' : 'new-pw' }) };
  });
  smMock
    .on(GetSecretValueCommand, { SecretId: MASTER, VersionStage: 'AWSPENDING' })
    .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
  lambdaMock.on(InvokeCommand).callsFake((input) => {
    const request = JSON.parse(Buffer.from(input.Payload).toString('utf8'));
    if (request.masterLogins[0].password === 'new-pw') return { Payload: invokePayload('{"passwordSet":false}') };
    return {
      FunctionError: 'Unhandled',
      Payload: invokePayload(
        JSON.stringify({ errorMessage: 'cannot log in as the master user: password authentication failed' }),
      ),
    };
  });
  const result = await onEvent(
    clients,
    { RequestType: 'Update', StackId: STACK, ResourceProperties: properties(NEW) },
    noWait,
  );
  expect(result.Data).toEqual({ passwordSet: 'false' });
  expect(reads).toBe(2);
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(2);
});

test('a master login that keeps failing is retried a bounded number of times, then fails', async () => {
  secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
  sqlFails('cannot log in as the master user: password authentication failed');
  await expect(
    onEvent(clients, { RequestType: 'Update', StackId: STACK, ResourceProperties: properties(NEW) }, noWait),
  ).rejects.toThrow(/cannot log in as the master user/);
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(3);
});

test('a renamed app user (database.appUsername changed) is handed to the SQL function as the previous user', async () => {
  secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
  lambdaMock.on(InvokeCommand).resolves({ Payload: invokePayload('{"objectsHandedOver":4}') });
  await onEvent(
    clients,
    { ...updateTo(NEW, OLD), OldResourceProperties: { ...properties(OLD), Username: 'legacy_user' } },
    noWait,
  );
  const request = JSON.parse(
    Buffer.from(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array).toString('utf8'),
  );
  expect(request.previousUsernames).toEqual(['legacy_user']);
  expect(request.username).toBe('app_user');
});

test('an update that keeps the user name hands over no previous user', async () => {
  secretsReturn(JSON.stringify(appSecret), JSON.stringify(masterSecret));
  lambdaMock.on(InvokeCommand).resolves({ Payload: invokePayload('{}') });
  await onEvent(clients, updateTo(NEW, OLD), noWait);
  const request = JSON.parse(
    Buffer.from(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload as Uint8Array).toString('utf8'),
  );
  expect(request.previousUsernames).toBeUndefined();
});
