import { Duration, Size, Token, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ResolvedContainer } from './container';
import { ProfileDefaults } from '../defaults';
import { Acknowledgements, inCompliancePacks, INLINE_POLICY_REASON } from '../internal/acknowledge';
import { acknowledgeInlinePolicies } from '../internal/functions';
import { isKnown, PropChecker, Resolved } from '../internal/validation';
import { LogGroupFactory } from '../logging';
import { EnvironmentProfile } from '../profile';
import { ServiceOptions } from '../props';
import { ServiceImage } from '../service-image';
import { ResolvedStrategy } from './rollout';

export type ResolvedService = Resolved<Omit<ServiceOptions, 'deploymentAlarms' | 'rolloutStrategy'>, 'cluster'> & {
  readonly profile: EnvironmentProfile;
};

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

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

export function resolveService(
  check: PropChecker,
  props: ServiceOptions | undefined,
  defaults: ProfileDefaults,
  inputs: {
    readonly profile: EnvironmentProfile;
    readonly healthCheck: { readonly interval: Duration; readonly healthyThresholdCount: number };
  },
): ResolvedService {
  const s = props ?? {};
  const cpu = s.cpu ?? defaults['ServiceOptions.cpu'];
  const memoryLimitMiB =
    s.memoryLimitMiB ??
    (s.cpu !== undefined && isKnown(cpu) ? FARGATE_MEMORY[cpu]?.[0] : defaults['ServiceOptions.memoryLimitMiB']);
  check.refuse(
    isKnown(cpu) && !FARGATE_MEMORY[cpu],
    `\`service.cpu\` must be one of ${Object.keys(FARGATE_MEMORY).join(', ')} (Fargate CPU units), got ${cpu}.`,
  );
  if (isKnown(cpu) && isKnown(memoryLimitMiB) && !FARGATE_MEMORY[cpu].includes(memoryLimitMiB!)) {
    const allowed = FARGATE_MEMORY[cpu];
    check.fail(
      `\`service.memoryLimitMiB\` ${memoryLimitMiB} is not valid with \`service.cpu\` ${cpu}; Fargate allows ${allowed[0]} to ${allowed[allowed.length - 1]} MiB in steps of ${allowed[1] - allowed[0]} (${allowed.length <= 3 ? allowed.join(', ') : `${allowed[0]}, ${allowed[1]}, ...`}).`,
    );
  }
  check.integer('service.spotPercentage', s.spotPercentage, 0, 100);
  const cpuArchitecture = s.cpuArchitecture ?? defaults['ServiceOptions.cpuArchitecture'];
  check.refuse(
    (s.spotPercentage ?? 0) > 0 && cpuArchitecture === ecs.CpuArchitecture.ARM64,
    '`service.spotPercentage` must be 0 with `service.cpuArchitecture` ARM64: Fargate Spot runs X86_64 tasks only.',
  );
  check.duration('service.healthCheckGracePeriod', s.healthCheckGracePeriod, 0, 2147483647);
  return {
    cluster: s.cluster,
    cpu,
    memoryLimitMiB: memoryLimitMiB!,
    cpuArchitecture,
    spotPercentage: s.spotPercentage ?? defaults['ServiceOptions.spotPercentage'],
    healthCheckGracePeriod: s.healthCheckGracePeriod ?? derivedGracePeriod(inputs.healthCheck, defaults),
    enableExecuteCommand: s.enableExecuteCommand ?? defaults['ServiceOptions.enableExecuteCommand'],
    profile: inputs.profile,
  };
}

/** The FargateService properties of a strategy: rolling needs none. */
function strategyProps(strategy: ResolvedStrategy): Partial<ecs.FargateServiceProps> {
  switch (strategy.kind) {
    case 'rolling':
      return {};
    case 'blueGreen':
      return { deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN, bakeTime: strategy.bakeTime };
    case 'canary':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.CANARY,
        bakeTime: strategy.bakeTime,
        canaryConfiguration: { stepPercent: strategy.canary!.percent, stepBakeTime: strategy.canary!.bakeTime },
      };
    case 'linear':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.LINEAR,
        bakeTime: strategy.bakeTime,
        linearConfiguration: { stepPercent: strategy.linear!.stepPercent, stepBakeTime: strategy.linear!.stepBakeTime },
      };
  }
}

