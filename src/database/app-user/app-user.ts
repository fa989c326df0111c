import { ArnFormat, CustomResource, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sam from 'aws-cdk-lib/aws-sam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { BootstrapFunction } from './bootstrap-function';
import { RedeployFunction } from './redeploy-function';
import { SqlFunction } from './sql-function';
import { Acknowledgements } from '../../internal/acknowledge';
import { acknowledgeProviderFramework, acknowledgeSmallFunction, policiesOf } from '../../internal/functions';
import { LogGroupFactory } from '../../logging';
import { AlarmDefinition, createAlarm } from '../../monitoring/alarm';
import { DATABASE_PORT, DatabaseParts } from '../database';
import { endpointOf } from '../server';

/** The Lambda runtime's CA bundle, which includes the RDS certificate authorities. */
const RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** What the bootstrap needs. */
export interface AppUserInputs {
  readonly vpc: ec2.IVpc;
  readonly databaseSubnets: ec2.SubnetSelection;
  readonly database: DatabaseParts;
  readonly databaseName: string;
  readonly username: string;
  /** Changes with every new task definition, so the user is checked (and repaired) before each one starts. */
  readonly revision: string;
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
}

/**
 * The custom resource that creates or repairs the app's database user on every deployment of a new task definition,
 * before the migration gate and the service. The handler runs outside the VPC (it reads the two secrets from Secrets
 * Manager's public endpoint) and invokes the SQL function, which runs in the database subnets and reaches only the
 * database: no NAT gateway and no endpoint in either profile.
 */
export function createAppUserBootstrap(scope: Construct, inputs: AppUserInputs): CustomResource {
  const { database, logGroups, acks } = inputs;
  const securityGroup = new ec2.SecurityGroup(scope, 'AppUserSqlSecurityGroup', {
    vpc: inputs.vpc,
    description: 'App-user bootstrap SQL function: reaches the database port and nothing else',
    allowAllOutbound: false,
  });
  database.server.connections.allowFrom(securityGroup, ec2.Port.tcp(DATABASE_PORT), 'The app-user bootstrap');
  const sql = new SqlFunction(scope, 'AppUserSql', {
    description: 'Creates or repairs the app database user (invoked by the bootstrap only)',
    vpc: inputs.vpc,
    vpcSubnets: inputs.databaseSubnets,
    securityGroups: [securityGroup],
    timeout: Duration.minutes(1),
    memorySize: 256,
    architecture: lambda.Architecture.ARM_64,
    environment: { NODE_EXTRA_CA_CERTS: RUNTIME_CA_BUNDLE },
    logGroup: logGroups.createLogGroup(scope, 'AppUserSqlLogs'),
  });
  const bootstrap = new BootstrapFunction(scope, 'AppUserBootstrap', {
    description: 'Reads the master and app credentials and hands them to the app-user SQL function',
    timeout: Duration.minutes(2),
    memorySize: 256,
    architecture: lambda.Architecture.ARM_64,
    logGroup: logGroups.createLogGroup(scope, 'AppUserBootstrapLogs'),
  });
  // A failure while CloudFormation rolls the stack back is reported as done: the handler reads the stack's status.
  bootstrap.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Stack.of(scope).stackId] }),
  );
  database.masterSecret.grantRead(bootstrap);
  database.appSecret?.grantRead(bootstrap);
  sql.grantInvoke(bootstrap);
  const provider = new cr.Provider(scope, 'AppUserProvider', {
    onEventHandler: bootstrap,
    logGroup: logGroups.createLogGroup(scope, 'AppUserProviderLogs'),
  });
  const resource = new CustomResource(scope, 'AppUser', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::AppDatabaseUser',
    serviceTimeout: Duration.minutes(5),
    properties: {
      MasterSecretArn: database.masterSecret.secretArn,
      // Behind RDS Proxy there is no app secret: the bootstrap gives the user rds_iam and no password.
      ...(database.appSecret ? { AppSecretArn: database.appSecret.secretArn } : writerEndpoint(database)),
      SqlFunctionName: sql.functionName,
      DatabaseName: inputs.databaseName,
      Username: inputs.username,
      Revision: inputs.revision,
    },
  });
  // The SQL function's way in (the ingress rule) must exist before it runs.
  resource.node.addDependency(database.server, database.securityGroup, securityGroup);

  acknowledgeSmallFunction(acks, sql, {
    outsideVpc: false,
    reason:
      'App-user bootstrap SQL function: invoked synchronously by the bootstrap only, once per deployment; it runs in the database subnets and reaches only the database.',
  });
  acks.acknowledge(sql.role!, {
    rules: ['AwsSolutions-IAM4'],
    appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
    reason: 'The AWS managed policy is the documented permission set for a function in a VPC (its network interfaces).',
  });
  const outsideReason =
    'App-user bootstrap: a deployment-time function that reads two secrets from Secrets Manager and invokes the SQL function; it needs no VPC access.';
  acknowledgeSmallFunction(acks, bootstrap, { outsideVpc: true, reason: outsideReason });
  acknowledgeProviderFramework(acks, provider, {
    reason: outsideReason,
    invokes: '.*AppUserBootstrap.*',
    what: 'the bootstrap function',
  });
  for (const policy of policiesOf(bootstrap.role!)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['/^Resource::<.*AppUserSql.*\\.Arn>:\\*$/'],
      reason: 'lambda:InvokeFunction on the versions of the app-user SQL function only (CDK grantInvoke).',
    });
  }
  return resource;
}

