import { clusterCall, FunctionCalls } from '../../internal/aws-calls';

/** The redeploy function's AWS calls (redeploy.ts), proven allowed by the IAM simulation. */
export const REDEPLOY_CALLS: FunctionCalls = {
  functionId: 'RedeployAfterRotation',
  sources: ['database/app-user/redeploy.ts'],
  calls: [
    {
      action: 'ecs:UpdateService',
      resource: 'arn:${Partition}:ecs:${Region}:${Account}:service/${name:env:CLUSTER}/${env:SERVICE}',
      why: 'a new deployment after the rotation',
    },
    clusterCall('ecs:ListTasks', 'container-instance', 'env:CLUSTER', 'which tasks the service runs'),
    clusterCall('ecs:DescribeTasks', 'task', 'env:CLUSTER', 'whether every task runs the current task definition'),
    ...['DescribeSecret', 'CancelRotateSecret', 'RotateSecret', 'TagResource', 'UntagResource'].map((call) => ({
      action: `secretsmanager:${call}`,
      resource: '${env:SECRET_ARN}',
      why: 'holding the rotation while tasks keep the previous login, and turning it back on',
    })),
    {
      action: 'lambda:InvokeFunction',
      resource: '${env:ROTATION_LAMBDA_ARN}',
      why: 'RotateSecret with the rotation function needs the caller to be allowed to invoke it',
    },
  ],
};