/** Long enough for the load balancer's health check to pass twice after the start allowance. */
function derivedGracePeriod(
  healthCheck: { readonly interval: Duration; readonly healthyThresholdCount: number },
  defaults: ProfileDefaults,
): Duration {
  const start = defaults['Fixed.gracePeriodStartAllowance'].toSeconds();
  if (healthCheck.interval.isUnresolved() || Token.isUnresolved(healthCheck.healthyThresholdCount)) {
    return Duration.seconds(start * 2);
  }
  return Duration.seconds(start + healthCheck.interval.toSeconds() * healthCheck.healthyThresholdCount * 2);
}

/** The parts of the service the construct exposes. */
export interface ServiceParts {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
}

/** How the tasks reach the database: with the app secret's password, or through RDS Proxy with IAM. */
export type DatabaseAccess = (
  | { readonly secret: secretsmanager.ISecret }
  | {
      readonly proxy: rds.DatabaseProxy;
      readonly port: number;
      readonly databaseName: string;
      readonly username: string;
    }
) & {
  /** The address of the Aurora readers (their endpoint, or the proxy's read-only one), when there are readers. */
  readonly readHost?: string;
};

/** What the service needs from the other parts. */
export interface ServiceInputs {
  readonly vpc: ec2.IVpc;
  readonly taskSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly image: ServiceImage;
  readonly repository: ecr.IRepository;
  /**
   * Where the container's database settings come from: the app's secret (password login), or RDS Proxy (IAM login:
   * plain settings, and the task role may connect to the proxy as the user).
   */
  readonly databaseAccess: DatabaseAccess;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly strategy: ResolvedStrategy;
  /** The second target group and the production rule, for the strategies that shift traffic. */
  readonly trafficShift?: {
    readonly alternateTargetGroup: elbv2.ApplicationTargetGroup;
    readonly productionRule: elbv2.ApplicationListenerRule;
  };
  /** Tasks the service starts with: the scaling minimum. */
  readonly desiredCount: number;
  /** Environment variables other parts need in the container (the migration gate's MIGRATE_ON_START). */
  readonly extraEnvironment: { readonly [name: string]: string };
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
}

/**
 * Creates the cluster, the task definition with its container (database settings injected as ECS secrets) and the
 * Fargate service behind the target group.
 */
