import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { CreatedServer, ResolvedDatabase, ServerCommon } from './database';
import { acknowledgeServer, DATABASE_PORT, tlsParameterGroup } from './server';
import { ProfileDefaults } from '../defaults';
import { isKnown, PropChecker } from '../internal/validation';
import { EnvironmentProfile } from '../profile';
import { DatabaseOptions } from '../props';

/** The database engine, resolved: the instance, or an Aurora cluster with its settings. */
export type ResolvedEngine =
  | { readonly kind: 'instance' }
  | {
      readonly kind: 'serverless';
      readonly version: rds.AuroraPostgresEngineVersion;
      readonly minCapacity: number;
      readonly maxCapacity: number;
      /** Set when `minCapacity` is 0. */
      readonly autoPause?: Duration;
      readonly readers: number;
    }
  | {
      readonly kind: 'provisioned';
      readonly version: rds.AuroraPostgresEngineVersion;
      readonly instanceType: ec2.InstanceType;
      readonly readers: number;
    };

/** About 2 GiB of memory per Aurora capacity unit (Aurora User Guide, "How Aurora Serverless v2 works"). */
export const ACU_MEMORY_BYTES = 2 * 1024 ** 3;

/**
 * The oldest minor of each major whose Aurora Serverless v2 instances scale to 0 ACUs (Aurora User Guide, "Scaling
 * to Zero ACUs with automatic pause and resume": 13.15, 14.12, 15.7, 16.3; every 17).
 */
const PAUSE_SINCE_MINOR: Record<number, number> = { 14: 12, 15: 7, 16: 3, 17: 0 };

/** Aurora PostgreSQL's instance classes: memory-optimised r and x2g, and burstable t3/t4g of medium or large size. */
const AURORA_CLASS = /^(r\d+[a-z]*|x2g)\.[0-9]*x?large$|^t(3|4g)\.(medium|large)$/;

/**
 * Resolves `database.engine`, refusing what the chosen engine cannot do with a message that names the prop and the
 * way out. Instance-only props are refused with Aurora; Aurora's capacity and readers are checked against its limits.
 */
export function resolveEngine(
  check: PropChecker,
  d: DatabaseOptions,
  defaults: ProfileDefaults,
  inputs: { readonly oldestMajor: number; readonly proxy: boolean },
): ResolvedEngine {
  const choice = d.engine ?? defaults['DatabaseOptions.engine'];
  if (choice._kind === 'instance') return { kind: 'instance' };
  const o = choice._options;
  const instanceOnly: [keyof DatabaseOptions, string][] = [
    ['engineVersion', 'give the Aurora version as the `version` option of the engine'],
    ['multiAz', 'Aurora keeps six copies in three Availability Zones; add `readers` for a failover target'],
    ['allocatedStorage', 'Aurora storage grows by itself'],
    ['maxAllocatedStorage', 'Aurora storage grows by itself'],
  ];
  for (const [prop, why] of instanceOnly) {
    check.refuse(
      d[prop] !== undefined,
      `\`database.${prop}\` is for DatabaseEngine.rdsPostgres(), not ${choice}: ${why}.`,
    );
  }
  const serverless = choice._kind === 'serverless';
  const version =
    o.version ?? defaults[serverless ? 'AuroraServerlessOptions.version' : 'AuroraProvisionedOptions.version'];
  const [majorText, minorText] = String(version.auroraPostgresFullVersion).split('.');
  const major = Number(majorText);
  check.refuse(
    !Token.isUnresolved(version.auroraPostgresFullVersion) && !(major >= inputs.oldestMajor),
    `\`database.engine\` ${choice} needs Aurora PostgreSQL ${inputs.oldestMajor} or newer, got ${version.auroraPostgresFullVersion}.`,
  );
  check.integer('database.engine.readers', o.readers, 0, 15);
  const readers =
    o.readers ?? defaults[serverless ? 'AuroraServerlessOptions.readers' : 'AuroraProvisionedOptions.readers'];

  if (choice._kind === 'provisioned') {
    const instanceType = d.instanceType ?? defaults['Fixed.auroraInstanceType'];
    const name = instanceType.toString();
    check.refuse(
      !Token.isUnresolved(name) && !AURORA_CLASS.test(name),
      `\`database.instanceType\` ${name} cannot run ${choice}: Aurora PostgreSQL runs on r- and x2g-classes and on t3/t4g medium or large (for example db.r7g.large or db.t4g.medium).`,
    );
    return { kind: 'provisioned', version, instanceType, readers };
  }

  check.refuse(
    d.instanceType !== undefined,
    `\`database.instanceType\` is not used by ${choice}: its capacity is \`minCapacity\` to \`maxCapacity\` ACUs.`,
  );
  const minCapacity = o.minCapacity ?? defaults['AuroraServerlessOptions.minCapacity'];
  const maxCapacity = o.maxCapacity ?? defaults['AuroraServerlessOptions.maxCapacity'];
  const halves = (value: number) => Number.isInteger(value * 2);
  check.refuse(
    isKnown(minCapacity) && !(minCapacity >= 0 && minCapacity <= 256 && halves(minCapacity)),
    `\`database.engine\` minCapacity must be 0 to 256 ACUs in steps of 0.5, got ${minCapacity}.`,
  );
  check.refuse(
    isKnown(maxCapacity) && !(maxCapacity >= 1 && maxCapacity <= 256 && halves(maxCapacity)),
    `\`database.engine\` maxCapacity must be 1 to 256 ACUs in steps of 0.5, got ${maxCapacity}.`,
  );
  check.refuse(
    isKnown(minCapacity) && isKnown(maxCapacity) && maxCapacity < minCapacity,
    `\`database.engine\` maxCapacity must be >= minCapacity, got ${maxCapacity} < ${minCapacity}.`,
  );
  const pauses = isKnown(minCapacity) && minCapacity === 0;
  check.refuse(
    o.autoPause !== undefined && !pauses,
    `\`database.engine\` autoPause needs a minCapacity of 0 (only a database at 0 ACUs pauses), got minCapacity ${minCapacity}.`,
  );
  check.duration('database.engine.autoPause', o.autoPause, 300, 86400);
  check.refuse(
    pauses && inputs.proxy,
    `\`database.engine\` ${choice} with minCapacity 0 cannot be combined with \`database.proxy\`: Aurora does not pause a database behind RDS Proxy. Set minCapacity to 0.5 or more, or choose RdsProxy.none().`,
  );
  const minor = Number(minorText);
  check.refuse(
    pauses && !Token.isUnresolved(version.auroraPostgresFullVersion) && minor < (PAUSE_SINCE_MINOR[major] ?? 0),
    `\`database.engine\` minCapacity 0 needs Aurora PostgreSQL ${major}.${PAUSE_SINCE_MINOR[major]} or newer to pause, got ${version.auroraPostgresFullVersion}; choose a newer version or a minCapacity of 0.5.`,
  );
  return {
    kind: 'serverless',
    version,
    minCapacity,
    maxCapacity,
    autoPause: pauses ? (o.autoPause ?? Duration.minutes(5)) : undefined,
    readers,
  };
}

