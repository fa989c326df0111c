import { FunctionCalls } from '../../internal/aws-calls';

/** The app-user bootstrap's AWS calls (bootstrap.ts, internal/rollback.ts), proven allowed by the IAM simulation. */
export const BOOTSTRAP_CALLS: FunctionCalls = {
  functionId: 'AppUserBootstrap',
  customResourceType: 'Custom::AppDatabaseUser',
  sources: ['database/app-user/bootstrap.ts', 'internal/rollback.ts'],
  calls: [
    { action: 'secretsmanager:GetSecretValue', resource: '${prop:MasterSecretArn}', why: 'the master login' },
    {
      action: 'kms:Decrypt',
      resource: '${prop:MasterSecretArn>KmsKeyId}',
      context: { 'kms:ViaService': 'secretsmanager.${Region}.amazonaws.com' },
      why: 'Secrets Manager decrypts the master secret with the caller’s permission',
    },
    {
      action: 'secretsmanager:GetSecretValue',
      resource: '${prop:AppSecretArn}',
      why: 'the app login to create or repair',
      onlyWithProperty: 'AppSecretArn',
    },
    {
      action: 'kms:Decrypt',
      resource: '${prop:AppSecretArn>KmsKeyId}',
      context: { 'kms:ViaService': 'secretsmanager.${Region}.amazonaws.com' },
      why: 'Secrets Manager decrypts the app secret with the caller’s permission',
      onlyWithProperty: 'AppSecretArn',
    },
    {
      action: 'lambda:InvokeFunction',
      resource: 'arn:${Partition}:lambda:${Region}:${Account}:function:${prop:SqlFunctionName}',
      why: 'the SQL function, inside the VPC, runs the statements',
    },
    { action: 'cloudformation:DescribeStacks', resource: '${StackId}', why: 'is the stack rolling back?' },
  ],
};
