import { CfnOutput, CustomResource, Duration, Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { addMasterRotationAlarm, addRedeployAfterRotation, createAppUserBootstrap } from './database/app-user/app-user';
import { cloneOf } from './database/app-user/statements';
import {
  allowServiceToReachDatabase,
  createDatabase,
  DATABASE_PORT,
  IDENTIFIER_RULE,
  POSTGRES_IDENTIFIER,
} from './database/database';
import { DatabaseServer, endpointOf } from './database/server';
import { PROFILE_TAG } from './defaults';
import { Acknowledgements } from './internal/acknowledge';
import { isKnown, PropChecker } from './internal/validation';
import { createLoadBalancer } from './load-balancer/load-balancer';
import { LogGroupFactory } from './logging';
import { createMigrationGate, migrationEnvironment } from './migration-gate/migration-gate';
import { ProxyMetrics, ServiceMetrics, TargetMetric } from './monitoring/metrics';
import { createMonitoring } from './monitoring/monitoring';
import { createNetwork } from './network';
import { PolicyAcknowledgement } from './policy-acknowledgement';
import { EnvironmentProfile } from './profile';
import { FargateWebServiceWithDatabaseProps } from './props';
import { createRepository } from './repository';
import { resolveParts } from './resolve';
import { addScaling } from './scaling';
import { addDeploymentAlarms } from './service/rollout';
import { createService } from './service/service';

/**
 * A web service on ECS Fargate behind an Application Load Balancer, with its own ECR repository and an RDS
 * PostgreSQL database whose credentials reach the container only as Secrets Manager secrets.
 *
 * @example
 * new FargateWebServiceWithDatabase(this, 'Api', {
 *   image: ServiceImage.fromDirectory('./app'),
 *   profile: EnvironmentProfile.PROD,
 * });
 */
export class FargateWebServiceWithDatabase extends Construct {
  /** The profile whose defaults were applied. */
  public readonly profile: EnvironmentProfile;
  /** The VPC: the given one, or the one the construct created. */
  public readonly vpc: ec2.IVpc;
  /** The dedicated ECR repository for the service's images. */
  public readonly repository: ecr.Repository;
  /** The ECS cluster. */
  public readonly cluster: ecs.ICluster;
  /** The Fargate task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The application container. */
  public readonly container: ecs.ContainerDefinition;
  /** The Fargate service. */
  public readonly service: ecs.FargateService;
  /** The tasks' security group. */
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  /** The KMS key that encrypts the log groups. */
  public readonly logEncryptionKey: kms.IKey;
  /** The container's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The service's scalable task count, to add more scaling policies. */
  public readonly scaling: ecs.ScalableTaskCount;
  /** The Application Load Balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards to the service: HTTPS when there is a certificate, else HTTP. */
  public readonly listener: elbv2.ApplicationListener;
  /** The HTTP listener on port 80 (forwards, or redirects to HTTPS). */
  public readonly httpListener: elbv2.ApplicationListener;
  /** The target group of the service's tasks (with a traffic-shifting strategy, the one that starts as production). */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The second target group of a blue/green, canary or linear strategy; ECS moves traffic between the two. */
  public readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;
  /**
   * With a traffic-shifting strategy, the custom resource that reads the production listener rule's live weights on
   * every update that rewrites the rule, so the update keeps traffic where ECS moved it.
   */
  public readonly productionTraffic?: CustomResource;
  /** The bucket the load balancer writes its access logs to, when access logs are on. */
  public readonly accessLogsBucket?: s3.IBucket;
  /** The certificate of the HTTPS listener, when there is one. */
  public readonly certificate?: acm.ICertificate;
  /** The PostgreSQL instance (`DatabaseEngine.rdsPostgres()`, the default); undefined with Aurora. */
  public readonly database?: rds.DatabaseInstance;
  /** The Aurora PostgreSQL cluster, with `DatabaseEngine.auroraServerless()` or `auroraProvisioned()`. */
  public readonly databaseCluster?: rds.DatabaseCluster;
  /** The database's security group. */
  public readonly databaseSecurityGroup: ec2.SecurityGroup;
  /**
   * The app's database credentials (`host`, `port`, `dbname`, `username`, `password`): its own least-privileged
   * user, what the service and the migration task receive. None with `database.proxy`: the app user then
   * authenticates with IAM and has no password.
   */
  public readonly databaseSecret?: secretsmanager.ISecret;
  /** The RDS Proxy in front of the database, when `database.proxy` chooses one. */
  public readonly databaseProxy?: rds.DatabaseProxy;
  /** The Aurora reader endpoint's address, when the cluster has readers (the container's `DB_READ_HOST`). */
  public readonly databaseReaderEndpoint?: string;
  /** The master user's credentials: read only by the app-user bootstrap and the rotation functions. */
  public readonly databaseMasterSecret: secretsmanager.ISecret;
  /** The custom resource that creates or repairs the app's database user before each new task definition starts. */
  public readonly databaseAppUser: CustomResource;
  /** The KMS key that encrypts the database and its secret. */
  public readonly databaseEncryptionKey: kms.IKey;
  /** The database's parameter group (TLS required, logging settings): add parameters with `addParameter`. */
  public readonly databaseParameterGroup: rds.ParameterGroup;
  /** The AWS Backup plan of the database, when `database.backupPlan` is on (prod): add rules or selections. */
  public readonly backupPlan?: backup.BackupPlan;
  /** The VPC flow log, unless `network.flowLogs` is off. */
  public readonly flowLog?: ec2.FlowLog;
  /** The custom resource that runs the migrations before the service moves to a new task definition, when `migrations` is set. */
  public readonly migrationGate?: CustomResource;
  /** The alarms (empty with `Alarms.none()`). */
  public readonly alarms: cloudwatch.Alarm[];
  /**
   * The alarms ECS watches during a deployment and rolls back on (empty with `DeploymentAlarms.none()`). They notify
   * the alarm topic too, when there is one.
   */
  public readonly deploymentAlarms: cloudwatch.Alarm[];
  /** The topic the alarms notify, when there are alarms. */
  public readonly alarmTopic?: sns.ITopic;
  /** The CloudWatch dashboard, unless turned off. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /**
   * The policy findings (cdk-nag rules, cfn-guard rules) this construct acknowledges, each with its reason. They are
   * attached to the resources as metadata, so cdk-nag and cfn-guard runs of the consumer's app see them.
   */
  public readonly policyAcknowledgements: PolicyAcknowledgement[];
  /** The service's URL: `https://` with a certificate, else `http://`. */
  public readonly url: string;

  /** Every metric the alarms and the dashboard watch, defined once. */
  private readonly metrics: ServiceMetrics;

  /** The instance or the cluster, whichever `database.engine` made. */
  private readonly databaseServer: DatabaseServer;

  /** The database logins the construct manages and whether IAM database authentication is on. */
  private readonly databaseLogins: { readonly managed: string[]; readonly iamAuthentication: boolean };

  constructor(scope: Construct, id: string, props: FargateWebServiceWithDatabaseProps) {
    super(scope, id);
    const parts = resolveParts(this, props);
    this.databaseLogins = {
      managed: [parts.database.masterUsername, parts.database.appUsername, cloneOf(parts.database.appUsername)],
      iamAuthentication: parts.database.iamAuthentication,
    };
    this.profile = parts.profile;
    // Lets policy rules tell prod resources from dev ones (see policy/rds_deletion_protection_in_prod.guard).
    Tags.of(this).add(PROFILE_TAG, parts.profile);
    const acks = new Acknowledgements(this);

    const logGroups = new LogGroupFactory(this, parts.logging, acks);
    this.logEncryptionKey = logGroups.key;
    const network = createNetwork(this, parts.network, { logGroups, acks });
    this.vpc = network.vpc;
    this.flowLog = network.flowLog;
    this.repository = createRepository(this, parts.repository, acks);
    const database = createDatabase(this, parts.database, {
      vpc: this.vpc,
      subnets: parts.network.databaseSubnets,
      privateEgressSubnets: parts.network.assignPublicIp ? undefined : parts.network.taskSubnets,
      logRetention: parts.logging.retention,
      acks,
    });
    const lb = createLoadBalancer(this, parts.loadBalancer, {
      vpc: this.vpc,
      internalSubnets: parts.network.taskSubnets,
      containerPort: parts.container.port,
      shiftsTraffic: parts.rollout.strategy.shiftsTraffic,
      logGroups,
      acks,
    });
    const service = createService(this, parts.service, parts.container, {
      vpc: this.vpc,
      taskSubnets: parts.network.taskSubnets,
      assignPublicIp: parts.network.assignPublicIp,
      image: parts.image,
      repository: this.repository,
      databaseAccess: {
        ...(database.appSecret
          ? { secret: database.appSecret }
          : {
              proxy: database.proxy!.proxy,
              port: DATABASE_PORT,
              databaseName: parts.database.databaseName,
              username: parts.database.appUsername,
            }),
        // Aurora readers: their endpoint, or behind a proxy the proxy's read-only endpoint.
        readHost: database.proxy?.readOnlyEndpoint ?? database.readerEndpoint,
      },
      loadBalancer: lb.loadBalancer,
      targetGroup: lb.targetGroup,
      strategy: parts.rollout.strategy,
      trafficShift: lb.trafficShift,
      desiredCount: parts.scaling.minCapacity,
      extraEnvironment: migrationEnvironment(parts.migrations),
      logGroups,
      acks,
    });
    allowServiceToReachDatabase(database, service.securityGroup);
    this.scaling = addScaling(service.service, lb.targetGroup, parts.scaling);

    this.database = database.server instanceof rds.DatabaseInstance ? database.server : undefined;
    this.databaseCluster = database.server instanceof rds.DatabaseCluster ? database.server : undefined;
    this.databaseServer = database.server;
    this.databaseSecret = database.appSecret;
    this.databaseProxy = database.proxy?.proxy;
    this.databaseReaderEndpoint = database.readerEndpoint;
    this.databaseMasterSecret = database.masterSecret;
    this.databaseAppUser = createAppUserBootstrap(this, {
      vpc: this.vpc,
      databaseSubnets: parts.network.databaseSubnets,
      database,
      databaseName: parts.database.databaseName,
      username: parts.database.appUsername,
      revision: service.taskDefinition.taskDefinitionArn,
      logGroups,
      acks,
    });
    // The first task must find its user; every new task definition finds it checked. Behind a proxy, the proxy must
    // also have its target registered.
    service.service.node.addDependency(this.databaseAppUser);
    if (database.proxy) service.service.node.addDependency(database.proxy.proxy);
    this.databaseSecurityGroup = database.securityGroup;
    this.databaseEncryptionKey = database.encryptionKey;
    this.databaseParameterGroup = database.parameterGroup;
    this.backupPlan = database.backupPlan;
    this.loadBalancer = lb.loadBalancer;
    this.listener = lb.listener;
    this.httpListener = lb.httpListener;
    this.targetGroup = lb.targetGroup;
    this.alternateTargetGroup = lb.trafficShift?.alternateTargetGroup;
    this.productionTraffic = lb.trafficShift?.productionTraffic;
    this.certificate = lb.certificate;
    this.accessLogsBucket = lb.accessLogsBucket;
    this.url = lb.url;
    this.cluster = service.cluster;
    this.taskDefinition = service.taskDefinition;
    this.container = service.container;
    this.service = service.service;
    this.serviceSecurityGroup = service.securityGroup;
    this.logGroup = service.logGroup;

    if (parts.migrations) {
      this.migrationGate = createMigrationGate(this, parts.migrations, {
        vpc: this.vpc,
        taskSubnets: parts.network.taskSubnets,
        assignPublicIp: parts.network.assignPublicIp,
        cluster: this.cluster,
        taskDefinition: this.taskDefinition,
        container: this.container,
        service: this.service,
        securityGroup: this.serviceSecurityGroup,
        database: database.server,
        // Behind the proxy the migration task reaches the proxy, and the proxy the database.
        databaseSecurityGroup: database.proxy?.securityGroup ?? this.databaseSecurityGroup,
        appUser: this.databaseAppUser,
        logGroups,
        acks,
      });
      if (database.proxy) this.migrationGate.node.addDependency(database.proxy.proxy);
    }

    // Each metric is defined once, for the alarms, the deployment alarms and the dashboard.
    const metrics = (this.metrics = new ServiceMetrics({
      loadBalancer: this.loadBalancer,
      targetGroup: this.targetGroup,
      alternateTargetGroup: this.alternateTargetGroup,
      cluster: this.cluster,
      service: this.service,
      database: database.server,
      serverless: parts.database.engine.kind === 'serverless',
      proxy: this.databaseProxy,
    }));
    const monitoring = createMonitoring(this, parts.monitoring, metrics, acks);
    this.deploymentAlarms = addDeploymentAlarms(this, parts.rollout, {
      service: this.service,
      metrics,
      action: monitoring.alarmAction,
    });
    let rotationAlarms: cloudwatch.Alarm[] = [];
    if (database.rotation?.app && database.rotation.schedules.app && database.appSecret) {
      rotationAlarms = addRedeployAfterRotation(this, {
        appRotation: database.rotation.app,
        appSchedule: database.rotation.schedules.app,
        schedule: parts.database.rotation._schedule!,
        appSecret: database.appSecret,
        cluster: this.cluster,
        service: this.service,
        logGroups,
        acks,
        alarms: parts.monitoring.alarms ? { action: monitoring.alarmAction } : undefined,
      }).alarms;
    }
    if (database.rotation && parts.monitoring.alarms) {
      rotationAlarms.push(addMasterRotationAlarm(this, database.rotation.master, monitoring.alarmAction));
    }
    if (database.rotation) {
      // Neither password rotates before the app user exists: the bootstrap reads the master password, and the
      // multi-user rotation refuses to run while the app's current login fails.
      for (const schedule of Object.values(database.rotation.schedules)) {
        schedule?.node.addDependency(this.databaseAppUser);
      }
    }
    this.alarms = [...monitoring.alarms, ...rotationAlarms];
    this.alarmTopic = monitoring.alarmTopic;
    this.dashboard = monitoring.dashboard;

    if (parts.outputs) this.addOutputs();
    this.policyAcknowledgements = acks.all;
  }

  /**
   * 5xx responses of the tasks, summed (under a traffic-shifting strategy, both target groups added up: a math
   * expression, whose `period`, `label` and `color` follow `props`). What the `Target5xx` alarm watches.
   */
  public metricTarget5xx(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return withOptions(this.metrics.target5xx, props);
  }

  /** Requests that reached the tasks, summed (both target groups under a traffic-shifting strategy). */
  public metricTargetRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return withOptions(this.metrics.targetRequests, props);
  }

  /** Unhealthy targets, maximum (both target groups under a traffic-shifting strategy). */
  public metricUnhealthyHosts(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return withOptions(this.metrics.unhealthyHosts, props);
  }

  /**
   * Target response time at a statistic, `p99` by default (the load balancer's own figure under a traffic-shifting
   * strategy: percentiles cannot be added up).
   */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.latency('p99', props?.period ?? Duration.minutes(5)).with(props ?? {});
  }

  /** The service's CPU utilization, average. */
  public metricServiceCpu(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.serviceCpu.with(props ?? {});
  }

  /** The service's memory utilization, average. */
  public metricServiceMemory(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.serviceMemory.with(props ?? {});
  }

  /** The database's CPU utilization, average. */
  public metricDatabaseCpu(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.databaseCpu.with(props ?? {});
  }

  /** The database's connections, maximum: compare with the connection budget (tasks x pool size). */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.databaseConnections.with(props ?? {});
  }

  /** The instance's free storage in bytes, minimum. Aurora has none (its storage grows by itself): this fails. */
  public metricDatabaseFreeStorage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.metrics.databaseFreeStorage) {
      throw new Error(
        `${this.node.path}: metricDatabaseFreeStorage: an Aurora cluster has no free storage metric (its storage grows by itself); use metricDatabaseCpu or metricDatabaseConnections.`,
      );
    }
    return this.metrics.databaseFreeStorage.with(props ?? {});
  }

  /**
   * Aurora Serverless v2's capacity in use, as a share of `maxCapacity` (ACUUtilization, maximum): what the
   * `DatabaseCapacity` alarm watches. Fails on any other engine.
   */
  public metricDatabaseCapacity(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.metrics.databaseCapacity) {
      throw new Error(
        `${this.node.path}: metricDatabaseCapacity: only DatabaseEngine.auroraServerless() has a capacity metric; use metricDatabaseCpu.`,
      );
    }
    return this.metrics.databaseCapacity.with(props ?? {});
  }

  /**
   * The RDS Proxy's connections from the tasks (ClientConnections, maximum): what the proxy multiplexes onto its
   * share of the database's connections. Fails without `database.proxy`.
   */
  public metricProxyClientConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.proxyMetrics('metricProxyClientConnections').clientConnections.with(props ?? {});
  }

  /** The RDS Proxy's connections to the database (DatabaseConnections, maximum). Fails without `database.proxy`. */
  public metricProxyDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.proxyMetrics('metricProxyDatabaseConnections').databaseConnections.with(props ?? {});
  }

  private proxyMetrics(method: string): ProxyMetrics {
    if (!this.metrics.proxy) {
      throw new Error(`${this.node.path}: ${method}: there is no RDS Proxy (database.proxy is RdsProxy.none()).`);
    }
    return this.metrics.proxy;
  }

  /**
   * One alarm by its name, e.g. `alarm('Target5xx')` or `alarm('Rollout5xxShare')`: the names are those of
   * docs/observability.md (the alarm's construct id without `Alarm`). Fails, listing the names there are, when this
   * configuration has no such alarm.
   */
  public alarm(name: string): cloudwatch.Alarm {
    const all = [...this.alarms, ...this.deploymentAlarms];
    const found = all.find((a) => a.node.id === `${name}Alarm`);
    if (!found) {
      const names = all.map((a) => a.node.id.replace(/Alarm$/, ''));
      throw new Error(
        `${this.node.path}: no alarm named "${name}"; this configuration has: ${names.join(', ') || 'none (alarms are off)'}.`,
      );
    }
    return found;
  }

  /**
   * Lets a principal log in to the database with IAM database authentication (`rds-db:connect`) as `dbUser`, a
   * login you create in the database with `GRANT rds_iam TO <dbUser>` (for a person or a tool, never the app: a login
   * with `rds_iam` can no longer use its password). The master login and the app's two logins are refused.
   */
  public grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    const check = new PropChecker(this);
    check.refuse(
      !this.databaseLogins.iamAuthentication,
      'grantConnect needs `database.iamAuthentication` on; it is off.',
    );
    check.refuse(
      isKnown(dbUser) && !POSTGRES_IDENTIFIER.test(dbUser),
      `grantConnect: dbUser must ${IDENTIFIER_RULE}, got "${dbUser}".`,
    );
    check.refuse(
      this.databaseLogins.managed.includes(dbUser),
      `grantConnect: "${dbUser}" is a login the construct manages with a password (${this.databaseLogins.managed.join(', ')}); name a login of your own that has rds_iam.`,
    );
    return this.databaseServer.grantConnect(grantee, dbUser);
  }

  private addOutputs(): void {
    const outputs: Record<string, [string, string]> = {
      ServiceUrl: [this.url, 'URL of the web service'],
      LoadBalancerDnsName: [this.loadBalancer.loadBalancerDnsName, 'DNS name of the load balancer'],
      ClusterName: [this.cluster.clusterName, 'ECS cluster name'],
      ServiceName: [this.service.serviceName, 'ECS service name'],
      RepositoryUri: [this.repository.repositoryUri, 'ECR repository URI for CI to push images to'],
      LogGroupName: [this.logGroup.logGroupName, 'Log group of the application container'],
      DatabaseEndpoint: [endpointOf(this.databaseServer).address, 'Database endpoint address (the writer)'],
      ...(this.database
        ? { DatabaseInstanceId: [this.database.instanceIdentifier, 'Database instance identifier'] }
        : {}),
      ...(this.databaseCluster
        ? { DatabaseClusterId: [this.databaseCluster.clusterIdentifier, 'Aurora cluster identifier'] }
        : {}),
      ...(this.databaseReaderEndpoint
        ? { DatabaseReaderEndpoint: [this.databaseReaderEndpoint, 'Aurora reader endpoint address'] }
        : {}),
      ...(this.databaseSecret
        ? { DatabaseSecretArn: [this.databaseSecret.secretArn, "ARN of the app's database credentials secret"] }
        : {}),
      ...(this.databaseProxy
        ? { DatabaseProxyEndpoint: [this.databaseProxy.endpoint, 'RDS Proxy endpoint the service connects to'] }
        : {}),
      DatabaseMasterSecretArn: [
        this.databaseMasterSecret.secretArn,
        'ARN of the master credentials secret (administration only)',
      ],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}

/** A metric with the caller's options; a math expression takes its period, label and colour. */
function withOptions(metric: TargetMetric, props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
  if (metric instanceof cloudwatch.Metric) return metric.with(props);
  return metric.with({ period: props.period, label: props.label, color: props.color });
}
