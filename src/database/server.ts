import { CfnResource } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Acknowledgements, inCompliancePacks, INLINE_POLICY_REASON, providerFunctionOf } from '../internal/acknowledge';

/** PostgreSQL's port. Moving it is obscurity, not control (see the RDS11 acknowledgement). */
export const DATABASE_PORT = 5432;

/**
 * The database the construct runs: one RDS for PostgreSQL instance, or an Aurora PostgreSQL cluster. Both expose the
 * same connections, secret, IAM grant, rotations and metrics; these helpers cover where they differ.
 */
export type DatabaseServer = rds.DatabaseInstance | rds.DatabaseCluster;

/** The writer's address and port, as CloudFormation resolves them. */
export function endpointOf(server: DatabaseServer): { readonly address: string; readonly port: string } {
  return server instanceof rds.DatabaseInstance
    ? { address: server.dbInstanceEndpointAddress, port: server.dbInstanceEndpointPort }
    : { address: server.clusterEndpoint.hostname, port: server.clusterEndpoint.port.toString() };
}

/** What RDS Proxy fronts. */
export function proxyTargetOf(server: DatabaseServer): rds.ProxyTarget {
  return server instanceof rds.DatabaseInstance
    ? rds.ProxyTarget.fromInstance(server)
    : rds.ProxyTarget.fromCluster(server);
}

/** What AWS Backup protects. */
export function backupResourceOf(server: DatabaseServer): backup.BackupResource {
  return server instanceof rds.DatabaseInstance
    ? backup.BackupResource.fromRdsDatabaseInstance(server)
    : backup.BackupResource.fromRdsDatabaseCluster(server);
}

/**
 * What the instance or the cluster brings along: its enhanced-monitoring role (an AWS managed policy) and CDK's
 * log-retention function for the log groups RDS creates.
 */
export function acknowledgeServerRoles(server: DatabaseServer, acks: Acknowledgements): void {
  for (const role of server.node.findAll().filter((c) => c instanceof iam.Role)) {
    acks.acknowledge(role, {
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole'],
      reason:
        'The AWS managed policy is the documented permission set for RDS enhanced monitoring and is kept current by AWS.',
    });
  }
  acknowledgeLogRetentionFunction(server, acks);
}

function acknowledgeLogRetentionFunction(server: DatabaseServer, acks: Acknowledgements): void {
  const retention = server.node
    .findAll()
    .find((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === 'Custom::LogRetention');
  if (!retention) return;
  const fn = providerFunctionOf(retention);
  acks.acknowledge(fn, {
    rules: ['lambda_inside_vpc_check'],
    reason:
      'A CDK-owned provider function that only calls the CloudWatch Logs API to set retention; it needs no VPC access.',
  });
  const owner = fn.node.scope!;
  for (const role of owner.node.findAll().filter((c) => c instanceof iam.Role)) {
    acks.acknowledge(role, {
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      reason:
        'CDK-owned log-retention function (sets retention on the log groups RDS creates); the managed policy only lets it write its own logs.',
    });
  }
  for (const policy of owner.node.findAll().filter((c) => c instanceof iam.CfnPolicy)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*'],
      reason:
        'CDK-owned log-retention function: RDS names its log groups at deploy time, so the retention permission cannot name them.',
    });
    acks.acknowledge(policy, { rules: inCompliancePacks('IAMNoInlinePolicy'), reason: INLINE_POLICY_REASON });
  }
}
