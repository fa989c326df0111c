import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { instanceMemoryBytes, maxConnections } from './monitoring';
import { EnvironmentProfile } from './profile';
import { PROFILE_DEFAULTS, ProfileAlarmThresholds, ProfileDefaults } from './profile-defaults';
import { FargateWebServiceWithDatabaseProps } from './props';
import { ServiceImage } from './service-image';

/** Environment variable names the construct sets itself. */
export const RESERVED_ENVIRONMENT = ['PORT', 'NODE_ENV', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'];
const CREDENTIAL_LIKE_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const POSTGRES_IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_USERNAMES = ['postgres', 'rdsadmin', 'rds_superuser', 'admin', 'public', 'user', 'root'];
const HTTP_CODES = /^([2-4][0-9]{2})(-[2-4][0-9]{2}|(,[2-4][0-9]{2})*)$/;

/** Valid Fargate memory sizes (MiB) per CPU value. */
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** The service endpoints tasks in subnets without a default route need. */
const REQUIRED_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 's3'];

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/** Everything the parts need, with every default applied and every value checked. */
export interface ResolvedOptions {
  readonly profile: EnvironmentProfile;
  readonly image: ServiceImage;
  readonly network: {
    readonly vpc?: ec2.IVpc;
    readonly maxAzs: number;
    readonly natGateways: number;
    readonly flowLogs: boolean;
    readonly taskSubnets: ec2.SubnetSelection;
    readonly assignPublicIp: boolean;
    readonly databaseSubnets: ec2.SubnetSelection;
  };
  readonly repository: {
    readonly repositoryName?: string;
    readonly maxImageCount: number;
    readonly untaggedImageExpiry: Duration;
    readonly imageTagImmutable: boolean;
    readonly removalPolicy: RemovalPolicy;
  };
  readonly container: {
    readonly port: number;
    readonly environment: { [name: string]: string };
    readonly secrets: { [name: string]: ecs.Secret };
    readonly healthCheck?: ecs.HealthCheck;
    readonly stopTimeout: Duration;
    readonly user: string;
    readonly readonlyRootFilesystem: boolean;
  };
  readonly logs: {
    readonly retention: logs.RetentionDays;
    readonly encryptionKey?: kms.IKey;
    readonly removalPolicy: RemovalPolicy;
  };
  readonly service: {
    readonly cluster?: ecs.ICluster;
    readonly cpu: number;
    readonly memoryLimitMiB: number;
    readonly cpuArchitecture: ecs.CpuArchitecture;
    readonly spotPercentage: number;
    readonly healthCheckGracePeriod: Duration;
    readonly enableExecuteCommand: boolean;
  };
  readonly loadBalancer: {
    readonly internetFacing: boolean;
    readonly certificate?: acm.ICertificate;
    readonly domainName?: string;
    readonly hostedZone?: route53.IHostedZone;
    readonly healthCheck: {
      readonly path: string;
      readonly interval: Duration;
      readonly timeout: Duration;
      readonly healthyThresholdCount: number;
      readonly unhealthyThresholdCount: number;
      readonly healthyHttpCodes: string;
    };
    readonly deregistrationDelay: Duration;
    readonly idleTimeout: Duration;
    readonly accessLogs: boolean;
    readonly accessLogsBucket?: s3.IBucket;
    readonly deletionProtection: boolean;
    readonly webAcl: boolean;
    readonly webAclArn?: string;
    readonly webAclRateLimit: number;
    readonly removalPolicy: RemovalPolicy;
  };
  readonly scaling: {
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly targetCpuUtilizationPercent: number;
    readonly targetMemoryUtilizationPercent?: number;
    readonly requestsPerTarget: number;
    readonly scaleOutCooldown: Duration;
    readonly scaleInCooldown: Duration;
  };
  readonly database: {
    readonly engineVersion: rds.PostgresEngineVersion;
    readonly instanceType: ec2.InstanceType;
    readonly multiAz: boolean;
    readonly databaseName: string;
    readonly username: string;
    readonly allocatedStorageGiB: number;
    readonly maxAllocatedStorageGiB: number;
    readonly backupRetention: Duration;
    readonly deletionProtection: boolean;
    readonly removalPolicy: RemovalPolicy;
    readonly encryptionKey?: kms.IKey;
    readonly rotation: boolean;
    readonly rotationSchedule: Duration;
    readonly backupPlan: boolean;
    readonly iamAuthentication: boolean;
  };
  readonly migrations?: {
    readonly command: string[];
    readonly timeout: Duration;
    readonly disableMigrateOnStart: boolean;
  };
  readonly monitoring: {
    readonly alarms: boolean;
    readonly dashboard: boolean;
    readonly alarmTopic?: sns.ITopic;
    readonly alarmEmail?: string;
    readonly thresholds: ProfileAlarmThresholds & {
      readonly databaseFreeStorageBytes: number;
      readonly databaseFreeableMemoryBytes: number;
      readonly databaseConnections: number;
    };
  };
}

