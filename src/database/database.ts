import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ProfileDefaults } from '../defaults';
import { createCluster, resolveEngine, ResolvedEngine } from './aurora';
import { addBackupPlan } from './backup';
import { addRotations, Rotations } from './rotation';
import { Acknowledgements, inCompliancePacks } from '../internal/acknowledge';
import { createKey } from '../internal/keys';
import { isKnown, PropChecker, Resolved } from '../internal/validation';
import { EnvironmentProfile } from '../profile';
import { DatabaseOptions } from '../props';
import { cloneOf, CLONE_SUFFIX } from './app-user/statements';
import { createProxy, ProxyParts, resolveProxy, ResolvedProxy } from './proxy';
import { acknowledgeServer, DATABASE_PORT, DatabaseServer, tlsParameterGroup } from './server';

export type ResolvedDatabase = Resolved<Omit<DatabaseOptions, 'proxy' | 'engine'>, 'encryptionKey'> & {
  readonly profile: EnvironmentProfile;
  /** The proxy in front of the database, if any. */
  readonly proxy?: ResolvedProxy;
  /** The instance, or an Aurora cluster with its settings. */
  readonly engine: ResolvedEngine;
};

/**
 * The oldest PostgreSQL major accepted: 14, the oldest RDS for PostgreSQL major in standard support (13's ended on
 * 2026-02-28, RDS for PostgreSQL release calendar); the tests run the app-user SQL on 14 and on 17.
 */
const OLDEST_MAJOR = 14;

export const POSTGRES_IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
export const IDENTIFIER_RULE = 'start with a letter and contain only letters, digits and underscores (at most 63)';
const APP_IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,56}$/;
const APP_IDENTIFIER_RULE =
  'start with a letter and contain only letters, digits and underscores, at most 57 (the rotation adds `_clone` for its second login)';
const RESERVED_USERNAMES = [
  'postgres',
  'rdsadmin',
  'rds_superuser',
  'admin',
  'public',
  'user',
  'root',
  'current_user',
  'session_user',
  'none',
];
export { DATABASE_PORT } from './server';

/** Refuses names PostgreSQL or RDS keep for themselves. */
function checkUsername(check: PropChecker, prop: string, name: string | undefined): void {
  if (!isKnown(name)) return;
  const lower = name!.toLowerCase();
  check.refuse(
    RESERVED_USERNAMES.includes(lower),
    `\`${prop}\` must not be a reserved name (${RESERVED_USERNAMES.join(', ')}), got "${name}".`,
  );
  check.refuse(
    lower.startsWith('rds') || lower.startsWith('pg_'),
    `\`${prop}\` must not start with "rds" or "pg_" (RDS and PostgreSQL keep those names), got "${name}".`,
  );
}

