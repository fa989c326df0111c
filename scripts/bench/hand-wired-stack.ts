/**
 * The synth benchmark's reference: the construct's default (dev) stack wired by hand from aws-ecs-patterns and the
 * aws-cdk-lib L2s, the way a team would build the same thing without this library. Same resources (the benchmark
 * compares the resource types one by one before it times anything), same settings where they cost synth time: KMS-encrypted log groups, flow logs, an ECR
 * repository with lifecycle rules, a TLS-only PostgreSQL with its master and app secrets and the app-user bootstrap, the ALB service with health checks,
 * auto-scaling on CPU and requests, eleven alarms and two deployment alarms to an encrypted topic, the stack outputs and a profile tag.
 *
 * It lives with the benchmark, not in the library build: when the construct gains a resource, `npm run bench:synth`
 * refuses to report a ratio until this reference is brought level.
 */
import { Aws, CfnOutput, CustomResource, Duration, RemovalPolicy, Size, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as patterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
// The app-user bootstrap's handlers: a team would write (or copy) the same two functions.
import { BootstrapFunction } from '../../src/database/app-user/bootstrap-function';
import { SqlFunction } from '../../src/database/app-user/sql-function';

/** Builds the hand-wired equivalent of `new FargateWebServiceWithDatabase(stack, id, { image: fromDirectory(dir) })`. */
export function buildHandWiredDevStack(stack: Stack, imageDirectory: string): void {
  Tags.of(stack).add('fargate-web-service:profile', 'dev');
  const retention = logs.RetentionDays.ONE_WEEK;
  const key = (id: string, description: string) =>
    new kms.Key(stack, id, { description, enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });

  const logsKey = key('LogsKey', 'Log groups and flow logs');
  logsKey.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  const logGroup = (id: string) =>
    new logs.LogGroup(stack, id, { retention, encryptionKey: logsKey, removalPolicy: RemovalPolicy.DESTROY });

  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    restrictDefaultSecurityGroup: true,
  });
  vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup('FlowLogs')) });

  const repository = new ecr.Repository(stack, 'Repository', {
    imageScanOnPush: true,
    removalPolicy: RemovalPolicy.DESTROY,
    emptyOnDelete: true,
  });
  repository.addLifecycleRule({ rulePriority: 1, tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(1) });
  repository.addLifecycleRule({ rulePriority: 2, tagStatus: ecr.TagStatus.ANY, maxImageCount: 10 });

  const databaseKey = key('DatabaseKey', 'Database storage, Performance Insights and credentials');
  const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 });
  const databaseSecurityGroup = new ec2.SecurityGroup(stack, 'DatabaseSecurityGroup', { vpc, allowAllOutbound: false });
  const secret = new rds.DatabaseSecret(stack, 'DatabaseSecret', {
    username: 'app_admin',
    dbname: 'app',
    encryptionKey: databaseKey,
  });
  const database = new rds.DatabaseInstance(stack, 'Database', {
    engine,
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [databaseSecurityGroup],
    databaseName: 'app',
    credentials: rds.Credentials.fromSecret(secret),
    parameterGroup: new rds.ParameterGroup(stack, 'DatabaseParameters', {
      engine,
      parameters: { 'rds.force_ssl': '1' },
    }),
    storageType: rds.StorageType.GP3,
    allocatedStorage: 20,
    maxAllocatedStorage: 50,
    storageEncryptionKey: databaseKey,
    backupRetention: Duration.days(1),
    removalPolicy: RemovalPolicy.DESTROY,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: databaseKey,
    monitoringInterval: Duration.seconds(60),
    cloudwatchLogsExports: ['postgresql', 'upgrade'],
    cloudwatchLogsRetention: retention,
    iamAuthentication: true,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
  });

  // The app's own login, created by a bootstrap custom resource before the service starts.
  const appSecret = new rds.DatabaseSecret(stack, 'AppDatabaseSecret', {
    username: 'app_user',
    dbname: 'app',
    encryptionKey: databaseKey,
    masterSecret: database.secret!,
  }).attach(database);
  const sqlSecurityGroup = new ec2.SecurityGroup(stack, 'AppUserSqlSecurityGroup', { vpc, allowAllOutbound: false });
  database.connections.allowFrom(sqlSecurityGroup, ec2.Port.tcp(5432));
  const sql = new SqlFunction(stack, 'AppUserSql', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [sqlSecurityGroup],
    logGroup: logGroup('AppUserSqlLogs'),
  });
  const bootstrap = new BootstrapFunction(stack, 'AppUserBootstrap', { logGroup: logGroup('AppUserBootstrapLogs') });
  database.secret!.grantRead(bootstrap);
  appSecret.grantRead(bootstrap);
  sql.grantInvoke(bootstrap);
  const appUserProvider = new cr.Provider(stack, 'AppUserProvider', {
    onEventHandler: bootstrap,
    logGroup: logGroup('AppUserProviderLogs'),
  });

  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
    enableFargateCapacityProviders: true,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'TaskDef', {
    cpu: 256,
    memoryLimitMiB: 512,
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const secrets: Record<string, ecs.Secret> = {};
  for (const [name, field] of Object.entries({
    DB_HOST: 'host',
    DB_PORT: 'port',
    DB_NAME: 'dbname',
    DB_USER: 'username',
    DB_PASSWORD: 'password',
  })) {
    secrets[name] = ecs.Secret.fromSecretsManager(appSecret, field);
  }
  const container = taskDefinition.addContainer('App', {
    image: ecs.ContainerImage.fromAsset(imageDirectory),
    portMappings: [{ containerPort: 3000, name: 'http' }],
    environment: { PORT: '3000', NODE_ENV: 'production' },
    secrets,
    logging: ecs.LogDrivers.awsLogs({
      logGroup: logGroup('LogGroup'),
      streamPrefix: 'app',
      mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      maxBufferSize: Size.mebibytes(25),
    }),
    healthCheck: {
      command: [
        'CMD',
        'node',
        '-e',
        "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
      ],
    },
    user: '1000:1000',
    readonlyRootFilesystem: true,
    memoryLimitMiB: 512,
  });
  taskDefinition.addVolume({ name: 'tmp' });
  container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });

  const web = new patterns.ApplicationLoadBalancedFargateService(stack, 'Web', {
    cluster,
    taskDefinition,
    desiredCount: 1,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { rollback: true },
    healthCheckGracePeriod: Duration.seconds(90),
    taskSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    assignPublicIp: true,
    propagateTags: ecs.PropagatedTagSource.SERVICE,
    enableECSManagedTags: true,
  });
  web.loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
  web.targetGroup.configureHealthCheck({
    path: '/health',
    interval: Duration.seconds(15),
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 3,
  });
  web.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '30');
  database.connections.allowDefaultPortFrom(web.service);
  const appUser = new CustomResource(stack, 'AppUser', {
    serviceToken: appUserProvider.serviceToken,
    resourceType: 'Custom::AppDatabaseUser',
    properties: {
      MasterSecretArn: database.secret!.secretArn,
      AppSecretArn: appSecret.secretArn,
      SqlFunctionName: sql.functionName,
      DatabaseName: 'app',
      Username: 'app_user',
      Revision: taskDefinition.taskDefinitionArn,
    },
  });
  web.service.node.addDependency(appUser);

  const scaling = web.service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: 2 });
  scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: 70 });
  scaling.scaleOnRequestCount('RequestScaling', { requestsPerTarget: 1000, targetGroup: web.targetGroup });

  const topicKey = key('AlarmTopicKey', 'Alarm topic');
  topicKey.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  const action = new cwActions.SnsAction(new sns.Topic(stack, 'AlarmTopic', { masterKey: topicKey, enforceSSL: true }));
  const fiveMinutes = Duration.minutes(5);
  const tasks = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: web.service.serviceName },
      period: Duration.minutes(1),
    });
  const below = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
  const alarms: Array<[string, cloudwatch.IMetric, number, Partial<cloudwatch.AlarmProps>?]> = [
    [
      'Target5xx',
      web.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMinutes }),
      10,
    ],
    [
      'LoadBalancer5xx',
      web.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMinutes }),
      10,
    ],
    [
      'LatencyP99',
      web.targetGroup.metrics.targetResponseTime({ period: fiveMinutes, statistic: 'p99' }),
      2,
      { evaluationPeriods: 3 },
    ],
    [
      'UnhealthyHosts',
      web.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum' }),
      1,
      { evaluationPeriods: 5 },
    ],
    ['ServiceCpu', web.service.metricCpuUtilization({ period: fiveMinutes }), 90, { evaluationPeriods: 3 }],
    ['ServiceMemory', web.service.metricMemoryUtilization({ period: fiveMinutes }), 90, { evaluationPeriods: 3 }],
    [
      'RunningBelowDesired',
      new cloudwatch.MathExpression({
        expression: 'FILL(desired, 0) - FILL(running, 0)',
        usingMetrics: { desired: tasks('DesiredTaskCount'), running: tasks('RunningTaskCount') },
        period: Duration.minutes(1),
      }),
      1,
      { evaluationPeriods: 10 },
    ],
    ['DatabaseCpu', database.metricCPUUtilization({ period: fiveMinutes }), 90, { evaluationPeriods: 3 }],
    [
      'DatabaseFreeStorage',
      database.metricFreeStorageSpace({ period: fiveMinutes, statistic: 'Minimum' }),
      2 * 1024 ** 3,
      { comparisonOperator: below },
    ],
    [
      'DatabaseFreeableMemory',
      database.metricFreeableMemory({ period: fiveMinutes, statistic: 'Minimum' }),
      100 * 1024 ** 2,
      { comparisonOperator: below, evaluationPeriods: 3 },
    ],
    [
      'DatabaseConnections',
      database.metricDatabaseConnections({ period: fiveMinutes, statistic: 'Maximum' }),
      60,
      { evaluationPeriods: 2 },
    ],
    // The deployment alarms ECS rolls back on.
    [
      'Rollout5xxShare',
      new cloudwatch.MathExpression({
        expression: 'IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)',
        usingMetrics: {
          errors: web.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
          requests: web.targetGroup.metrics.requestCount(),
        },
        period: Duration.minutes(1),
      }),
      5,
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    ],
    [
      'RolloutUnhealthyHosts',
      web.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }),
      1,
      { evaluationPeriods: 2 },
    ],
  ];
  const rollbackAlarms: string[] = [];
  for (const [id, metric, threshold, extra] of alarms) {
    const alarm = new cloudwatch.Alarm(stack, `${id}Alarm`, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...extra,
    });
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    if (id.startsWith('Rollout')) rollbackAlarms.push(alarm.alarmName);
  }
  web.service.enableDeploymentAlarms(rollbackAlarms, { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });

  // ecs-patterns adds LoadBalancerDNS and ServiceURL; these are the construct's other outputs.
  new CfnOutput(stack, 'ClusterName', { value: cluster.clusterName });
  new CfnOutput(stack, 'ServiceName', { value: web.service.serviceName });
  new CfnOutput(stack, 'RepositoryUri', { value: repository.repositoryUri });
  new CfnOutput(stack, 'DatabaseEndpoint', { value: database.dbInstanceEndpointAddress });
  new CfnOutput(stack, 'DatabaseInstanceId', { value: database.instanceIdentifier });
  new CfnOutput(stack, 'DatabaseSecretArn', { value: appSecret.secretArn });
  new CfnOutput(stack, 'DatabaseMasterSecretArn', { value: database.secret!.secretArn });
  new CfnOutput(stack, 'LogGroupName', {
    value: taskDefinition.defaultContainer!.logDriverConfig!.options!['awslogs-group'],
  });
}