/**
 * Merges the profile's defaults with the props and checks every value, once.
 *
 * Values that are tokens are not checked: they are only known at deploy time.
 */
export function resolveOptions(scope: Construct, props: FargateWebServiceWithDatabaseProps): ResolvedOptions {
  if (!props.image) {
    throw new Error(
      '`image` is required: use ServiceImage.fromDirectory(), ServiceImage.fromRepositoryTag() or ServiceImage.fromContainerImage().',
    );
  }
  const profile = props.profile ?? EnvironmentProfile.DEV;
  const defaults = PROFILE_DEFAULTS[profile];
  if (!defaults) {
    throw new Error(`\`profile\` must be one of ${Object.values(EnvironmentProfile).join(', ')}, got "${profile}".`);
  }

  const scaling = resolveScaling(props, defaults.minCapacity, defaults.maxCapacity);
  const loadBalancer = resolveAccessLogsRegion(scope, props, resolveLoadBalancer(props, defaults));
  const container = resolveContainer(props, loadBalancer.healthCheck.path);
  const logging = {
    retention: props.logs?.retention ?? defaults.logRetention,
    encryptionKey: props.logs?.encryptionKey,
    removalPolicy: defaults.removalPolicy,
  };
  const service = resolveService(props, defaults.taskCpu, defaults.taskMemoryMiB, loadBalancer.healthCheck);
  const database = resolveDatabase(props, defaults);
  const network = resolveNetwork(
    scope,
    props,
    defaults.maxAzs,
    defaults.natGateways,
    defaults.vpcFlowLogs,
    database.multiAz,
  );
  if (network.vpc && loadBalancer.internetFacing && network.vpc.publicSubnets.length === 0) {
    throw new Error(
      '`loadBalancer.internetFacing` needs public subnets, and `network.vpc` has none; add public subnets or set `loadBalancer.internetFacing: false`.',
    );
  }
  const repository = resolveRepository(props, defaults);
  const monitoring = resolveMonitoring(props, defaults, database);
  const migrations = resolveMigrations(props);

  return {
    profile,
    image: props.image,
    network,
    repository,
    container,
    logs: logging,
    service,
    loadBalancer,
    scaling,
    database,
    monitoring,
    migrations,
  };
}

function isKnown(value: unknown): boolean {
  return value !== undefined && !Token.isUnresolved(value);
}

function requireInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (!isKnown(value)) return;
  if (!Number.isInteger(value) || value! < min || value! > max) {
    throw new Error(`\`${name}\` must be an integer from ${min} to ${max}, got ${value}.`);
  }
}

function requireDuration(name: string, value: Duration | undefined, minSeconds: number, maxSeconds: number): void {
  if (value === undefined || value.isUnresolved()) return;
  const seconds = value.toSeconds({ integral: false });
  if (seconds < minSeconds || seconds > maxSeconds) {
    throw new Error(
      `\`${name}\` must be from ${describeSeconds(minSeconds)} to ${describeSeconds(maxSeconds)}, got ${value.toHumanString()}.`,
    );
  }
}

