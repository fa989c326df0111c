import { clusterCall, FunctionCalls } from '../internal/aws-calls';

/** The migration starter's AWS calls (gate.ts, internal/rollback.ts), proven allowed by the IAM simulation. */
export const GATE_STARTER_CALLS: FunctionCalls = {
  functionId: 'MigrationStarter',
  customResourceType: 'Custom::MigrationGate',
  sources: ['migration-gate/gate.ts', 'internal/rollback.ts'],
  calls: [
    {
      action: 'ecs:RunTask',
      resource: '${prop:TaskDefinition}',
      context: { 'ecs:cluster': '${prop:Cluster}' },
      why: 'the one-off migration task',
    },
    ...[
      ['TaskRoleArn', 'the migration task runs as the app'],
      ['ExecutionRoleArn', 'ECS pulls the image and injects the secrets for it'],
    ].map(([role, why]) => ({
      action: 'iam:PassRole',
      resource: `\${prop:TaskDefinition>${role}}`,
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      why,
    })),
    { action: 'cloudformation:DescribeStacks', resource: '${StackId}', why: 'is the stack rolling back?' },
  ],
};

/** The waiter's calls: it follows the task the starter ran and stops it on timeout. */
export const GATE_WAITER_CALLS: FunctionCalls = {
  functionId: 'MigrationWaiter',
  customResourceType: 'Custom::MigrationGate',
  // gate.ts serves both functions: RunTask is the starter's, the rest the waiter's (the test checks them together).
  sources: ['migration-gate/gate.ts'],
  calls: [
    clusterCall('ecs:DescribeTasks', 'task', 'prop:Cluster', 'the migration task’s state and exit code'),
    clusterCall('ecs:StopTask', 'task', 'prop:Cluster', 'a migration past its timeout is stopped'),
  ],
};
