import { CfnResource } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
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

/** The instance's or the cluster's parameter group: TLS required for every connection. */
export function tlsParameterGroup(scope: Construct, id: string, engine: rds.IEngine): rds.ParameterGroup {
  return new rds.ParameterGroup(scope, id, {
    engine,
    description: 'TLS required for every connection',
    parameters: { 'rds.force_ssl': '1' },
  });
}

/**
 * The findings the instance and the cluster share, each under the Control Tower rule of its kind: the default port,
 * deletion protection off in dev; and what they bring along: the enhanced-monitoring role (an AWS managed policy) and
 * CDK's log-retention function for the log groups RDS creates.
 */
export function acknowledgeServer(
  server: DatabaseServer,
  acks: Acknowledgements,
  d: { readonly dev: boolean; readonly deletionProtection: boolean },
): void {
  const instance = server instanceof rds.DatabaseInstance;
  const noun = instance ? 'instance' : 'cluster';
  acks.acknowledge(server, {
    rules: ['AwsSolutions-RDS11', instance ? 'rds_instance_no_default_ports_check' : 'rds_cluster_default_port_check'],
    reason: `A non-default port is obscurity, not control: the ${noun} is in isolated subnets, not publicly accessible, and admits only the service security group.`,
  });
  if (d.dev && !d.deletionProtection) {
    acks.acknowledge(server, {
      rules: [
        'AwsSolutions-RDS10',
        ...inCompliancePacks('RDSInstanceDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
        instance ? 'rds_instance_deletion_protection_enabled_check' : 'rds_cluster_deletion_protection_enabled_check',
      ],
      reason: 'The dev profile is disposable by design; prod turns deletion protection on.',
    });
  }
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