function describeSeconds(seconds: number): string {
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

function resolveScaling(props: FargateWebServiceWithDatabaseProps, minDefault: number, maxDefault: number) {
  const s = props.scaling ?? {};
  requireInteger('scaling.minCapacity', s.minCapacity, 1, 1000);
  requireInteger('scaling.maxCapacity', s.maxCapacity, 1, 1000);
  const minCapacity = s.minCapacity ?? minDefault;
  const maxCapacity = s.maxCapacity ?? Math.max(maxDefault, isKnown(minCapacity) ? minCapacity : 0);
  if (isKnown(minCapacity) && isKnown(maxCapacity) && maxCapacity < minCapacity) {
    throw new Error(`\`scaling.maxCapacity\` must be >= \`scaling.minCapacity\`, got ${maxCapacity} < ${minCapacity}.`);
  }
  requireInteger('scaling.targetCpuUtilizationPercent', s.targetCpuUtilizationPercent, 1, 100);
  requireInteger('scaling.targetMemoryUtilizationPercent', s.targetMemoryUtilizationPercent, 1, 100);
  requireInteger('scaling.requestsPerTarget', s.requestsPerTarget, 1, 1_000_000);
  requireDuration('scaling.scaleOutCooldown', s.scaleOutCooldown, 0, 3600);
  requireDuration('scaling.scaleInCooldown', s.scaleInCooldown, 0, 3600);
  return {
    minCapacity,
    maxCapacity,
    targetCpuUtilizationPercent: s.targetCpuUtilizationPercent ?? 70,
    targetMemoryUtilizationPercent: s.targetMemoryUtilizationPercent,
    requestsPerTarget: s.requestsPerTarget ?? 1000,
    scaleOutCooldown: s.scaleOutCooldown ?? Duration.seconds(60),
    scaleInCooldown: s.scaleInCooldown ?? Duration.seconds(300),
  };
}

function resolveLoadBalancer(props: FargateWebServiceWithDatabaseProps, defaults: ProfileDefaults) {
  const lb = props.loadBalancer ?? {};
  const hc = lb.healthCheck ?? {};
  if (lb.accessLogsBucket && lb.accessLogs === false) {
    throw new Error('`loadBalancer.accessLogsBucket` is given but `loadBalancer.accessLogs` is false; remove one.');
  }
  if (lb.webAclArn !== undefined && lb.webAcl !== undefined) {
    throw new Error(
      '`loadBalancer.webAcl` and `loadBalancer.webAclArn` are mutually exclusive: let the construct create a web ACL, or give the ARN of yours.',
    );
  }
  if (isKnown(lb.webAclArn) && !/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+/.test(lb.webAclArn!)) {
    throw new Error(
      `\`loadBalancer.webAclArn\` must be the ARN of a regional WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...), got "${lb.webAclArn}".`,
    );
  }
  requireInteger('loadBalancer.webAclRateLimit', lb.webAclRateLimit, 100, 2_000_000_000);
  if (lb.certificate && lb.domainName !== undefined) {
    throw new Error(
      '`loadBalancer.certificate` and `loadBalancer.domainName` are mutually exclusive: give a certificate, or a domain name and hosted zone for which the construct creates one.',
    );
  }
  if (lb.domainName !== undefined && !lb.hostedZone) {
    throw new Error(
      '`loadBalancer.domainName` requires `loadBalancer.hostedZone`: the certificate is validated and the alias record created in that zone.',
    );
  }
  if (lb.hostedZone && lb.domainName === undefined) {
    throw new Error('`loadBalancer.hostedZone` is used only with `loadBalancer.domainName`; set both or neither.');
  }
  if (isKnown(lb.domainName) && !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(lb.domainName!)) {
    throw new Error(
      `\`loadBalancer.domainName\` must be a fully qualified domain name such as "api.example.com", got "${lb.domainName}".`,
    );
  }
  if (isKnown(hc.path) && !/^\/[\x21-\x7e]*$/.test(hc.path!)) {
    throw new Error(`\`loadBalancer.healthCheck.path\` must start with "/" and contain no spaces, got "${hc.path}".`);
  }
  requireDuration('loadBalancer.healthCheck.interval', hc.interval, 5, 300);
  requireDuration('loadBalancer.healthCheck.timeout', hc.timeout, 2, 120);
  requireInteger('loadBalancer.healthCheck.healthyThresholdCount', hc.healthyThresholdCount, 2, 10);
  requireInteger('loadBalancer.healthCheck.unhealthyThresholdCount', hc.unhealthyThresholdCount, 2, 10);
  if (isKnown(hc.healthyHttpCodes) && !HTTP_CODES.test(hc.healthyHttpCodes!)) {
    throw new Error(
      `\`loadBalancer.healthCheck.healthyHttpCodes\` must be codes from 200 to 499 as a list ("200,204") or a range ("200-299"), got "${hc.healthyHttpCodes}".`,
    );
  }
  const interval = hc.interval ?? Duration.seconds(15);
  const timeout = hc.timeout ?? Duration.seconds(5);
  if (!interval.isUnresolved() && !timeout.isUnresolved() && timeout.toSeconds() >= interval.toSeconds()) {
    throw new Error(
      `\`loadBalancer.healthCheck.timeout\` must be shorter than \`loadBalancer.healthCheck.interval\`, got ${timeout.toHumanString()} >= ${interval.toHumanString()}.`,
    );
  }
  requireDuration('loadBalancer.deregistrationDelay', lb.deregistrationDelay, 0, 3600);
  requireDuration('loadBalancer.idleTimeout', lb.idleTimeout, 1, 4000);
  return {
    internetFacing: lb.internetFacing ?? true,
    certificate: lb.certificate,
    domainName: lb.domainName,
    hostedZone: lb.hostedZone,
    healthCheck: {
      path: hc.path ?? '/health',
      interval,
      timeout,
      healthyThresholdCount: hc.healthyThresholdCount ?? 2,
      unhealthyThresholdCount: hc.unhealthyThresholdCount ?? 3,
      healthyHttpCodes: hc.healthyHttpCodes ?? '200',
    },
    deregistrationDelay: lb.deregistrationDelay ?? Duration.seconds(30),
    idleTimeout: lb.idleTimeout ?? Duration.seconds(60),
    accessLogs: lb.accessLogs ?? (lb.accessLogsBucket ? true : defaults.accessLogs),
    accessLogsBucket: lb.accessLogsBucket,
    deletionProtection: lb.deletionProtection ?? defaults.loadBalancerDeletionProtection,
    webAcl: lb.webAclArn === undefined && (lb.webAcl ?? defaults.webAcl),
    webAclArn: lb.webAclArn,
    webAclRateLimit: lb.webAclRateLimit ?? 2000,
    removalPolicy: defaults.removalPolicy,
  };
}

function resolveContainer(props: FargateWebServiceWithDatabaseProps, healthPath: string) {
  const c = props.container ?? {};
  requireInteger('container.port', c.port, 1, 65535);
  requireDuration('container.stopTimeout', c.stopTimeout, 2, 120);
  const environment = c.environment ?? {};
  const secrets = c.secrets ?? {};
  for (const name of [...Object.keys(environment), ...Object.keys(secrets)]) {
    const prop = name in environment ? 'container.environment' : 'container.secrets';
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new Error(
        `\`${prop}\` names must be letters, digits and underscores, not starting with a digit, got "${name}".`,
      );
    }
    if (RESERVED_ENVIRONMENT.includes(name)) {
      throw new Error(
        `\`${prop}\` must not set ${name}: the construct sets ${RESERVED_ENVIRONMENT.join(', ')} itself.`,
      );
    }
  }
  for (const [name, value] of Object.entries(environment)) {
    if (CREDENTIAL_LIKE_NAME.test(name) && !Token.isUnresolved(value)) {
      throw new Error(
        `\`container.environment.${name}\` looks like a credential and would be stored in plain text in the task definition; pass it in \`container.secrets\` (ecs.Secret.fromSecretsManager or fromSsmParameter).`,
      );
    }
  }
  if (isKnown(c.user) && /^(root|0)(:|$)/.test(c.user!.trim())) {
    throw new Error(
      `\`container.user\` must not be root: give a non-root user name or numeric id such as "1000", got "${c.user}".`,
    );
  }
  if (c.healthCheck && c.containerHealthCheck === false) {
    throw new Error(
      '`container.healthCheck` and `container.containerHealthCheck: false` contradict each other; remove one.',
    );
  }
  const port = c.port ?? 3000;
  const defaultHealthCheck: ecs.HealthCheck = {
    command: [
      'CMD',
      'node',
      '-e',
      `fetch('http://127.0.0.1:${port}${healthPath}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
    ],
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(30),
  };
  return {
    port,
    environment,
    secrets,
    healthCheck: c.containerHealthCheck === false ? undefined : (c.healthCheck ?? defaultHealthCheck),
    stopTimeout: c.stopTimeout ?? Duration.seconds(30),
    user: c.user ?? '1000',
    readonlyRootFilesystem: c.readonlyRootFilesystem ?? true,
  };
}

function resolveService(
  props: FargateWebServiceWithDatabaseProps,
  cpuDefault: number,
  memoryDefault: number,
  healthCheck: { interval: Duration; healthyThresholdCount: number },
) {
  const s = props.service ?? {};
  const cpu = s.cpu ?? cpuDefault;
  const memoryLimitMiB =
    s.memoryLimitMiB ?? (s.cpu !== undefined && isKnown(cpu) ? FARGATE_MEMORY[cpu]?.[0] : memoryDefault);
  if (isKnown(cpu) && !FARGATE_MEMORY[cpu]) {
    throw new Error(
      `\`service.cpu\` must be one of ${Object.keys(FARGATE_MEMORY).join(', ')} (Fargate CPU units), got ${cpu}.`,
    );
  }
  if (isKnown(cpu) && isKnown(memoryLimitMiB) && !FARGATE_MEMORY[cpu].includes(memoryLimitMiB!)) {
    const allowed = FARGATE_MEMORY[cpu];
    throw new Error(
      `\`service.memoryLimitMiB\` ${memoryLimitMiB} is not valid with \`service.cpu\` ${cpu}; Fargate allows ${allowed[0]} to ${allowed[allowed.length - 1]} MiB in steps of ${allowed[1] - allowed[0]} (${allowed.length <= 3 ? allowed.join(', ') : `${allowed[0]}, ${allowed[1]}, ...`}).`,
    );
  }
  requireInteger('service.spotPercentage', s.spotPercentage, 0, 100);
  const cpuArchitecture = s.cpuArchitecture ?? ecs.CpuArchitecture.X86_64;
  if ((s.spotPercentage ?? 0) > 0 && cpuArchitecture === ecs.CpuArchitecture.ARM64) {
    throw new Error(
      '`service.spotPercentage` must be 0 with `service.cpuArchitecture` ARM64: Fargate Spot runs X86_64 tasks only.',
    );
  }
  requireDuration('service.healthCheckGracePeriod', s.healthCheckGracePeriod, 0, 2147483647);
  const derivedGrace =
    healthCheck.interval.isUnresolved() || Token.isUnresolved(healthCheck.healthyThresholdCount)
      ? Duration.seconds(60)
      : Duration.seconds(30 + healthCheck.interval.toSeconds() * healthCheck.healthyThresholdCount * 2);
  return {
    cluster: s.cluster,
    cpu,
    memoryLimitMiB: memoryLimitMiB!,
    cpuArchitecture,
    spotPercentage: s.spotPercentage ?? 0,
    healthCheckGracePeriod: s.healthCheckGracePeriod ?? derivedGrace,
    enableExecuteCommand: s.enableExecuteCommand ?? false,
  };
}

