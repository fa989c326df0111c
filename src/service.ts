import { Size, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LoadBalancerParts } from './load-balancer';
import { createLogGroup } from './logging';
import { ResolvedOptions } from './resolve-options';

/** The parts of the service the construct exposes. */
export interface ServiceParts {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  readonly scaling: ecs.ScalableTaskCount;
}

/** The JSON fields of the generated database secret, by the environment variable each one becomes. */
const DATABASE_SECRET_FIELDS: Record<string, string> = {
  DB_HOST: 'host',
  DB_PORT: 'port',
  DB_NAME: 'dbname',
  DB_USER: 'username',
  DB_PASSWORD: 'password',
};

/**
 * Creates the cluster, the task definition with its container (database settings injected as ECS secrets), the
 * Fargate service behind the target group, and its auto-scaling.
 */
export function createService(
  scope: Construct,
  vpc: ec2.IVpc,
  repository: ecr.IRepository,
  databaseSecret: secretsmanager.ISecret,
  loadBalancer: LoadBalancerParts,
  logsKey: kms.IKey,
  options: ResolvedOptions,
): ServiceParts {
  const s = options.service;
  const c = options.container;
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
  const logGroup = createLogGroup(scope, 'LogGroup', logsKey, options);
  const { containerImage } = options.image.bind(scope, { repository, cpuArchitecture: s.cpuArchitecture });
  const databaseSecrets: { [name: string]: ecs.Secret } = {};
  for (const [name, field] of Object.entries(DATABASE_SECRET_FIELDS)) {
    databaseSecrets[name] = ecs.Secret.fromSecretsManager(databaseSecret, field);
  }
  const container = taskDefinition.addContainer('App', {
    image: containerImage,
    portMappings: [{ containerPort: c.port, name: 'http', protocol: ecs.Protocol.TCP }],
    environment: {
      ...(options.migrations?.disableMigrateOnStart ? { MIGRATE_ON_START: 'false' } : {}),
      ...c.environment,
      PORT: Tokenization.stringifyNumber(c.port),
      NODE_ENV: 'production',
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
  });
  if (c.readonlyRootFilesystem) {
    // A writable, task-local /tmp on the task's ephemeral storage.
    taskDefinition.addVolume({ name: 'tmp' });
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  }

  const securityGroup = new ec2.SecurityGroup(scope, 'ServiceSecurityGroup', {
    vpc,
    description: 'Web service tasks: admits only the load balancer on the container port',
    allowAllOutbound: true,
  });
  securityGroup.connections.allowFrom(loadBalancer.loadBalancer, ec2.Port.tcp(c.port), 'The load balancer');

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
    desiredCount: options.scaling.minCapacity,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { enable: true, rollback: true },
    healthCheckGracePeriod: s.healthCheckGracePeriod,
    vpcSubnets: options.network.taskSubnets,
    assignPublicIp: options.network.assignPublicIp,
    securityGroups: [securityGroup],
    enableExecuteCommand: s.enableExecuteCommand,
    capacityProviderStrategies,
    propagateTags: ecs.PropagatedTagSource.SERVICE,
    enableECSManagedTags: true,
  });
  loadBalancer.targetGroup.addTarget(service);

  const sc = options.scaling;
  const scaling = service.autoScaleTaskCount({ minCapacity: sc.minCapacity, maxCapacity: sc.maxCapacity });
  const cooldowns = { scaleOutCooldown: sc.scaleOutCooldown, scaleInCooldown: sc.scaleInCooldown };
  scaling.scaleOnCpuUtilization('CpuScaling', {
    targetUtilizationPercent: sc.targetCpuUtilizationPercent,
    ...cooldowns,
  });
  scaling.scaleOnRequestCount('RequestScaling', {
    requestsPerTarget: sc.requestsPerTarget,
    targetGroup: loadBalancer.targetGroup,
    ...cooldowns,
  });
  if (sc.targetMemoryUtilizationPercent !== undefined) {
    scaling.scaleOnMemoryUtilization('MemoryScaling', {
      targetUtilizationPercent: sc.targetMemoryUtilizationPercent,
      ...cooldowns,
    });
  }
  return { cluster, taskDefinition, container, service, securityGroup, logGroup, scaling };
}
