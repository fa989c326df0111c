import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ProfileDefaults } from './defaults';
import { Acknowledgements } from './internal/acknowledge';
import { createKey } from './internal/keys';
import { Resolved } from './internal/validation';
import { EnvironmentProfile } from './profile';
import { LoggingOptions } from './props';

export type ResolvedLogging = Resolved<LoggingOptions, 'encryptionKey'> & {
  readonly removalPolicy: RemovalPolicy;
  readonly profile: EnvironmentProfile;
};

export function resolveLogging(
  props: LoggingOptions | undefined,
  defaults: ProfileDefaults,
  profile: EnvironmentProfile,
): ResolvedLogging {
  return {
    retention: props?.retention ?? defaults['LoggingOptions.retention'],
    encryptionKey: props?.encryptionKey,
    removalPolicy: defaults['Fixed.logsRemovalPolicy'],
    profile,
  };
}

/** Makes every log group of the construct: the profile's retention and removal, encrypted with one key. */
export class LogGroupFactory {
  /** The KMS key that encrypts the log groups. */
  public readonly key: kms.IKey;

  constructor(
    scope: Construct,
    private readonly options: ResolvedLogging,
    private readonly acks: Acknowledgements,
  ) {
    this.key = options.encryptionKey ?? createLogEncryptionKey(scope, options, acks);
  }

  public createLogGroup(scope: Construct, id: string, logGroupName?: string): logs.LogGroup {
    const logGroup = new logs.LogGroup(scope, id, {
      logGroupName,
      retention: this.options.retention,
      encryptionKey: this.key,
      removalPolicy: this.options.removalPolicy,
    });
    if (this.options.profile === EnvironmentProfile.DEV && this.options.retention < logs.RetentionDays.ONE_YEAR) {
      this.acks.acknowledge(logGroup, {
        rules: ['cloudwatch_log_group_retention_period_check'],
        reason: 'The dev profile keeps logs one week; prod keeps them one year.',
      });
    }
    return logGroup;
  }
}

/**
 * A new rotating key that CloudWatch Logs may use only for log groups of this account and region.
 */
function createLogEncryptionKey(scope: Construct, options: ResolvedLogging, acks: Acknowledgements): kms.IKey {
  const stack = Stack.of(scope);
  const key = createKey(scope, 'LogsKey', {
    description: 'Encrypts the log groups of the web service and its VPC flow logs',
    removalPolicy: options.removalPolicy,
    acks,
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
