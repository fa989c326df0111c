import { CfnResource, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { EnvironmentProfile } from './profile';
import { ResolvedOptions } from './resolve-options';

/**
 * A policy finding the construct acknowledges on purpose, with the reason a reviewer can check.
 *
 * Acknowledgements travel with the synthesized template as resource metadata: `cdk_nag.rules_to_suppress` (read by
 * cdk-nag 2.x aspects and 3.x validation plugins) and `guard.SuppressedRules` (read by cfn-guard rules). The
 * library itself does not depend on cdk-nag.
 */
export interface PolicyAcknowledgement {
  /** The rule: a cdk-nag rule id (`AwsSolutions-IAM5`, `NIST.800.53.R5-IAMNoInlinePolicy`) or a cfn-guard rule name. */
  readonly rule: string;
  /** Construct path of the resource the acknowledgement is attached to. */
  readonly resourcePath: string;
  /**
   * For wildcard findings: the exact finding the acknowledgement covers, e.g. `Resource::*`.
   *
   * @default - the whole rule on this resource
   */
  readonly appliesTo?: string[];
  /** Why the finding does not fit the design. */
  readonly reason: string;
}

const COMPLIANCE_PACKS = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];

/** `Rule` in every compliance pack that has it (NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1). */
const inCompliancePacks = (rule: string, packs = COMPLIANCE_PACKS) => packs.map((pack) => `${pack}-${rule}`);

interface Target {
  readonly resource: CfnResource | undefined;
  readonly rules: string[];
  readonly appliesTo?: string[];
  readonly reason: string;
  readonly when?: boolean;
}

function cfn(scope: IConstruct | undefined, ...path: string[]): CfnResource | undefined {
  let node: IConstruct | undefined = scope;
  for (const id of path) node = node?.node.tryFindChild(id);
  return node instanceof CfnResource ? node : undefined;
}

const isGuardRule = (rule: string) => /^[a-z0-9_]+$/.test(rule);

function attach(resource: CfnResource, rules: string[], reason: string, appliesTo?: string[]): void {
  const nagRules = rules.filter((r) => !isGuardRule(r));
  const guardRules = rules.filter(isGuardRule);
  if (nagRules.length > 0) {
    const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: object[] } | undefined) ?? {};
    // An appliesTo entry written /like this/ is a regular expression (for findings that contain logical ids).
    const findings = appliesTo?.map((f) => (/^\/.*\/$/.test(f) ? { regex: `${f}g` } : f));
    const additions = nagRules.map((id) => ({ id, reason, ...(findings ? { applies_to: findings } : {}) }));
    resource.addMetadata('cdk_nag', {
      ...existing,
      rules_to_suppress: [...(existing.rules_to_suppress ?? []), ...additions],
    });
  }
  if (guardRules.length > 0) {
    const existing = (resource.getMetadata('guard') as { SuppressedRules?: string[] } | undefined) ?? {};
    const merged = [...new Set([...(existing.SuppressedRules ?? []), ...guardRules])];
    resource.addMetadata('guard', { ...existing, SuppressedRules: merged });
  }
}

/**
 * Attaches the construct's acknowledgements to its resources (and to the CDK-owned singletons it causes) and
 * returns them. Each one is narrow: one resource, exact wildcard findings, and only in the configuration where it
 * applies (for example, Multi-AZ is acknowledged only when the dev profile turned it off).
 */