function resolveDatabase(props: FargateWebServiceWithDatabaseProps, defaults: ProfileDefaults) {
  const d = props.database ?? {};
  if (isKnown(d.databaseName) && !POSTGRES_IDENTIFIER.test(d.databaseName!)) {
    throw new Error(
      `\`database.databaseName\` must start with a letter and contain only letters, digits and underscores (at most 63), got "${d.databaseName}".`,
    );
  }
  if (isKnown(d.username)) {
    if (!POSTGRES_IDENTIFIER.test(d.username!)) {
      throw new Error(
        `\`database.username\` must start with a letter and contain only letters, digits and underscores (at most 63), got "${d.username}".`,
      );
    }
    if (RESERVED_USERNAMES.includes(d.username!.toLowerCase())) {
      throw new Error(
        `\`database.username\` must not be a reserved name (${RESERVED_USERNAMES.join(', ')}), got "${d.username}".`,
      );
    }
  }
  requireInteger('database.allocatedStorageGiB', d.allocatedStorageGiB, 20, 65536);
  requireInteger('database.maxAllocatedStorageGiB', d.maxAllocatedStorageGiB, 20, 65536);
  const allocatedStorageGiB = d.allocatedStorageGiB ?? defaults.allocatedStorageGiB;
  const maxAllocatedStorageGiB =
    d.maxAllocatedStorageGiB ??
    (isKnown(allocatedStorageGiB)
      ? Math.max(defaults.maxAllocatedStorageGiB, allocatedStorageGiB)
      : defaults.maxAllocatedStorageGiB);
  if (isKnown(allocatedStorageGiB) && isKnown(maxAllocatedStorageGiB) && maxAllocatedStorageGiB < allocatedStorageGiB) {
    throw new Error(
      `\`database.maxAllocatedStorageGiB\` must be >= \`database.allocatedStorageGiB\`, got ${maxAllocatedStorageGiB} < ${allocatedStorageGiB}.`,
    );
  }
  if (d.backupRetention && !d.backupRetention.isUnresolved()) {
    const days = d.backupRetention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1 || days > 35) {
      throw new Error(
        `\`database.backupRetention\` must be a whole number of days from 1 to 35 (point-in-time recovery needs backups), got ${d.backupRetention.toHumanString()}.`,
      );
    }
  }
  if (d.rotation === false && d.rotationSchedule) {
    throw new Error('`database.rotationSchedule` has no effect with `database.rotation: false`; remove one.');
  }
  requireDuration('database.rotationSchedule', d.rotationSchedule, 86400, 1000 * 86400);
  return {
    engineVersion: d.engineVersion ?? rds.PostgresEngineVersion.VER_17,
    instanceType: d.instanceType ?? defaults.databaseInstanceType,
    multiAz: d.multiAz ?? defaults.multiAz,
    databaseName: d.databaseName ?? 'app',
    username: d.username ?? 'app_admin',
    allocatedStorageGiB,
    maxAllocatedStorageGiB,
    backupRetention: d.backupRetention ?? defaults.backupRetention,
    deletionProtection: d.deletionProtection ?? defaults.deletionProtection,
    removalPolicy: d.removalPolicy ?? defaults.databaseRemovalPolicy,
    encryptionKey: d.encryptionKey,
    rotation: d.rotation ?? (d.rotationSchedule !== undefined ? true : defaults.rotation),
    rotationSchedule: d.rotationSchedule ?? Duration.days(30),
    backupPlan: d.backupPlan ?? defaults.backupPlan,
    iamAuthentication: d.iamAuthentication ?? true,
  };
}

