import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ResolvedOptions } from './resolve-options';

/**
 * The KMS key for the construct's log groups: the given one, or a new rotating key that CloudWatch Logs may use
 * only for log groups of this account and region.
 */
export function createLogEncryptionKey(scope: Construct, options: ResolvedOptions): kms.IKey {
  if (options.logs.encryptionKey) return options.logs.encryptionKey;
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'LogsKey', {
    description: 'Encrypts the log groups of the web service and its VPC flow logs',
    enableKeyRotation: true,
    removalPolicy: options.logs.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  return key;
}

/** A log group of the construct: the profile's retention and removal, encrypted with the logs key. */
export function createLogGroup(
  scope: Construct,
  id: string,
  logsKey: kms.IKey,
  options: ResolvedOptions,
  logGroupName?: string,
): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    logGroupName,
    retention: options.logs.retention,
    encryptionKey: logsKey,
    removalPolicy: options.logs.removalPolicy,
  });
}
