import { FunctionCalls } from '../internal/aws-calls';

/** The migration gate's AWS calls (gate.ts, internal/rollback.ts), proven allowed by the IAM simulation. */
export const GATE_STARTER_CALLS: FunctionCalls = {
  functionId: 'MigrationStarter',
  customResourceType: 'Custom::MigrationGate',
  sources: ['internal/rollback.ts'],
  calls: [
    {
      action: 'ecs:RunTask',
      resource: '${prop:TaskDefinition}',
      context: { 'ecs:cluster': '${prop:Cluster}' },
      why: 'the one-off migration task',
    },
    {
      action: 'iam:PassRole',
      resource: '${prop:TaskDefinition>TaskRoleArn}',
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      why: 'the migration task runs as the app',
    },
    {
      action: 'iam:PassRole',
      resource: '${prop:TaskDefinition>ExecutionRoleArn}',
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      why: 'ECS pulls the image and injects the secrets for it',
    },
    { action: 'cloudformation:DescribeStacks', resource: '${StackId}', why: 'is the stack rolling back?' },
  ],
};

/** The waiter's calls: it follows the task the starter ran and stops it on timeout. */
export const GATE_WAITER_CALLS: FunctionCalls = {
  functionId: 'MigrationWaiter',
  customResourceType: 'Custom::MigrationGate',
  sources: [],
  calls: [
    {
      action: 'ecs:DescribeTasks',
      resource: 'arn:${Partition}:ecs:${Region}:${Account}:task/${name:prop:Cluster}/0123456789abcdef',
      context: { 'ecs:cluster': '${prop:Cluster}' },
      why: 'the migration task’s state and exit code',
    },
    {
      action: 'ecs:StopTask',
      resource: 'arn:${Partition}:ecs:${Region}:${Account}:task/${name:prop:Cluster}/0123456789abcdef',
      context: { 'ecs:cluster': '${prop:Cluster}' },
      why: 'a migration past its timeout is stopped',
    },
  ],
};

/** gate.ts's commands are split between the two functions: RunTask is the starter's, the rest the waiter's. */
export const GATE_SOURCES = ['migration-gate/gate.ts'];