export function resolveDatabase(
  check: PropChecker,
  props: DatabaseOptions | undefined,
  defaults: ProfileDefaults,
  profile: EnvironmentProfile,
): ResolvedDatabase {
  const d = props ?? {};
  check.matches('database.databaseName', d.databaseName, POSTGRES_IDENTIFIER, IDENTIFIER_RULE);
  check.matches('database.masterUsername', d.masterUsername, POSTGRES_IDENTIFIER, IDENTIFIER_RULE);
  check.matches('database.appUsername', d.appUsername, APP_IDENTIFIER, APP_IDENTIFIER_RULE);
  checkUsername(check, 'database.masterUsername', d.masterUsername);
  checkUsername(check, 'database.appUsername', d.appUsername);
  const masterUsername = d.masterUsername ?? defaults['DatabaseOptions.masterUsername'];
  const appUsername = d.appUsername ?? defaults['DatabaseOptions.appUsername'];
  if (isKnown(appUsername)) {
    check.refuse(
      appUsername.toLowerCase().endsWith(CLONE_SUFFIX),
      `\`database.appUsername\` must not end with "${CLONE_SUFFIX}": the rotation names the app's second login "<appUsername>${CLONE_SUFFIX}", got "${appUsername}".`,
    );
    check.refuse(
      isKnown(masterUsername) &&
        [appUsername.toLowerCase(), cloneOf(appUsername).toLowerCase()].includes(masterUsername.toLowerCase()),
      `\`database.appUsername\` ("${appUsername}") and its rotation login "${cloneOf(appUsername)}" must differ from \`database.masterUsername\` ("${masterUsername}"): the app must never hold the master user.`,
    );
  }
  check.integer('database.allocatedStorage', d.allocatedStorage, 20, 65536);
  check.integer('database.maxAllocatedStorage', d.maxAllocatedStorage, 20, 65536);
  const allocatedStorage = d.allocatedStorage ?? defaults['DatabaseOptions.allocatedStorage'];
  const maxDefault = defaults['DatabaseOptions.maxAllocatedStorage'];
  const maxAllocatedStorage =
    d.maxAllocatedStorage ?? (isKnown(allocatedStorage) ? Math.max(maxDefault, allocatedStorage) : maxDefault);
  check.refuse(
    isKnown(allocatedStorage) && isKnown(maxAllocatedStorage) && maxAllocatedStorage < allocatedStorage,
    `\`database.maxAllocatedStorage\` must be >= \`database.allocatedStorage\`, got ${maxAllocatedStorage} < ${allocatedStorage}.`,
  );
  const engineVersion = d.engineVersion ?? defaults['DatabaseOptions.engineVersion'];
  const major = Number(engineVersion.postgresMajorVersion);
  check.refuse(
    !Token.isUnresolved(engineVersion.postgresMajorVersion) && !(major >= OLDEST_MAJOR),
    `\`database.engineVersion\` must be PostgreSQL ${OLDEST_MAJOR} or newer, got ${engineVersion.postgresFullVersion}: ` +
      `older majors are out of RDS standard support (paid Extended Support) and the app-user bootstrap is tested on ${OLDEST_MAJOR} and 17.`,
  );
  check.wholeDays('database.backupRetention', d.backupRetention, 1, 35, ' (point-in-time recovery needs backups)');
  check.duration('database.rotation', d.rotation?._schedule, 86400, 1000 * 86400);
  const iamAuthentication = d.iamAuthentication ?? defaults['DatabaseOptions.iamAuthentication'];
  const proxy = resolveProxy(check, d.proxy ?? defaults['DatabaseOptions.proxy'], iamAuthentication, defaults);
  const engine = resolveEngine(check, d, defaults, { oldestMajor: OLDEST_MAJOR, proxy: proxy !== undefined });
  return {
    engine,
    engineVersion,
    // Aurora provisioned runs its own default class; serverless has none (its capacity is in ACUs).
    instanceType:
      engine.kind === 'provisioned'
        ? engine.instanceType
        : (d.instanceType ?? defaults['DatabaseOptions.instanceType']),
    // Aurora: a reader in another Availability Zone is the failover target.
    multiAz: engine.kind === 'instance' ? (d.multiAz ?? defaults['DatabaseOptions.multiAz']) : engine.readers > 0,
    databaseName: d.databaseName ?? defaults['DatabaseOptions.databaseName'],
    masterUsername,
    appUsername,
    allocatedStorage,
    maxAllocatedStorage,
    backupRetention: d.backupRetention ?? defaults['DatabaseOptions.backupRetention'],
    deletionProtection: d.deletionProtection ?? defaults['DatabaseOptions.deletionProtection'],
    removalPolicy: d.removalPolicy ?? defaults['DatabaseOptions.removalPolicy'],
    encryptionKey: d.encryptionKey,
    rotation: d.rotation ?? defaults['DatabaseOptions.rotation'],
    backupPlan: d.backupPlan ?? defaults['DatabaseOptions.backupPlan'],
    iamAuthentication,
    proxy,
    profile,
  };
}