export function createService(
  scope: Construct,
  s: ResolvedService,
  c: ResolvedContainer,
  inputs: ServiceInputs,
): ServiceParts {
  const { vpc, acks } = inputs;
  const cluster =
    s.cluster ??
    new ecs.Cluster(scope, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });

  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDef', {
    cpu: s.cpu,
    memoryLimitMiB: s.memoryLimitMiB,
    runtimePlatform: { cpuArchitecture: s.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
  });
  const logGroup = inputs.logGroups.createLogGroup(scope, 'LogGroup');
  const { containerImage } = inputs.image.bind(scope, {
    repository: inputs.repository,
    cpuArchitecture: s.cpuArchitecture,
  });
  const access = inputs.databaseAccess;
  const variables = c.databaseVariables;
  const databaseSecrets: { [name: string]: ecs.Secret } = {};
  const databaseEnvironment: { [name: string]: string } = {};
  if ('secret' in access) {
    for (const [name, field] of Object.entries(c.databaseSecretFields)) {
      databaseSecrets[name] = ecs.Secret.fromSecretsManager(access.secret, field);
    }
  } else {
    // Nothing secret reaches the container: the password of each connection is a token the task role signs.
    const n = variables._names;
    Object.assign(databaseEnvironment, {
      [n.host]: access.proxy.endpoint,
      [n.port]: Tokenization.stringifyNumber(access.port),
      [n.name]: access.databaseName,
      [n.user]: access.username,
      [variables._iamAuthentication]: 'true',
    });
    access.proxy.grantConnect(taskDefinition.taskRole, access.username);
    acknowledgeInlinePolicies(acks, taskDefinition.taskRole);
  }
  if (access.readHost) databaseEnvironment[variables._readHost] = access.readHost;
  const container = taskDefinition.addContainer('App', {
    image: containerImage,
    portMappings: [{ containerPort: c.port, name: 'http', protocol: ecs.Protocol.TCP }],
    environment: {
      ...inputs.extraEnvironment,
      ...c.environment,
      PORT: Tokenization.stringifyNumber(c.port),
      [variables._poolSize]: Tokenization.stringifyNumber(c.databasePoolSize),
      ...databaseEnvironment,
    },
    secrets: { ...c.secrets, ...databaseSecrets },
    logging: ecs.LogDrivers.awsLogs({
      logGroup,
      streamPrefix: 'app',
      mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      maxBufferSize: Size.mebibytes(25),
    }),
    healthCheck: c.healthCheck,
    stopTimeout: c.stopTimeout,
    essential: true,
    user: c.user,
    readonlyRootFilesystem: c.readonlyRootFilesystem,
    // A hard limit equal to the task's memory: the container is the task.
    memoryLimitMiB: s.memoryLimitMiB,
    // The container never runs as root: below 1024, let its user bind the port (a namespaced sysctl Fargate accepts).
    systemControls:
      !Token.isUnresolved(c.port) && c.port < 1024
        ? [{ namespace: 'net.ipv4.ip_unprivileged_port_start', value: String(c.port) }]
        : undefined,
  });
  // Each writable path is a task-local volume on the task's ephemeral storage.
  for (const path of c.writablePaths) {
    const name = path.slice(1).replace(/[^A-Za-z0-9]+/g, '-');
    taskDefinition.addVolume({ name });
    container.addMountPoints({ containerPath: path, sourceVolume: name, readOnly: false });
  }
  acks.acknowledge(taskDefinition, {
    rules: ['AwsSolutions-ECS2'],
    reason:
      'Plain environment holds only PORT, the pool size and non-secret user values; credential-like names warn at synth time and the database settings are ECS secrets.',
  });
  for (const policy of taskDefinition
    .obtainExecutionRole()
    .node.findAll()
    .filter((x) => x instanceof iam.CfnPolicy)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*'],
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; every other statement names its repository, log group or secret.',
    });
    acks.acknowledge(policy, { rules: inCompliancePacks('IAMNoInlinePolicy'), reason: INLINE_POLICY_REASON });
  }

  const securityGroup = new ec2.SecurityGroup(scope, 'ServiceSecurityGroup', {
    vpc,
    description: 'Web service tasks: admits only the load balancer on the container port',
    allowAllOutbound: true,
  });
  securityGroup.connections.allowFrom(inputs.loadBalancer, ec2.Port.tcp(c.port), 'The load balancer');

  const capacityProviderStrategies: ecs.CapacityProviderStrategy[] | undefined =
    s.spotPercentage > 0
      ? [
          { capacityProvider: 'FARGATE', base: 1, weight: 100 - s.spotPercentage },
          { capacityProvider: 'FARGATE_SPOT', weight: s.spotPercentage },
        ]
      : undefined;
  const service = new ecs.FargateService(scope, 'Service', {
    cluster,
    taskDefinition,
    desiredCount: inputs.desiredCount,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { enable: true, rollback: true },
    healthCheckGracePeriod: s.healthCheckGracePeriod,
    vpcSubnets: inputs.taskSubnets,
    assignPublicIp: inputs.assignPublicIp,
    securityGroups: [securityGroup],
    enableExecuteCommand: s.enableExecuteCommand,
    capacityProviderStrategies,
    propagateTags: ecs.PropagatedTagSource.SERVICE,
    enableECSManagedTags: true,
    ...strategyProps(inputs.strategy),
  });
  if (inputs.trafficShift) {
    const alternateTarget = new ecs.AlternateTarget('AlternateTarget', {
      alternateTargetGroup: inputs.trafficShift.alternateTargetGroup,
      productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(inputs.trafficShift.productionRule),
    });
    service
      .loadBalancerTarget({ containerName: container.containerName, containerPort: c.port, alternateTarget })
      .attachToApplicationTargetGroup(inputs.targetGroup);
    // The role ECS assumes to move the listener rule's weights, found by type under the service.
    for (const role of service.node.findAll().filter((x): x is iam.Role => x instanceof iam.Role)) {
      acks.acknowledge(role, {
        rules: ['AwsSolutions-IAM4'],
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers'],
        reason:
          'The AWS managed policy is the documented permission set ECS needs to move traffic between the two target groups of a blue/green, canary or linear deployment.',
      });
    }
  } else {
    inputs.targetGroup.addTarget(service);
  }
  if (s.profile === EnvironmentProfile.DEV && inputs.assignPublicIp) {
    acks.acknowledge(service, {
      rules: ['ecs_service_assign_public_ip_disabled_check'],
      reason:
        'The dev profile has no NAT gateway: tasks reach ECR and Secrets Manager through a public IP, and their security group admits only the load balancer.',
    });
  }
  return { cluster, taskDefinition, container, service, securityGroup, logGroup };
}