function resolveRepository(props: FargateWebServiceWithDatabaseProps, defaults: ProfileDefaults) {
  const r = props.repository ?? {};
  requireInteger('repository.maxImageCount', r.maxImageCount, 1, 10000);
  if (r.untaggedImageExpiry && !r.untaggedImageExpiry.isUnresolved()) {
    const days = r.untaggedImageExpiry.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(
        `\`repository.untaggedImageExpiry\` must be a whole number of days, at least 1, got ${r.untaggedImageExpiry.toHumanString()}.`,
      );
    }
  }
  if (
    isKnown(r.repositoryName) &&
    !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(r.repositoryName!)
  ) {
    throw new Error(
      `\`repository.repositoryName\` must be lowercase letters, digits and '.', '_', '-', '/' separators (2 to 256 characters), got "${r.repositoryName}".`,
    );
  }
  return {
    repositoryName: r.repositoryName,
    maxImageCount: r.maxImageCount ?? defaults.maxImageCount,
    untaggedImageExpiry: r.untaggedImageExpiry ?? defaults.untaggedImageExpiry,
    imageTagImmutable: r.imageTagImmutable ?? defaults.imageTagImmutable,
    removalPolicy: r.removalPolicy ?? defaults.removalPolicy,
  };
}

function resolveNetwork(
  scope: Construct,
  props: FargateWebServiceWithDatabaseProps,
  maxAzsDefault: number,
  natDefault: number,
  flowLogsDefault: boolean,
  multiAz: boolean,
) {
  const n = props.network ?? {};
  if (n.vpc) {
    for (const name of ['maxAzs', 'natGateways', 'flowLogs'] as const) {
      if (n[name] !== undefined) {
        throw new Error(
          `\`network.${name}\` applies only to a VPC the construct creates; it cannot be combined with \`network.vpc\`. Configure the given VPC instead.`,
        );
      }
    }
    return resolveGivenVpc(scope, n.vpc, n.taskSubnets, n.databaseSubnets, multiAz);
  }
  if (n.taskSubnets || n.databaseSubnets) {
    throw new Error(
      '`network.taskSubnets` and `network.databaseSubnets` select subnets of a given `network.vpc`; the VPC the construct creates places them itself.',
    );
  }
  requireInteger('network.maxAzs', n.maxAzs, 2, 6);
  const maxAzs = n.maxAzs ?? maxAzsDefault;
  const natGateways = n.natGateways ?? (natDefault > 0 ? maxAzs : 0);
  requireInteger('network.natGateways', natGateways, 0, isKnown(maxAzs) ? maxAzs : 6);
  return {
    vpc: undefined,
    maxAzs,
    natGateways,
    flowLogs: n.flowLogs ?? flowLogsDefault,
    taskSubnets: { subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC },
    assignPublicIp: natGateways === 0,
    databaseSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  };
}