/** The parts of the database the construct exposes. */
export interface DatabaseParts {
  /** The instance, or the Aurora cluster. */
  readonly server: DatabaseServer;
  /** The reader endpoint's address, when an Aurora cluster has readers. */
  readonly readerEndpoint?: string;
  /** The master credentials: read only by the app-user bootstrap and the rotation functions. */
  readonly masterSecret: secretsmanager.ISecret;
  /**
   * The app's credentials (host, port, dbname, username, password): what the service and the migration task get.
   * None behind a proxy: the app user then authenticates with IAM and has no password.
   */
  readonly appSecret?: secretsmanager.ISecret;
  /** The RDS Proxy in front of the instance, when `database.proxy` chooses one. */
  readonly proxy?: ProxyParts;
  /** The rotations, when rotation is on: the app secret's alternating users (no app secret: none), the master's single user. */
  readonly rotation?: Rotations;
  readonly encryptionKey: kms.IKey;
  readonly securityGroup: ec2.SecurityGroup;
  /** The parameter group (TLS required, logging settings): the instance's, or the Aurora cluster's. */
  readonly parameterGroup: rds.ParameterGroup;
  /** The AWS Backup plan, when `database.backupPlan` is on. */
  readonly backupPlan?: backup.BackupPlan;
}

/** What the database needs from the other parts. */
export interface DatabaseInputs {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Subnets where a function reaches AWS APIs without a public IP; none means the VPC has no NAT. */
  readonly privateEgressSubnets?: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
  readonly acks: Acknowledgements;
}

/**
 * Creates the PostgreSQL instance in the database subnets: encrypted with a KMS key, TLS enforced by its parameter
 * group, backed up with point-in-time recovery, and reachable by nothing until `allowServiceToReachDatabase`.
 */
export function createDatabase(scope: Construct, d: ResolvedDatabase, inputs: DatabaseInputs): DatabaseParts {
  const { vpc, acks } = inputs;
  const dev = d.profile === EnvironmentProfile.DEV;
  const encryptionKey = d.encryptionKey ?? createDatabaseKey(scope, d.removalPolicy, acks);
  const securityGroup = new ec2.SecurityGroup(scope, 'DatabaseSecurityGroup', {
    vpc,
    description: 'PostgreSQL: admits only the web service (and the rotation function) on the database port',
    allowAllOutbound: false,
  });
  const secret = new rds.DatabaseSecret(scope, 'DatabaseSecret', {
    username: d.masterUsername,
    dbname: d.databaseName,
    encryptionKey,
  });
  const common = { encryptionKey, securityGroup, secret, inputs, acks };
  const { server, parameterGroup, readerEndpoint } =
    d.engine.kind === 'instance' ? createInstance(scope, d, common) : createCluster(scope, d, d.engine, common);

  // The app's own login: the secret names the master secret (masterarn), which only the rotation function reads.
  // Behind a proxy the app user authenticates with IAM end to end and has no password, hence no secret.
  const appSecretResource = d.proxy
    ? undefined
    : new rds.DatabaseSecret(scope, 'AppDatabaseSecret', {
        username: d.appUsername,
        dbname: d.databaseName,
        encryptionKey,
        masterSecret: server.secret!,
      });
  const appSecret = appSecretResource?.attach(server);
  const proxy = d.proxy
    ? createProxy(scope, d.proxy, {
        server,
        vpc,
        subnets: inputs.subnets,
        appUsername: d.appUsername,
        readers: readerEndpoint !== undefined,
        acks,
      })
    : undefined;

  const schedule = d.rotation._schedule;
  const rotation = schedule ? addRotations(scope, { server, appSecret, schedule, ...inputs }) : undefined;
  if (!schedule && dev) {
    for (const s of [secret, ...(appSecretResource ? [appSecretResource] : [])]) {
      acks.acknowledge(s, {
        rules: ['AwsSolutions-SMG4', ...inCompliancePacks('SecretsManagerRotationEnabled')],
        reason:
          'The dev profile does not rotate passwords: rotation would need a Secrets Manager endpoint (7.30 USD a month) in its VPC without NAT. Prod rotates every 30 days.',
      });
    }
  }
  const backupPlan = d.backupPlan ? addBackupPlan(scope, server, encryptionKey, d.removalPolicy, acks) : undefined;
  if (!backupPlan && dev) {
    acks.acknowledge(server, {
      rules: [
        'rds_instance_backup_enabled_check',
        ...inCompliancePacks('RDSInBackupPlan', ['NIST.800.53.R5', 'HIPAA.Security']),
      ],
      reason:
        'The dev profile keeps one day of automated backups and no AWS Backup plan; prod keeps 14 days and a backup plan.',
    });
  }
  if (backupPlan && server instanceof rds.DatabaseCluster) {
    // cdk-nag looks for each DB instance in a backup plan; an Aurora member has no storage of its own.
    for (const member of server.node.findAll().filter((c) => c instanceof rds.CfnDBInstance)) {
      acks.acknowledge(member, {
        rules: inCompliancePacks('RDSInBackupPlan', ['NIST.800.53.R5', 'HIPAA.Security']),
        reason:
          'An Aurora member instance has no storage of its own: the AWS Backup plan selects the cluster, whose volume holds the data.',
      });
    }
  }
  return {
    server,
    readerEndpoint,
    masterSecret: server.secret!,
    appSecret,
    proxy,
    rotation,
    encryptionKey,
    securityGroup,
    parameterGroup,
    backupPlan,
  };
}