/**
 * An Aurora PostgreSQL cluster in the database subnets: a writer and `readers` (serverless v2, or of the instance
 * class), encrypted with the database key, TLS required by its cluster parameter group, IAM authentication, backups
 * and deletion protection per profile, the `postgresql` log exported.
 */
export function createCluster(
  scope: Construct,
  d: ResolvedDatabase,
  engine: Exclude<ResolvedEngine, { kind: 'instance' }>,
  common: ServerCommon,
): CreatedServer {
  const { encryptionKey, securityGroup, secret, inputs, acks } = common;
  const dev = d.profile === EnvironmentProfile.DEV;
  const clusterEngine = rds.DatabaseClusterEngine.auroraPostgres({ version: engine.version });
  const parameterGroup = tlsParameterGroup(scope, 'DatabaseClusterParameters', clusterEngine);
  const instanceProps = {
    publiclyAccessible: false,
    autoMinorVersionUpgrade: true,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: encryptionKey,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
  };
  const member = (id: string) =>
    engine.kind === 'serverless'
      ? rds.ClusterInstance.serverlessV2(id, { ...instanceProps, scaleWithWriter: true })
      : rds.ClusterInstance.provisioned(id, { ...instanceProps, instanceType: engine.instanceType });
  const cluster = new rds.DatabaseCluster(scope, 'DatabaseCluster', {
    engine: clusterEngine,
    vpc: inputs.vpc,
    vpcSubnets: inputs.subnets,
    securityGroups: [securityGroup],
    port: DATABASE_PORT,
    defaultDatabaseName: d.databaseName,
    credentials: rds.Credentials.fromSecret(secret),
    parameterGroup,
    writer: member('Writer'),
    readers: Array.from({ length: engine.readers }, (_, i) => member(`Reader${i + 1}`)),
    ...(engine.kind === 'serverless'
      ? {
          serverlessV2MinCapacity: engine.minCapacity,
          serverlessV2MaxCapacity: engine.maxCapacity,
          serverlessV2AutoPauseDuration: engine.autoPause,
        }
      : {}),
    storageEncrypted: true,
    storageEncryptionKey: encryptionKey,
    backup: { retention: d.backupRetention },
    copyTagsToSnapshot: true,
    deletionProtection: d.deletionProtection,
    removalPolicy: d.removalPolicy,
    iamAuthentication: d.iamAuthentication,
    monitoringInterval: Duration.seconds(60),
    cloudwatchLogsExports: ['postgresql'],
    cloudwatchLogsRetention: inputs.logRetention,
  });

  acknowledgeServer(cluster, acks, { dev, deletionProtection: d.deletionProtection });
  return {
    server: cluster,
    parameterGroup,
    readerEndpoint: engine.readers > 0 ? cluster.clusterReadEndpoint.hostname : undefined,
  };
}
