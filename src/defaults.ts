import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { CredentialRotation } from './database/credential-rotation';
import { DatabaseEngine } from './database/engine-choice';
import { RdsProxy } from './database/proxy-choice';
import { AccessLogs, Https, WebAcl } from './load-balancer/choices';
import { Alarms } from './monitoring/alarms-choice';
import { EnvironmentProfile } from './profile';
import { ContainerHealthCheck } from './service/container-health-check';
import { DatabaseVariables } from './service/database-variables';
import { DeploymentAlarms } from './service/deployment-alarms';
import { RolloutStrategy } from './service/rollout-strategy';

/** A default that differs between the profiles. */
export class ByProfile<T> {
  constructor(
    public readonly dev: T,
    public readonly prod: T,
  ) {}
}

const byProfile = <T>(dev: T, prod: T) => new ByProfile(dev, prod);

/**
 * Every default of the construct, in one table, keyed by the prop it fills (`<Interface>.<member>`). A key that names
 * no prop (`Fixed.*`) is a fixed value the construct uses where no prop exists. `@default` docs in `props.ts` and
 * `docs/defaults.md` are checked against this table by `test/defaults.test.ts`.
 */
export const DEFAULTS = {
  'FargateWebServiceWithDatabaseProps.profile': EnvironmentProfile.DEV,
  'FargateWebServiceWithDatabaseProps.outputs': true,

  'NetworkOptions.maxAzs': 2,
  /** Prod runs a NAT gateway in each AZ, so losing an AZ never cuts the others' egress. */
  'NetworkOptions.natGateways': byProfile<number | 'one per AZ'>(0, 'one per AZ'),
  'NetworkOptions.flowLogs': true,
  'NetworkOptions.taskEgressOutsideApp': false,

  'RepositoryOptions.maxImageCount': byProfile(10, 30),
  'RepositoryOptions.untaggedImageExpiry': byProfile(Duration.days(1), Duration.days(7)),
  'RepositoryOptions.imageTagMutability': byProfile(ecr.TagMutability.MUTABLE, ecr.TagMutability.IMMUTABLE),
  'RepositoryOptions.removalPolicy': byProfile(RemovalPolicy.DESTROY, RemovalPolicy.RETAIN),

  'LoggingOptions.retention': byProfile(logs.RetentionDays.ONE_WEEK, logs.RetentionDays.ONE_YEAR),
  /** Log groups and their key follow the profile: disposable in dev, kept as evidence in prod. */
  'Fixed.logsRemovalPolicy': byProfile(RemovalPolicy.DESTROY, RemovalPolicy.RETAIN),

  'DirectoryImageOptions.file': 'Dockerfile',

  'ContainerOptions.port': 3000,
  'ContainerOptions.databasePoolSize': 10,
  'ContainerOptions.stopTimeout': Duration.seconds(30),
  'ContainerOptions.user': '1000',
  'ContainerOptions.readonlyRootFilesystem': true,
  'ContainerOptions.healthCheck': ContainerHealthCheck.none(),
  'ContainerOptions.writablePaths': ['/tmp'] as string[],
  'ContainerOptions.databaseVariables': DatabaseVariables.db(),
  /** The timings of `ContainerHealthCheck.nodeFetch()`. */
  'Fixed.containerHealthCheckInterval': Duration.seconds(30),
  'Fixed.containerHealthCheckTimeout': Duration.seconds(5),
  'Fixed.containerHealthCheckRetries': 3,
  'Fixed.containerHealthCheckStartPeriod': Duration.seconds(30),

  'ServiceOptions.cpu': byProfile(256, 512),
  'ServiceOptions.memoryLimitMiB': byProfile(512, 1024),
  'ServiceOptions.cpuArchitecture': ecs.CpuArchitecture.X86_64,
  'ServiceOptions.spotPercentage': 0,
  'ServiceOptions.enableExecuteCommand': false,
  'ServiceOptions.deploymentAlarms': DeploymentAlarms.rollbackOnErrors(),
  'RollbackAlarmOptions.target5xxPercent': 5,
  'RollbackAlarmOptions.minimumRequestsPerMinute': 20,
  'RollbackAlarmOptions.unhealthyHostCount': 1,
  'ServiceOptions.rolloutStrategy': RolloutStrategy.rolling(),
  'TrafficShiftBakeOptions.bakeTime': Duration.minutes(5),
  'CanaryOptions.percent': 5,
  'CanaryOptions.canaryBakeTime': Duration.minutes(10),
  'LinearOptions.stepPercent': 10,
  'LinearOptions.stepBakeTime': Duration.minutes(6),
  /** The grace period is derived: this start allowance + interval x healthy threshold x 2. */
  'Fixed.gracePeriodStartAllowance': Duration.seconds(30),

  'LoadBalancerOptions.internetFacing': true,
  'LoadBalancerOptions.deregistrationDelay': Duration.seconds(30),
  'LoadBalancerOptions.idleTimeout': Duration.seconds(60),
  'LoadBalancerOptions.deletionProtection': byProfile(false, true),
  'LoadBalancerOptions.https': Https.none(),
  'LoadBalancerOptions.accessLogs': byProfile(AccessLogs.disabled(), AccessLogs.newBucket()),
  /** A web ACL costs about 10 USD a month: none in dev. */
  'LoadBalancerOptions.webAcl': byProfile(WebAcl.none(), WebAcl.managed()),
  'ManagedWebAclOptions.rateLimit': 2000,
  'HealthCheckOptions.path': '/health',
  'HealthCheckOptions.interval': Duration.seconds(15),
  'HealthCheckOptions.timeout': Duration.seconds(5),
  'HealthCheckOptions.healthyThresholdCount': 2,
  'HealthCheckOptions.unhealthyThresholdCount': 3,
  'HealthCheckOptions.healthyHttpCodes': '200',
  'Fixed.accessLogsExpiry': Duration.days(90),

  'ScalingOptions.minCapacity': byProfile(1, 2),
  'ScalingOptions.maxCapacity': byProfile(2, 10),
  'ScalingOptions.targetCpuUtilizationPercent': 70,
  'ScalingOptions.requestsPerTarget': 1000,
  'ScalingOptions.scaleOutCooldown': Duration.seconds(60),
  'ScalingOptions.scaleInCooldown': Duration.seconds(300),

  'DatabaseOptions.engineVersion': rds.PostgresEngineVersion.VER_17,
  'DatabaseOptions.instanceType': byProfile(
    ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
  ),
  'DatabaseOptions.multiAz': byProfile(false, true),
  'DatabaseOptions.databaseName': 'app',
  'DatabaseOptions.masterUsername': 'app_admin',
  'DatabaseOptions.appUsername': 'app_user',
  'DatabaseOptions.allocatedStorage': byProfile(20, 100),
  'DatabaseOptions.maxAllocatedStorage': byProfile(50, 1000),
  'DatabaseOptions.backupRetention': byProfile(Duration.days(1), Duration.days(14)),
  'DatabaseOptions.deletionProtection': byProfile(false, true),
  'DatabaseOptions.removalPolicy': byProfile(RemovalPolicy.DESTROY, RemovalPolicy.SNAPSHOT),
  /**
   * Rotation: off in dev (in its VPC without NAT it needs a Secrets Manager endpoint, 7.30 USD a month, which with
   * the dashboard would put dev 25 % above the cheapest stack that runs the service); every 30 days in prod.
   */
  'DatabaseOptions.rotation': byProfile(CredentialRotation.disabled(), CredentialRotation.every(Duration.days(30))),
  'DatabaseOptions.backupPlan': byProfile(false, true),
  'DatabaseOptions.iamAuthentication': true,
  'DatabaseOptions.proxy': RdsProxy.none(),
  'RdsProxyOptions.maxConnectionsPercent': 80,
  'RdsProxyOptions.borrowTimeout': Duration.seconds(30),
  'DatabaseOptions.engine': DatabaseEngine.rdsPostgres(),
  'AuroraServerlessOptions.version': rds.AuroraPostgresEngineVersion.VER_17_7,
  'AuroraServerlessOptions.minCapacity': byProfile(0, 0.5),
  'AuroraServerlessOptions.maxCapacity': byProfile(2, 16),
  'AuroraServerlessOptions.readers': byProfile(0, 1),
  'AuroraProvisionedOptions.version': rds.AuroraPostgresEngineVersion.VER_17_7,
  'AuroraProvisionedOptions.readers': byProfile(0, 1),
  /** Aurora provisioned's writer and readers when `database.instanceType` is not set: the smallest class it runs on, then r7g. */
  'Fixed.auroraInstanceType': byProfile(
    ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
  ),

  'MigrationOptions.timeout': Duration.minutes(15),
  'MigrationOptions.disableMigrateOnStart': true,

  'MonitoringOptions.alarms': Alarms.toNewTopic(),
  /** The dashboard costs 3 USD a month: off in dev. */
  'MonitoringOptions.dashboard': byProfile(false, true),
  'AlarmThresholds.target5xxCount': byProfile(20, 10),
  'AlarmThresholds.loadBalancer5xxCount': byProfile(20, 10),
  'AlarmThresholds.p99LatencySeconds': byProfile(3, 2),
  'AlarmThresholds.unhealthyHostCount': 1,
  'AlarmThresholds.serviceCpuPercent': byProfile(90, 85),
  'AlarmThresholds.serviceMemoryPercent': byProfile(90, 85),
  'AlarmThresholds.databaseCpuPercent': byProfile(90, 80),
  /** Database thresholds are derived from the instance: these are the fractions and the fallbacks. */
  'Fixed.databaseFreeStorageFraction': 0.1,
  'Fixed.databaseFreeableMemoryFraction': 0.1,
  'Fixed.databaseFreeableMemoryFallbackMiB': 128,
  'Fixed.databaseConnectionsFraction': 0.8,
  'Fixed.databaseConnectionsFallback': 80,
  /** Connections the budget keeps free: PostgreSQL's superuser_reserved_connections (3) and RDS's own (2). */
  'Fixed.databaseConnectionReserve': 5,
};

type Table = typeof DEFAULTS;
type Unwrap<V> = V extends ByProfile<infer T> ? T : V;

/** The table as one profile sees it. */
export type ProfileDefaults = { readonly [K in keyof Table]: Unwrap<Table[K]> };

const cache = new Map<EnvironmentProfile, ProfileDefaults>();

/** The defaults of one profile: each `ByProfile` entry replaced by the profile's value. */
export function defaultsFor(profile: EnvironmentProfile): ProfileDefaults {
  let defaults = cache.get(profile);
  if (!defaults) {
    const key = profile === EnvironmentProfile.PROD ? 'prod' : 'dev';
    defaults = Object.fromEntries(
      Object.entries(DEFAULTS).map(([name, value]) => [name, value instanceof ByProfile ? value[key] : value]),
    ) as ProfileDefaults;
    cache.set(profile, defaults);
  }
  return defaults;
}

/** Tag key the construct puts on its resources, with the profile as value (read by the library's guard rules). */
export const PROFILE_TAG = 'fargate-web-service:profile';
