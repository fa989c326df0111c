import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { GateEvent, GateProperties, isComplete, onEvent } from '../../src/migration-gate/gate';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const clients = { ecs, cfn: new CloudFormationClient({ region: 'us-east-1' }) };

const properties: GateProperties = {
  Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/api',
  TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:7',
  ContainerName: 'App',
  Command: ['node', 'dist/migrate-cli.js', 'up'],
  Subnets: ['subnet-a', 'subnet-b'],
  SecurityGroups: ['sg-service'],
  AssignPublicIp: 'DISABLED',
  TimeoutSeconds: '900',
};
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef';
const T0 = 1_800_000_000_000;
const started = (type: GateEvent['RequestType'] = 'Update'): GateEvent => ({
  RequestType: type,
  ResourceProperties: properties,
  PhysicalResourceId: TASK,
  Data: { TaskArn: TASK, StartedAt: String(T0) },
});

beforeEach(() => ecsMock.reset());

describe('onEvent', () => {
  test.each(['Create', 'Update'] as const)(
    '%s runs the new task definition once with the migration command in the service network',
    async (type) => {
      ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }], failures: [] });
      const result = await onEvent(clients, { RequestType: type, ResourceProperties: properties }, T0);
      expect(result).toEqual({ PhysicalResourceId: TASK, Data: { TaskArn: TASK, StartedAt: String(T0) } });
      expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(1);
      expect(ecsMock.commandCalls(RunTaskCommand)[0].args[0].input).toEqual({
        cluster: properties.Cluster,
        taskDefinition: properties.TaskDefinition,
        count: 1,
        launchType: 'FARGATE',
        startedBy: 'migration-gate',
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ['subnet-a', 'subnet-b'],
            securityGroups: ['sg-service'],
            assignPublicIp: 'DISABLED',
          },
        },
        overrides: { containerOverrides: [{ name: 'App', command: ['node', 'dist/migrate-cli.js', 'up'] }] },
      });
    },
  );

  test('a task that cannot start (failures in the RunTask answer) fails the deployment with the reason', async () => {
    ecsMock.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [
        {
          arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/x',
          reason: 'RESOURCE:ENI',
          detail: 'no free ENI',
        },
      ],
    });
    await expect(onEvent(clients, { RequestType: 'Update', ResourceProperties: properties })).rejects.toThrow(
      'Migration task could not start from arn:aws:ecs:us-east-1:123456789012:task-definition/api:7: RESOURCE:ENI (no free ENI) [arn:aws:ecs:us-east-1:123456789012:container-instance/x]. The service was not updated.',
    );
  });

  test('an API error (for example missing permission) fails the deployment', async () => {
    ecsMock.on(RunTaskCommand).rejects(new Error('AccessDeniedException: not authorized to perform ecs:RunTask'));
    await expect(onEvent(clients, { RequestType: 'Create', ResourceProperties: properties })).rejects.toThrow(
      'AccessDeniedException',
    );
  });

  test('Delete runs nothing and keeps the physical id', async () => {
    const result = await onEvent(clients, {
      RequestType: 'Delete',
      ResourceProperties: properties,
      PhysicalResourceId: TASK,
    });
    expect(result).toEqual({ PhysicalResourceId: TASK });
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe('isComplete', () => {
  test('a running task is not complete yet', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING' }] });
    await expect(isComplete(ecs, started(), T0 + 60_000)).resolves.toEqual({ IsComplete: false });
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input).toEqual({
      cluster: properties.Cluster,
      tasks: [TASK],
    });
  });

  test('exit code 0 completes the gate', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: TASK, lastStatus: 'STOPPED', containers: [{ name: 'App', exitCode: 0 }] }],
    });
    await expect(isComplete(ecs, started(), T0 + 60_000)).resolves.toEqual({
      IsComplete: true,
      Data: { TaskArn: TASK, ExitCode: '0' },
    });
  });

  test('a non-zero exit fails the deployment naming the task, exit code and stop reason', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: TASK,
          lastStatus: 'STOPPED',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'App', exitCode: 1 }],
        },
      ],
    });
    await expect(isComplete(ecs, started())).rejects.toThrow(
      `Migration task ${TASK} failed: exit code 1; EssentialContainerExited; Essential container in task exited. The service was not updated; see the service's log group for the task's output.`,
    );
  });

  test('a task whose container never ran (image pull failure) fails with the container reason', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: TASK,
          lastStatus: 'STOPPED',
          stopCode: 'TaskFailedToStart',
          stoppedReason: 'CannotPullContainerError',
          containers: [{ name: 'App', reason: 'pull access denied' }],
        },
      ],
    });
    await expect(isComplete(ecs, started())).rejects.toThrow(
      `Migration task ${TASK} failed: exit code none (the container did not run); TaskFailedToStart; CannotPullContainerError; pull access denied.`,
    );
  });

  test('a task past the timeout is stopped and fails the deployment', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK, lastStatus: 'RUNNING' }] });
    ecsMock.on(StopTaskCommand).resolves({});
    await expect(isComplete(ecs, started(), T0 + 900_000)).rejects.toThrow(
      `Migration task ${TASK} did not finish within 900 seconds (status RUNNING); it was stopped and the service was not updated.`,
    );
    expect(ecsMock.commandCalls(StopTaskCommand)[0].args[0].input).toEqual({
      cluster: properties.Cluster,
      task: TASK,
      reason: 'Migration gate timeout',
    });
  });

  test('a task that cannot be described fails the deployment', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: TASK, reason: 'MISSING' }] });
    await expect(isComplete(ecs, started())).rejects.toThrow(`Migration task ${TASK} cannot be described: MISSING.`);
  });

  test('Delete is complete at once', async () => {
    await expect(isComplete(ecs, started('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(ecsMock.calls()).toHaveLength(0);
  });
});