/** The writer's address and port, for a bootstrap without an app secret to read them from. */
function writerEndpoint(database: DatabaseParts): { Host: string; Port: string } {
  const { address, port } = endpointOf(database.server);
  return { Host: address, Port: port };
}

/** What the redeploy after a rotation needs. */
export interface RedeployInputs {
  /** The app secret's rotation (alternating users) and its schedule. */
  readonly appRotation: secretsmanager.SecretRotation;
  readonly appSchedule: Construct;
  /** How often the app secret rotates. */
  readonly schedule: Duration;
  readonly appSecret: secretsmanager.ISecret;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
  /** Alarms are made only when the construct has alarms. */
  readonly alarms?: { readonly action?: cloudwatch.IAlarmAction };
}

/**
 * After each rotation of the app's secret (its AWSCURRENT label moves), a new deployment of the service, so every
 * task reads the new login long before the rotation after next changes the password of the previous one. Alarms:
 * the rotation function failed, or the redeploy did not happen.
 */
export function addRedeployAfterRotation(scope: Construct, inputs: RedeployInputs): RedeployParts {
  const { acks } = inputs;
  const rotationFunctionArn = rotationFunctionArnOf(scope, inputs.appRotation);
  const fn = new RedeployFunction(scope, 'RedeployAfterRotation', {
    description:
      "Starts a new deployment of the service after a rotation of the app's database secret, and holds the rotation while a failed deployment leaves tasks on the previous login",
    timeout: Duration.seconds(30),
    memorySize: 128,
    architecture: lambda.Architecture.ARM_64,
    environment: {
      CLUSTER: inputs.cluster.clusterArn,
      SERVICE: inputs.service.serviceName,
      SECRET_ARN: inputs.appSecret.secretArn,
      ROTATION_LAMBDA_ARN: rotationFunctionArn,
      ROTATION_SCHEDULE: events.Schedule.rate(inputs.schedule).expressionString,
    },
    logGroup: inputs.logGroups.createLogGroup(scope, 'RedeployAfterRotationLogs'),
  });
  const inCluster = { ArnEquals: { 'ecs:cluster': inputs.cluster.clusterArn } };
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: [inputs.service.serviceArn] }),
  );
  // ListTasks names no resource of its own; the cluster condition limits it (AWS's service authorization reference).
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ecs:DescribeTasks'],
      resources: [
        Stack.of(scope).formatArn({
          service: 'ecs',
          resource: 'task',
          resourceName: `${inputs.cluster.clusterName}/*`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
      conditions: inCluster,
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:CancelRotateSecret',
        'secretsmanager:RotateSecret',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
      ],
      resources: [inputs.appSecret.secretArn],
    }),
  );
  // RotateSecret needs the caller to be allowed to invoke the rotation function.
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [rotationFunctionArn] }));
  const target = () => new targets.LambdaFunction(fn, { retryAttempts: 4, maxEventAge: Duration.hours(1) });
  const rule = new events.Rule(scope, 'RedeployAfterRotationRule', {
    description: "A new deployment of the service when the app's database secret gets a new current version",
    eventPattern: {
      source: ['aws.secretsmanager'],
      detailType: ['Secret Label Updated'],
      resources: [inputs.appSecret.secretArn],
      detail: { labelUpdated: ['AWSCURRENT'] },
    },
    targets: [target()],
  });
  const deployments = (id: string, eventName: string, description: string) =>
    new events.Rule(scope, id, {
      description,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        resources: [inputs.service.serviceArn],
        detail: { eventName: [eventName] },
      },
      targets: [target()],
    });
  const failedRule = deployments(
    'DeploymentFailedRule',
    'SERVICE_DEPLOYMENT_FAILED',
    'A deployment of the service failed or was rolled back: hold the rotation while tasks keep the previous login',
  );
  deployments(
    'DeploymentCompletedRule',
    'SERVICE_DEPLOYMENT_COMPLETED',
    'A deployment of the service completed: release a held rotation once no task keeps the previous login',
  );
  acknowledgeSmallFunction(acks, fn, {
    outsideVpc: true,
    reason:
      'Redeploy after rotation: called by EventBridge once per rotation and per deployment outcome; it calls the ECS API on this service and Secrets Manager on the app secret.',
  });
  for (const policy of policiesOf(fn.role!)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*', '/^Resource::arn:<AWS::Partition>:ecs:.*:task\\/<.*Cluster.*>\\/\\*$/'],
      reason:
        "ecs:ListTasks has no resource of its own and ecs:DescribeTasks names tasks by id: both are limited to this service's cluster by the ecs:cluster condition.",
    });
  }
  // No rotation may run before the redeploy can follow it (the rule, and its permission on the function), nor before
  // the app user exists (the multi-user rotation refuses to run while the current login fails).
  inputs.appSchedule.node.addDependency(rule, fn);
  if (!inputs.alarms) return { rule, function: fn, alarms: [] };

  const period = Duration.minutes(5);
  const definitions: AlarmDefinition[] = [
    {
      id: 'CredentialRotationFailed',
      metric: rotationErrors(scope, inputs.appRotation, period),
      threshold: 1,
      description:
        "The rotation of the app's database credentials failed (the rotation function raised an error); Secrets Manager retries it, the app keeps its current login.",
    },
    {
      id: 'RedeployAfterRotationFailed',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(failed, 0)',
        usingMetrics: {
          errors: fn.metricErrors({ period, statistic: 'Sum' }),
          failed: new cloudwatch.Metric({
            namespace: 'AWS/Events',
            metricName: 'FailedInvocations',
            dimensionsMap: { RuleName: rule.ruleName },
            statistic: 'Sum',
            period,
          }),
        },
        period,
      }),
      threshold: 1,
      description:
        'The new deployment after a credential rotation did not start: tasks keep the previous login, which the next rotation would change. Redeploy the service (ecs update-service --force-new-deployment).',
    },
    {
      id: 'DeploymentFailed',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: failedRule.ruleName },
        statistic: 'Sum',
        period,
      }),
      threshold: 1,
      description:
        'A deployment of the service failed or was rolled back. If tasks still hold the login before the last rotation, the rotation is held (automatic rotation off, the secret tagged fwsd:rotation-held-for-tasks-before) and the service redeployed once; rotation turns back on by itself when a deployment completes with every task on the current login.',
    },
  ];
  return { rule, function: fn, alarms: definitions.map((d) => createAlarm(scope, d, inputs.alarms!.action)) };
}

