import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { GateEvent, GateProperties, isComplete, onEvent } from '../../src/migration-gate/gate';

/**
 * Documented behaviour relied on: on a failed update CloudFormation sends each custom resource it had updated an Update
 * with the previous ResourceProperties while the stack is UPDATE_ROLLBACK_IN_PROGRESS; a custom resource that fails
 * that Update leaves the stack in UPDATE_ROLLBACK_FAILED. The provider framework passes onEvent's Data to isComplete.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#asynchronous-providers-iscomplete
 */

const ecsMock = mockClient(ECSClient);
const cfnMock = mockClient(CloudFormationClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const clients = { ecs, cfn: new CloudFormationClient({ region: 'us-east-1' }) };

const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Api/11111111-2222-3333-4444-555555555555';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef';
const properties = (revision: number): GateProperties => ({
  Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/api',
  TaskDefinition: `arn:aws:ecs:us-east-1:123456789012:task-definition/api:${revision}`,
  ContainerName: 'App',
  Command: ['node', 'dist/migrate-cli.js', 'up'],
  Subnets: ['subnet-a'],
  SecurityGroups: ['sg-service'],
  AssignPublicIp: 'DISABLED',
  TimeoutSeconds: '900',
});
const T0 = 1_800_000_000_000;
const update = (revision: number): GateEvent => ({
  RequestType: 'Update',
  StackId: STACK,
  ResourceProperties: properties(revision),
  PhysicalResourceId: TASK,
});
const stackIs = (status: string) =>
  cfnMock.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [{ StackName: 'Api', StackId: STACK, StackStatus: status as any, CreationTime: new Date() }],
  });

beforeEach(() => {
  ecsMock.reset();
  cfnMock.reset();
});

/** Each way a migration can fail the update, as isComplete or onEvent sees it. */
const failures: [string, () => Promise<unknown>][] = [
  [
    'the task could not start',
    async () => {
      ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:ENI' }] });
      return onEvent(clients, update(8), T0);
    },
  ],
  [
    'the migration exited non-zero',
    async () => {
      ecsMock.on(DescribeTasksCommand).resolves({
        tasks: [{ taskArn: TASK, lastStatus: 'STOPPED', containers: [{ name: 'App', exitCode: 1 }] }],
      });
      return isComplete(ecs, { ...update(8), Data: { TaskArn: TASK, StartedAt: String(T0) } }, T0 + 60_000);
    },
  ],
  [
    'the migration ran past its timeout',
    async () => {
      ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING' }] });
      return isComplete(ecs, { ...update(8), Data: { TaskArn: TASK, StartedAt: String(T0) } }, T0 + 901_000);
    },
  ],
];

describe.each(failures)('%s: the update fails, and its rollback completes', (_kind, fail) => {
  test('the failed update throws', async () => {
    stackIs('UPDATE_IN_PROGRESS');
    await expect(fail()).rejects.toThrow(/Migration task/);
  });

  test('the Update back to the previous task definition runs no task and is complete at once', async () => {
    stackIs('UPDATE_ROLLBACK_IN_PROGRESS');
    const started = await onEvent(clients, update(7), T0);
    expect(started).toEqual({
      PhysicalResourceId: TASK,
      Data: {
        Skipped:
          'rollback to arn:aws:ecs:us-east-1:123456789012:task-definition/api:7: no migration runs while CloudFormation rolls back',
      },
    });
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
    const done = await isComplete(ecs, { ...update(7), Data: started.Data as GateEvent['Data'] }, T0);
    expect(done).toEqual({ IsComplete: true });
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

test('an ordinary Update reads the stack status, then runs the migration task', async () => {
  stackIs('UPDATE_IN_PROGRESS');
  ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }], failures: [] });
  const result = await onEvent(clients, update(8), T0);
  expect(result.Data).toEqual({ TaskArn: TASK, StartedAt: String(T0) });
  expect(cfnMock.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: STACK });
});

test('a stack status that cannot be read does not block an ordinary Update', async () => {
  cfnMock.on(DescribeStacksCommand).rejects(new Error('Throttling'));
  ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }], failures: [] });
  const result = await onEvent(clients, update(8), T0);
  expect(result.Data).toEqual({ TaskArn: TASK, StartedAt: String(T0) });
});

test('a Create never asks for the stack status (its rollback is a Delete, which never fails)', async () => {
  ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }], failures: [] });
  await onEvent(clients, { RequestType: 'Create', StackId: STACK, ResourceProperties: properties(1) }, T0);
  expect(cfnMock.calls()).toHaveLength(0);
  const deleted = await onEvent(clients, { ...update(1), RequestType: 'Delete' }, T0);
  expect(deleted).toEqual({ PhysicalResourceId: TASK });
});