/** What creating the instance or the cluster shares with the rest of the database. */
export interface ServerCommon {
  readonly encryptionKey: kms.IKey;
  readonly securityGroup: ec2.SecurityGroup;
  /** The master credentials. */
  readonly secret: rds.DatabaseSecret;
  readonly inputs: DatabaseInputs;
  readonly acks: Acknowledgements;
}

/** What creating the instance or the cluster returns. */
export interface CreatedServer {
  readonly server: DatabaseServer;
  readonly parameterGroup: rds.ParameterGroup;
  readonly readerEndpoint?: string;
}

/** One RDS for PostgreSQL instance, Multi-AZ in prod. */
function createInstance(scope: Construct, d: ResolvedDatabase, common: ServerCommon): CreatedServer {
  const { encryptionKey, securityGroup, secret, inputs, acks } = common;
  const { vpc } = inputs;
  const dev = d.profile === EnvironmentProfile.DEV;
  const engine = rds.DatabaseInstanceEngine.postgres({ version: d.engineVersion });
  const parameterGroup = tlsParameterGroup(scope, 'DatabaseParameters', engine);
  const instance = new rds.DatabaseInstance(scope, 'Database', {
    engine,
    instanceType: d.instanceType,
    vpc,
    vpcSubnets: inputs.subnets,
    securityGroups: [securityGroup],
    publiclyAccessible: false,
    port: DATABASE_PORT,
    multiAz: d.multiAz,
    databaseName: d.databaseName,
    credentials: rds.Credentials.fromSecret(secret),
    parameterGroup,
    storageType: rds.StorageType.GP3,
    allocatedStorage: d.allocatedStorage,
    maxAllocatedStorage: d.maxAllocatedStorage,
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
    cloudwatchLogsRetention: inputs.logRetention,
    iamAuthentication: d.iamAuthentication,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
  });

  acknowledgeServer(instance, acks, { dev, deletionProtection: d.deletionProtection });
  if (dev && !d.multiAz) {
    acks.acknowledge(instance, {
      rules: [
        'AwsSolutions-RDS3',
        ...inCompliancePacks('RDSMultiAZSupport', ['NIST.800.53.R5', 'HIPAA.Security']),
        'rds_instance_multi_az_support_check',
      ],
      reason: 'The dev profile is single-AZ to halve the database cost; prod is Multi-AZ.',
    });
  }
  return { server: instance, parameterGroup };
}

function createDatabaseKey(scope: Construct, removalPolicy: RemovalPolicy, acks: Acknowledgements): kms.Key {
  return createKey(scope, 'DatabaseKey', {
    description: 'Encrypts the database storage, its Performance Insights data and its credentials',
    removalPolicy,
    acks,
  });
}

/**
 * The log groups RDS creates get their retention from CDK's log-retention function, one per stack. It is found
 * through the custom resources the instance creates, not through CDK's internal id.
 */
/**
 * Opens the database port to the service's security group, and to nothing else: on the proxy when there is one (the
 * tasks then cannot reach the instance itself), else on the instance.
 */
export function allowServiceToReachDatabase(database: DatabaseParts, serviceSecurityGroup: ec2.ISecurityGroup): void {
  const target = database.proxy?.securityGroup ?? database.server;
  target.connections.allowFrom(serviceSecurityGroup, ec2.Port.tcp(DATABASE_PORT), 'The web service');
}