/** The alarm on the master password's rotation function. */
export function addMasterRotationAlarm(
  scope: Construct,
  master: secretsmanager.SecretRotation,
  action?: cloudwatch.IAlarmAction,
): cloudwatch.Alarm {
  return createAlarm(
    scope,
    {
      id: 'MasterCredentialRotationFailed',
      metric: rotationErrors(scope, master, Duration.minutes(5)),
      threshold: 1,
      description:
        'The rotation of the master database credentials failed (the rotation function raised an error); the bootstrap of the next deployment cannot log in if the master password no longer matches its secret.',
    },
    action,
  );
}

/** What the redeploy after rotation adds. */
export interface RedeployParts {
  readonly rule: events.Rule;
  readonly function: lambda.IFunction;
  readonly alarms: cloudwatch.Alarm[];
}

/** The ARN of a rotation's function, which the serverless application names in its output. */
function rotationFunctionArnOf(scope: Construct, rotation: secretsmanager.SecretRotation): string {
  const application = rotation.node.findAll().find((c): c is sam.CfnApplication => c instanceof sam.CfnApplication);
  if (!application) throw new Error(`${scope.node.path}: the rotation has no serverless application to watch`);
  return Token.asString(application.getAtt('Outputs.RotationLambdaARN'));
}

/** The Errors metric of a rotation's function. */
function rotationErrors(
  scope: Construct,
  rotation: secretsmanager.SecretRotation,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensionsMap: { FunctionName: Fn.select(6, Fn.split(':', rotationFunctionArnOf(scope, rotation))) },
    statistic: 'Sum',
    period,
  });
}
