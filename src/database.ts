import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ResolvedOptions } from './resolve-options';

/** The parts of the database the construct exposes. */
export interface DatabaseParts {
  readonly instance: rds.DatabaseInstance;
  readonly secret: secretsmanager.ISecret;
  readonly encryptionKey: kms.IKey;
  readonly securityGroup: ec2.SecurityGroup;
}

/**
 * Creates the PostgreSQL instance in the database subnets: encrypted with a KMS key, TLS enforced by its parameter
 * group, backed up with point-in-time recovery, and reachable by nothing until `allowServiceToReachDatabase`.
 */
export function createDatabase(scope: Construct, vpc: ec2.IVpc, options: ResolvedOptions): DatabaseParts {
  const d = options.database;
  const engine = rds.DatabaseInstanceEngine.postgres({ version: d.engineVersion });
  const encryptionKey =
    d.encryptionKey ??
    new kms.Key(scope, 'DatabaseKey', {
      description: 'Encrypts the database storage, its Performance Insights data and its credentials',
      enableKeyRotation: true,
      removalPolicy: d.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
  const securityGroup = new ec2.SecurityGroup(scope, 'DatabaseSecurityGroup', {
    vpc,
    description: 'PostgreSQL: admits only the web service (and the rotation function) on the database port',
    allowAllOutbound: false,
  });
  const parameterGroup = new rds.ParameterGroup(scope, 'DatabaseParameters', {
    engine,
    description: 'TLS required for every connection',
    parameters: { 'rds.force_ssl': '1' },
  });
  const secret = new rds.DatabaseSecret(scope, 'DatabaseSecret', {
    username: d.username,
    dbname: d.databaseName,
    encryptionKey,
  });
  const instance = new rds.DatabaseInstance(scope, 'Database', {
    engine,
    instanceType: d.instanceType,
    vpc,
    vpcSubnets: options.network.databaseSubnets,
    securityGroups: [securityGroup],
    publiclyAccessible: false,
    port: 5432,
    multiAz: d.multiAz,
    databaseName: d.databaseName,
    credentials: rds.Credentials.fromSecret(secret),
    parameterGroup,
    storageType: rds.StorageType.GP3,
    allocatedStorage: d.allocatedStorageGiB,
    maxAllocatedStorage: d.maxAllocatedStorageGiB,
    storageEncrypted: true,
    storageEncryptionKey: encryptionKey,
    backupRetention: d.backupRetention,
    copyTagsToSnapshot: true,
    deletionProtection: d.deletionProtection,
    removalPolicy: d.removalPolicy,
    autoMinorVersionUpgrade: true,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: encryptionKey,
    monitoringInterval: Duration.seconds(60),
    cloudwatchLogsExports: ['postgresql', 'upgrade'],
    cloudwatchLogsRetention: options.logs.retention,
    iamAuthentication: d.iamAuthentication,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
  });

  if (d.rotation) {
    addRotation(scope, vpc, instance, options);
  }
  if (d.backupPlan) {
    addBackupPlan(scope, instance, encryptionKey, d.removalPolicy);
  }
  return { instance, secret: instance.secret!, encryptionKey, securityGroup };
}

/**
 * Rotates the master password with the single-user strategy. The rotation function needs Secrets Manager: in
 * subnets with egress it reaches the public endpoint; otherwise the construct adds an interface endpoint in one
 * database subnet and runs the function there.
 */
function addRotation(scope: Construct, vpc: ec2.IVpc, instance: rds.DatabaseInstance, options: ResolvedOptions) {
  const rotationOptions = { automaticallyAfter: options.database.rotationSchedule };
  if (!options.network.assignPublicIp) {
    instance.addRotationSingleUser({ ...rotationOptions, vpcSubnets: options.network.taskSubnets });
    return;
  }
  const subnet = vpc.selectSubnets(options.network.databaseSubnets).subnets[0];
  const endpoint = new ec2.InterfaceVpcEndpoint(scope, 'SecretsManagerEndpoint', {
    vpc,
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    subnets: { subnets: [subnet] },
    privateDnsEnabled: true,
    open: false,
  });
  const securityGroup = new ec2.SecurityGroup(scope, 'RotationSecurityGroup', {
    vpc,
    description: 'Password rotation function: reaches the database and the Secrets Manager endpoint',
  });
  const rotation = instance.addRotationSingleUser({
    ...rotationOptions,
    vpcSubnets: { subnets: [subnet] },
    securityGroup,
  });
  endpoint.connections.allowDefaultPortFrom(securityGroup, 'The password rotation function');
  rotation.node.addDependency(endpoint);
}

/** Daily and weekly AWS Backup recovery points in a vault encrypted with the database key. */
function addBackupPlan(scope: Construct, instance: rds.DatabaseInstance, key: kms.IKey, removalPolicy: RemovalPolicy) {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: key,
    removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  const plan = new backup.BackupPlan(scope, 'BackupPlan', {
    backupVault: vault,
    backupPlanRules: [
      new backup.BackupPlanRule({
        ruleName: 'Daily',
        scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
        deleteAfter: Duration.days(35),
      }),
      new backup.BackupPlanRule({
        ruleName: 'Weekly',
        scheduleExpression: events.Schedule.cron({ weekDay: 'SUN', hour: '4', minute: '0' }),
        deleteAfter: Duration.days(90),
      }),
    ],
  });
  plan.addSelection('Database', { resources: [backup.BackupResource.fromRdsDatabaseInstance(instance)] });
}

/** Opens the database port to the service's security group, and to nothing else. */
export function allowServiceToReachDatabase(database: DatabaseParts, serviceSecurityGroup: ec2.ISecurityGroup): void {
  database.instance.connections.allowFrom(serviceSecurityGroup, ec2.Port.tcp(5432), 'The web service');
}
