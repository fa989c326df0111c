import { FunctionCalls } from '../../internal/aws-calls';

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
    {
      action: 'ecs:ListTasks',
      resource: 'arn:${Partition}:ecs:${Region}:${Account}:container-instance/${name:env:CLUSTER}/0123456789abcdef',
      context: { 'ecs:cluster': '${env:CLUSTER}' },
      why: 'which tasks the service runs',
    },
    {
      action: 'ecs:DescribeTasks',
      resource: 'arn:${Partition}:ecs:${Region}:${Account}:task/${name:env:CLUSTER}/0123456789abcdef',
      context: { 'ecs:cluster': '${env:CLUSTER}' },
      why: 'whether every task runs the current task definition',
    },
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