export function acknowledgePolicyFindings(scope: Construct, options: ResolvedOptions): PolicyAcknowledgement[] {
  const stack = Stack.of(scope);
  const dev = options.profile === EnvironmentProfile.DEV;
  const db = options.database;
  const hasCertificate =
    options.loadBalancer.certificate !== undefined || options.loadBalancer.domainName !== undefined;
  const logRetention = stack.node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
  const restrictDefaultSgProvider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const cdkLambdaReason =
    'A CDK-owned provider function that only calls AWS control-plane APIs (CloudWatch Logs retention, default security group rules); it needs no VPC access.';
  const inlinePolicyReason =
    'A least-privilege policy that CDK generates from grants for this one role; a managed policy would add nothing but indirection.';

  const targets: Target[] = [
    {
      resource: cfn(scope, 'LB', 'SecurityGroup', 'Resource'),
      rules: ['AwsSolutions-EC23'],
      reason:
        'The internet-facing load balancer accepts the internet on its listener ports only; tasks and database admit only their upstream security group.',
      when: options.loadBalancer.internetFacing,
    },
    {
      resource: cfn(scope, 'TaskDef', 'Resource'),
      rules: ['AwsSolutions-ECS2'],
      reason:
        'Plain environment holds only PORT, NODE_ENV and non-secret user values; credential-like names are refused at synth time and the database settings are ECS secrets.',
    },
    {
      resource: cfn(scope, 'TaskDef', 'ExecutionRole', 'DefaultPolicy', 'Resource'),
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*'],
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; every other statement names its repository, log group or secret.',
    },
    {
      resource: cfn(scope, 'TaskDef', 'ExecutionRole', 'DefaultPolicy', 'Resource'),
      rules: inCompliancePacks('IAMNoInlinePolicy'),
      reason: inlinePolicyReason,
    },
    {
      resource: cfn(scope, 'Vpc', 'FlowLog', 'IAMRole', 'DefaultPolicy', 'Resource'),
      rules: inCompliancePacks('IAMNoInlinePolicy'),
      reason: inlinePolicyReason,
    },
    {
      resource: cfn(scope, 'Database', 'MonitoringRole', 'Resource'),
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole'],
      reason:
        'The AWS managed policy is the documented permission set for RDS enhanced monitoring and is kept current by AWS.',
    },
    {
      resource: cfn(scope, 'BackupPlan', 'Database', 'Role', 'Resource'),
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup'],
      reason: 'The AWS managed policy is the documented permission set for AWS Backup and is kept current by AWS.',
    },
    {
      resource: cfn(scope, 'Database', 'Resource'),
      rules: ['AwsSolutions-RDS11', 'rds_instance_no_default_ports_check'],
      reason:
        'A non-default port is obscurity, not control: the instance is in isolated subnets, not publicly accessible, and admits only the service security group.',
    },
    {
      resource: cfn(scope, 'Database', 'Resource'),
      rules: [
        'AwsSolutions-RDS3',
        ...inCompliancePacks('RDSMultiAZSupport', ['NIST.800.53.R5', 'HIPAA.Security']),
        'rds_instance_multi_az_support_check',
      ],
      reason: 'The dev profile is single-AZ to halve the database cost; prod is Multi-AZ.',
      when: dev && !db.multiAz,
    },
    {
      resource: cfn(scope, 'Database', 'Resource'),
      rules: [
        'AwsSolutions-RDS10',
        ...inCompliancePacks('RDSInstanceDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
        'rds_instance_deletion_protection_enabled_check',
      ],
      reason: 'The dev profile is disposable by design; prod turns deletion protection on.',
      when: dev && !db.deletionProtection,
    },
    {
      resource: cfn(scope, 'DatabaseSecret', 'Resource'),
      rules: ['AwsSolutions-SMG4', ...inCompliancePacks('SecretsManagerRotationEnabled')],
      reason:
        'The dev profile does not rotate the password: rotation would need a Secrets Manager endpoint (7.30 USD a month) in its VPC without NAT. Prod rotates every 30 days.',
      when: dev && !db.rotation,
    },
    {
      resource: cfn(scope, 'LB', 'Resource'),
      rules: ['AwsSolutions-ELB2'],
      reason:
        'The dev profile turns access logs off to stay cheap; prod (or loadBalancer.accessLogs) writes them to S3.',
      when: dev && !options.loadBalancer.accessLogs,
    },
    {
      resource: cfn(scope, 'AccessLogs', 'Resource'),
      rules: ['AwsSolutions-S1', ...inCompliancePacks('S3BucketLoggingEnabled')],
      reason: 'This bucket holds access logs; logging access to it would need another bucket, and so on.',
    },
    {
      resource: cfn(scope, 'AccessLogs', 'Resource'),
      rules: inCompliancePacks('S3DefaultEncryptionKMS'),
      reason: 'Application Load Balancers can write access logs only to buckets encrypted with SSE-S3.',
    },
    {
      resource: cfn(scope, 'AccessLogs', 'Resource'),
      rules: inCompliancePacks('S3BucketReplicationEnabled'),
      reason:
        'Access logs are kept 90 days in one region; cross-region replication of them is left to the account owner.',
    },
    {
      resource: cfn(scope, 'HttpListener', 'Resource') ?? cfn(scope, 'LB', 'HttpListener', 'Resource'),
      rules: inCompliancePacks('ELBv2ACMCertificateRequired'),
      reason: 'This HTTP listener only redirects to the HTTPS listener, which uses the ACM certificate.',
      when: hasCertificate,
    },
    ...['DatabaseKey', 'LogsKey', 'AlarmTopicKey'].map((key) => ({
      resource: cfn(scope, key, 'Resource'),
      rules: ['kms_create_grant_aws_service_check'],
      reason:
        'The account-root statement (kms:*) is the default key policy that lets IAM policies govern the key; service grants are scoped by kms:ViaService or the logs encryption context.',
    })),
    {
      resource: cfn(scope, 'AccessLogs', 'Resource'),
      rules: [
        's3_bucket_default_encryption_kms_check',
        's3_bucket_logging_enabled_check',
        's3_event_notifications_enabled_check',
        's3_bucket_object_lock_enabled_check',
      ],
      reason:
        'The access logs bucket: the load balancer writes only to SSE-S3 buckets, logging it would recurse, nothing consumes its events, and its objects must expire after 90 days.',
    },
    {
      resource: cfn(scope, 'Repository', 'Resource'),
      rules: ['ecr_private_tag_immutability_enabled_check'],
      reason: 'The dev profile lets CI re-push a tag such as "dev"; prod makes tags immutable.',
      when: dev && !options.repository.imageTagImmutable,
    },
    {
      resource: cfn(scope, 'Service', 'Service'),
      rules: ['ecs_service_assign_public_ip_disabled_check'],
      reason:
        'The dev profile has no NAT gateway: tasks reach ECR and Secrets Manager through a public IP, and their security group admits only the load balancer.',
      when: dev && options.network.assignPublicIp,
    },
    {
      resource: cfn(scope, 'LB', 'Resource'),
      rules: [
        'elbv2_deletion_protection_enabled_check',
        ...inCompliancePacks('ELBDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
      ],
      reason: 'The dev profile is disposable by design; prod turns load balancer deletion protection on.',
      when: dev && !options.loadBalancer.deletionProtection,
    },
    {
      resource: cfn(scope, 'LB', 'Resource'),
      rules: ['elbv2_logging_enabled_check', ...inCompliancePacks('ELBLoggingEnabled')],
      reason:
        'The dev profile turns access logs off to stay cheap; prod (or loadBalancer.accessLogs) writes them to S3.',
      when: dev && !options.loadBalancer.accessLogs,
    },
    {
      resource: cfn(scope, 'LB', 'Resource'),
      rules: inCompliancePacks('ALBWAFEnabled', ['NIST.800.53.R5', 'PCI.DSS.321']),
      reason:
        'The dev profile has no web ACL (about 10 USD a month); prod creates one, or give loadBalancer.webAclArn.',
      when: dev && !options.loadBalancer.webAcl && options.loadBalancer.webAclArn === undefined,
    },
    {
      resource: cfn(scope, 'LB', 'HttpListener', 'Resource'),
      rules: [
        'alb_http_to_https_redirection_check',
        ...inCompliancePacks('ALBHttpToHttpsRedirection'),
        ...inCompliancePacks('ELBv2ACMCertificateRequired'),
      ],
      reason:
        'No certificate or domain name was given to this dev stack, so it serves HTTP; give loadBalancer.certificate or domainName to get HTTPS and the redirect.',
      when: dev && !hasCertificate,
    },
    {
      resource: cfn(scope, 'Database', 'Resource'),
      rules: [
        'rds_instance_backup_enabled_check',
        ...inCompliancePacks('RDSInBackupPlan', ['NIST.800.53.R5', 'HIPAA.Security']),
      ],
      reason:
        'The dev profile keeps one day of automated backups and no AWS Backup plan; prod keeps 14 days and a backup plan.',
      when: dev && !db.backupPlan,
    },
    ...['FlowLogs', 'LogGroup'].map((logGroup) => ({
      resource: cfn(scope, logGroup, 'Resource'),
      rules: ['cloudwatch_log_group_retention_period_check'],
      reason: 'The dev profile keeps logs one week; prod keeps them one year.',
      when: dev && options.logs.retention < 365,
    })),
    {
      resource: cfn(logRetention, 'ServiceRole', 'Resource'),
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      reason:
        'CDK-owned log-retention function (sets retention on the log groups RDS creates); the managed policy only lets it write its own logs.',
    },
    {
      resource: cfn(logRetention, 'ServiceRole', 'DefaultPolicy', 'Resource'),
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*'],
      reason:
        'CDK-owned log-retention function: RDS names its log groups at deploy time, so the retention permission cannot name them.',
    },
    {
      resource: cfn(logRetention, 'ServiceRole', 'DefaultPolicy', 'Resource'),
      rules: inCompliancePacks('IAMNoInlinePolicy'),
      reason: 'CDK-owned log-retention function: its policy is generated by aws-cdk-lib for this role only.',
    },
    { resource: cfn(logRetention, 'Resource'), rules: ['lambda_inside_vpc_check'], reason: cdkLambdaReason },
    {
      resource: cfn(restrictDefaultSgProvider, 'Handler'),
      rules: ['lambda_inside_vpc_check'],
      reason: cdkLambdaReason,
    },
  ];

  if (options.migrations) {
    const gateReason =
      'Migration gate: a deployment-time function invoked only by the CloudFormation provider framework; it calls only the ECS API, synchronously, a few times per deployment.';
    const functions = [
      [scope.node.tryFindChild('MigrationStarter')],
      [scope.node.tryFindChild('MigrationWaiter')],
      ...['framework-onEvent', 'framework-isComplete', 'framework-onTimeout'].map((id) => [
        scope.node.tryFindChild('MigrationProvider')?.node.tryFindChild(id),
      ]),
    ].map(([fn]) => fn);
    for (const fn of functions) {
      targets.push(
        {
          resource: cfn(fn, 'Resource'),
          rules: [
            ...inCompliancePacks('LambdaInsideVPC'),
            ...inCompliancePacks('LambdaConcurrency', ['NIST.800.53.R5', 'HIPAA.Security']),
            ...inCompliancePacks('LambdaDLQ', ['NIST.800.53.R5', 'HIPAA.Security']),
            'lambda_inside_vpc_check',
          ],
          reason: gateReason,
        },
        {
          resource: cfn(fn, 'ServiceRole', 'Resource'),
          rules: ['AwsSolutions-IAM4'],
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          reason: 'The AWS managed policy only lets the function write its own logs.',
        },
        {
          resource: cfn(fn, 'ServiceRole', 'DefaultPolicy', 'Resource'),
          rules: inCompliancePacks('IAMNoInlinePolicy'),
          reason: inlinePolicyReason,
        },
      );
    }
    targets.push(
      {
        resource: cfn(scope, 'MigrationStarter', 'ServiceRole', 'DefaultPolicy', 'Resource'),
        rules: ['AwsSolutions-IAM5'],
        appliesTo: ['/^Resource::arn:<AWS::Partition>:ecs:.*:task-definition\\/.*:\\*$/'],
        reason:
          "ecs:RunTask on every revision of this service's task definition family only (a deployment runs the new revision), and only in this cluster.",
      },
      {
        resource: cfn(scope, 'MigrationWaiter', 'ServiceRole', 'DefaultPolicy', 'Resource'),
        rules: ['AwsSolutions-IAM5'],
        appliesTo: ['/^Resource::arn:<AWS::Partition>:ecs:.*:task\\/<.*>\\/\\*$/'],
        reason:
          'ecs:DescribeTasks and ecs:StopTask on tasks of this cluster only; task ids are not known before the task starts.',
      },
      ...['framework-onEvent', 'framework-isComplete', 'framework-onTimeout'].map((id) => ({
        resource: cfn(scope.node.tryFindChild('MigrationProvider'), id, 'ServiceRole', 'DefaultPolicy', 'Resource'),
        rules: ['AwsSolutions-IAM5'],
        appliesTo: ['/^Resource::<.*Migration.*\\.Arn>:\\*$/'],
        reason: 'CDK provider framework: lambda:InvokeFunction on the versions of the two gate functions only.',
      })),
      {
        resource: cfn(
          scope.node.tryFindChild('MigrationProvider'),
          'waiter-state-machine',
          'Role',
          'DefaultPolicy',
          'Resource',
        ),
        rules: ['AwsSolutions-IAM5'],
        appliesTo: ['Resource::*', '/^Resource::<.*Migration.*\\.Arn>:\\*$/'],
        reason:
          'CDK provider framework waiter: invokes the framework functions (their versions) and delivers its logs, whose CloudWatch Logs delivery actions have no resource-level permissions.',
      },
      {
        resource: cfn(
          scope.node.tryFindChild('MigrationProvider'),
          'waiter-state-machine',
          'Role',
          'DefaultPolicy',
          'Resource',
        ),
        rules: inCompliancePacks('IAMNoInlinePolicy'),
        reason: inlinePolicyReason,
      },
      ...['framework-onEvent', 'framework-isComplete', 'framework-onTimeout'].map((id) => ({
        resource: cfn(scope.node.tryFindChild('MigrationProvider'), id, 'Resource'),
        rules: ['AwsSolutions-L1'],
        reason: 'CDK provider framework function: aws-cdk-lib chooses and updates its runtime.',
      })),
      {
        resource: cfn(scope.node.tryFindChild('MigrationProvider'), 'waiter-state-machine', 'Resource'),
        rules: ['AwsSolutions-SF2', 'step_functions_state_machine_tracing_enabled_check'],
        reason:
          'CDK provider framework waiter: it only polls the migration task every 15 seconds; its execution history is logged to an encrypted log group.',
      },
    );
  }

  if (!options.network.vpc) {
    for (const subnet of [
      'PublicSubnet1',
      'PublicSubnet2',
      'PublicSubnet3',
      'PublicSubnet4',
      'PublicSubnet5',
      'PublicSubnet6',
    ]) {
      targets.push({
        resource: cfn(scope, 'Vpc', subnet, 'DefaultRoute'),
        rules: inCompliancePacks('VPCNoUnrestrictedRouteToIGW'),
        reason:
          'Public subnets route to the internet gateway by definition: they hold the internet-facing load balancer and the NAT gateways, nothing else in prod.',
      });
    }
  }

  const acknowledgements: PolicyAcknowledgement[] = [];
  for (const target of targets) {
    if (target.when === false || !target.resource || target.rules.length === 0) continue;
    attach(target.resource, target.rules, target.reason, target.appliesTo);
    for (const rule of target.rules) {
      acknowledgements.push({
        rule,
        resourcePath: target.resource.node.path,
        reason: target.reason,
        ...(target.appliesTo ? { appliesTo: target.appliesTo } : {}),
      });
    }
  }
  return acknowledgements;
}