function resolveGivenVpc(
  scope: Construct,
  vpc: ec2.IVpc,
  taskSelection: ec2.SubnetSelection | undefined,
  databaseSelection: ec2.SubnetSelection | undefined,
  multiAz: boolean,
) {
  const taskSubnets: ec2.SubnetSelection =
    taskSelection ??
    (vpc.privateSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
      : vpc.publicSubnets.length > 0
        ? { subnetType: ec2.SubnetType.PUBLIC }
        : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
  const selectedTaskSubnets = selectOrExplain(vpc, taskSubnets, 'network.taskSubnets');
  const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
  const isolatedIds = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  const inPublic = selectedTaskSubnets.filter((s) => publicIds.has(s.subnetId));
  if (inPublic.length > 0 && inPublic.length !== selectedTaskSubnets.length) {
    throw new Error('`network.taskSubnets` must be all public or all private subnets, got a mix.');
  }
  const constructs = Stack.of(scope).node.root.node.findAll();
  const routed = routeTablesWithDefaultRoute(constructs);
  const withoutRoute = selectedTaskSubnets.some(
    (s) =>
      isolatedIds.has(s.subnetId) ||
      (s instanceof ec2.Subnet && !publicIds.has(s.subnetId) && !routed.has(s.routeTable.routeTableId)),
  );
  if (withoutRoute) {
    const missing = missingEndpoints(scope, constructs, vpc);
    if (missing.length > 0) {
      throw new Error(
        `\`network.taskSubnets\` select subnets without egress (no NAT or internet gateway route): tasks could not pull their image, write logs or read their secrets. Use subnets with a NAT route, or add VPC endpoints for ${missing.join(', ')}.`,
      );
    }
  }

  const dbSelection =
    databaseSelection ??
    (vpc.isolatedSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
      : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  if (!databaseSelection && vpc.isolatedSubnets.length === 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-fargate-web-service-with-database:databaseNotIsolated',
      'The given VPC has no isolated subnets, so the database is placed in its private subnets. Isolated subnets (no route to the internet) are safer; select them with `network.databaseSubnets`.',
    );
  }
  const dbSubnets = selectOrExplain(vpc, dbSelection, 'network.databaseSubnets');
  const azs = new Set(dbSubnets.map((s) => s.availabilityZone));
  if (azs.size < 2) {
    throw new Error(
      `\`network.databaseSubnets\` must span at least 2 Availability Zones${multiAz ? ' for a Multi-AZ database (`database.multiAz`)' : ' (an RDS subnet group needs two)'}, got ${azs.size}.`,
    );
  }
  return {
    vpc,
    maxAzs: vpc.availabilityZones.length,
    natGateways: 0,
    flowLogs: false,
    taskSubnets,
    assignPublicIp: inPublic.length > 0,
    databaseSubnets: dbSelection,
  };
}

function selectOrExplain(vpc: ec2.IVpc, selection: ec2.SubnetSelection, prop: string): ec2.ISubnet[] {
  let subnets: ec2.ISubnet[];
  try {
    subnets = vpc.selectSubnets(selection).subnets;
  } catch (e) {
    throw new Error(`\`${prop}\` selects no subnets of \`network.vpc\`: ${(e as Error).message}`);
  }
  if (subnets.length === 0) {
    throw new Error(`\`${prop}\` selects no subnets of \`network.vpc\`.`);
  }
  return subnets;
}

/** Route tables (in this app) with a default route: through a NAT or internet gateway, or anything else. */
function routeTablesWithDefaultRoute(constructs: IConstruct[]): Set<string> {
  return new Set(
    constructs
      .filter(
        (c): c is ec2.CfnRoute =>
          c instanceof ec2.CfnRoute &&
          (c.destinationCidrBlock === '0.0.0.0/0' || c.destinationIpv6CidrBlock === '::/0'),
      )
      .map((c) => c.routeTableId),
  );
}

function missingEndpoints(scope: Construct, constructs: IConstruct[], vpc: ec2.IVpc): string[] {
  const stack = Stack.of(scope);
  const serviceNames = constructs
    .filter((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint && c.vpcId === vpc.vpcId)
    .map((c) => JSON.stringify(stack.resolve(c.serviceName)));
  return REQUIRED_ENDPOINTS.filter((suffix) => !serviceNames.some((name) => name.includes(`.${suffix}"`)));
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function resolveMonitoring(
  props: FargateWebServiceWithDatabaseProps,
  defaults: ProfileDefaults,
  database: { instanceType: ec2.InstanceType; allocatedStorageGiB: number },
) {
  const m = props.monitoring ?? {};
  const t = m.thresholds ?? {};
  const alarms = m.alarms ?? true;
  if (!alarms && (m.alarmTopic || m.alarmEmail !== undefined || m.thresholds)) {
    throw new Error(
      '`monitoring.alarmTopic`, `monitoring.alarmEmail` and `monitoring.thresholds` have no effect with `monitoring.alarms: false`; remove them.',
    );
  }
  if (m.alarmTopic && m.alarmEmail !== undefined) {
    throw new Error(
      '`monitoring.alarmEmail` subscribes to the topic the construct creates; with `monitoring.alarmTopic` subscribe to your own topic instead.',
    );
  }
  if (isKnown(m.alarmEmail) && !EMAIL.test(m.alarmEmail!)) {
    throw new Error(`\`monitoring.alarmEmail\` must be an e-mail address, got "${m.alarmEmail}".`);
  }
  requireInteger('monitoring.thresholds.target5xxCount', t.target5xxCount, 1, 1_000_000);
  requireInteger('monitoring.thresholds.loadBalancer5xxCount', t.loadBalancer5xxCount, 1, 1_000_000);
  requireInteger('monitoring.thresholds.unhealthyHostCount', t.unhealthyHostCount, 1, 1000);
  for (const name of ['serviceCpuPercent', 'serviceMemoryPercent', 'databaseCpuPercent'] as const) {
    requireInteger(`monitoring.thresholds.${name}`, t[name], 1, 100);
  }
  if (isKnown(t.p99LatencySeconds) && !(t.p99LatencySeconds! > 0 && t.p99LatencySeconds! <= 60)) {
    throw new Error(
      `\`monitoring.thresholds.p99LatencySeconds\` must be above 0 and at most 60, got ${t.p99LatencySeconds}.`,
    );
  }
  requireInteger('monitoring.thresholds.databaseFreeStorageGiB', t.databaseFreeStorageGiB, 1, 65536);
  requireInteger('monitoring.thresholds.databaseFreeableMemoryMiB', t.databaseFreeableMemoryMiB, 1, 4_194_304);
  requireInteger('monitoring.thresholds.databaseConnections', t.databaseConnections, 1, 5000);

  const memory = instanceMemoryBytes(database.instanceType);
  const storageGiB = isKnown(database.allocatedStorageGiB) ? database.allocatedStorageGiB : 20;
  return {
    alarms,
    dashboard: m.dashboard ?? defaults.dashboard,
    alarmTopic: m.alarmTopic,
    alarmEmail: m.alarmEmail,
    thresholds: {
      ...defaults.alarmThresholds,
      ...(Object.fromEntries(
        (Object.keys(defaults.alarmThresholds) as (keyof ProfileAlarmThresholds)[])
          .filter((name) => t[name] !== undefined)
          .map((name) => [name, t[name]]),
      ) as Partial<ProfileAlarmThresholds>),
      databaseFreeStorageBytes:
        t.databaseFreeStorageGiB !== undefined
          ? t.databaseFreeStorageGiB * 1024 ** 3
          : Math.round(storageGiB * 0.1 * 1024 ** 3),
      databaseFreeableMemoryBytes:
        t.databaseFreeableMemoryMiB !== undefined
          ? t.databaseFreeableMemoryMiB * 1024 ** 2
          : memory !== undefined
            ? Math.round(memory * 0.1)
            : 128 * 1024 ** 2,
      databaseConnections:
        t.databaseConnections ?? (memory !== undefined ? Math.floor(maxConnections(memory) * 0.8) : 80),
    },
  };
}

function resolveMigrations(props: FargateWebServiceWithDatabaseProps) {
  const m = props.migrations;
  if (!m) return undefined;
  if (!Token.isUnresolved(m.command)) {
    if (
      !Array.isArray(m.command) ||
      m.command.length === 0 ||
      m.command.some((part) => typeof part !== 'string' || (!Token.isUnresolved(part) && part.trim() === ''))
    ) {
      throw new Error(
        `\`migrations.command\` must be a non-empty list of non-empty strings, such as ["node", "dist/migrate-cli.js", "up"], got ${JSON.stringify(m.command)}.`,
      );
    }
  }
  requireDuration('migrations.timeout', m.timeout, 60, 110 * 60);
  const environment = props.container?.environment ?? {};
  return {
    command: m.command,
    timeout: m.timeout ?? Duration.minutes(15),
    disableMigrateOnStart: (m.disableMigrateOnStart ?? true) && !('MIGRATE_ON_START' in environment),
  };
}

/**
 * The load balancer's access-log bucket policy names the region's Elastic Load Balancing account, so it needs a
 * stack with a concrete region. A profile default gives way (with a warning); an explicit request is an error.
 */
function resolveAccessLogsRegion<T extends { accessLogs: boolean }>(
  scope: Construct,
  props: FargateWebServiceWithDatabaseProps,
  lb: T,
): T {
  if (!lb.accessLogs || !Token.isUnresolved(Stack.of(scope).region)) return lb;
  if (props.loadBalancer?.accessLogs === true || props.loadBalancer?.accessLogsBucket) {
    throw new Error(
      "`loadBalancer.accessLogs` needs a stack with a concrete region (new Stack(app, id, { env: { region } })): the bucket policy names the region's load balancing account.",
    );
  }
  Annotations.of(scope).addWarningV2(
    'cdk-fargate-web-service-with-database:accessLogsNeedRegion',
    'Load balancer access logs are off because the stack has no concrete region; give the stack env.region to turn them on (the prod profile wants them).',
  );
  return { ...lb, accessLogs: false };
}
