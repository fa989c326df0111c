import * as backup from 'aws-cdk-lib/aws-backup';
import * as rds from 'aws-cdk-lib/aws-rds';

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
