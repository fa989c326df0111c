import { ArnFormat, CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { IsCompleteFunction } from './is-complete-function';
import { OnEventFunction } from './on-event-function';
import { ProfileDefaults } from '../defaults';
import { Acknowledgements, inCompliancePacks, INLINE_POLICY_REASON } from '../internal/acknowledge';
import { acknowledgeProviderFramework, acknowledgeSmallFunction, policiesOf } from '../internal/functions';
import { PropChecker, Resolved } from '../internal/validation';
import { LogGroupFactory } from '../logging';
import { MigrationOptions } from '../props';

export type ResolvedMigrations = Resolved<MigrationOptions>;

/** CloudFormation waits for a custom resource one hour at most. */
const CUSTOM_RESOURCE_MAX_WAIT = Duration.hours(1);
/** What the gate needs besides the migrations: starting the task (image pull, secrets) and stopping it. */
const GATE_MARGIN = Duration.minutes(5);

/** The migration gate, or undefined without `migrations`. */
export function resolveMigrations(
  check: PropChecker,
  props: MigrationOptions | undefined,
  defaults: ProfileDefaults,
  inputs: { readonly containerEnvironment: { readonly [name: string]: string } },
): ResolvedMigrations | undefined {
  if (!props) return undefined;
  const command = props.command;
  if (!Token.isUnresolved(command)) {
    check.refuse(
      !Array.isArray(command) ||
        command.length === 0 ||
        command.some((part) => typeof part !== 'string' || (!Token.isUnresolved(part) && part.trim() === '')),
      `\`migrations.command\` must be a non-empty list of non-empty strings, such as ["node", "dist/migrate-cli.js", "up"], got ${JSON.stringify(command)}.`,
    );
  }
  const longest = CUSTOM_RESOURCE_MAX_WAIT.toMinutes() - GATE_MARGIN.toMinutes();
  const timeout = props.timeout;
  check.refuse(
    timeout !== undefined &&
      !timeout.isUnresolved() &&
      (timeout.toSeconds() < 60 || timeout.toSeconds() > longest * 60),
    `\`migrations.timeout\` must be from 1 minute to ${longest} minutes, got ${timeout?.toHumanString()}: CloudFormation waits for the gate one hour at most, and starting and stopping the task needs the other ${GATE_MARGIN.toMinutes()}.`,
  );
  return {
    command,
    timeout: props.timeout ?? defaults['MigrationOptions.timeout'],
    // A user who sets MIGRATE_ON_START themselves keeps their value.
    disableMigrateOnStart:
      (props.disableMigrateOnStart ?? defaults['MigrationOptions.disableMigrateOnStart']) &&
      !('MIGRATE_ON_START' in inputs.containerEnvironment),
  };
}

/** The environment the gate needs in the service's container. */
export function migrationEnvironment(gate: ResolvedMigrations | undefined): { [name: string]: string } {
  return gate?.disableMigrateOnStart ? { MIGRATE_ON_START: 'false' } : {};
}

/** What the gate runs and where. */
export interface GatedParts {
  readonly vpc: ec2.IVpc;
  readonly taskSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The database the migration task needs running (the instance or the cluster). */
  readonly database: IDependable;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The app's database user, which the migration task connects as. */
  readonly appUser: Construct;
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
}

/**
 * Runs the new task definition once, with the migration command, before the service moves to it.
 *
 * The custom resource's properties include the task definition ARN, so every deployment that changes the task
 * definition runs the migrations again. The service depends on the custom resource: when the migrations fail, the
 * deployment fails before the service is touched, and CloudFormation rolls back.
 */
export function createMigrationGate(scope: Construct, gate: ResolvedMigrations, parts: GatedParts): CustomResource {
  const stack = Stack.of(scope);
  const { logGroups, acks } = parts;
  const functionOptions = {
    timeout: Duration.minutes(1),
    memorySize: 256,
    architecture: lambda.Architecture.ARM_64,
  };
  const onEvent = new OnEventFunction(scope, 'MigrationStarter', {
    ...functionOptions,
    description: 'Starts the one-off migration task of a deployment',
    logGroup: logGroups.createLogGroup(scope, 'MigrationStarterLogs'),
  });
  const isComplete = new IsCompleteFunction(scope, 'MigrationWaiter', {
    ...functionOptions,
    description: 'Waits for the migration task and fails the deployment when it fails',
    logGroup: logGroups.createLogGroup(scope, 'MigrationWaiterLogs'),
  });

  const clusterCondition = { ArnEquals: { 'ecs:cluster': parts.cluster.clusterArn } };
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ecs:RunTask'],
      resources: [
        stack.formatArn({
          service: 'ecs',
          resource: 'task-definition',
          resourceName: `${parts.taskDefinition.family}:*`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
      conditions: clusterCondition,
    }),
  );
  // An update CloudFormation sends while rolling back runs no migration: the handler reads the stack's status.
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }),
  );
  const roles = [parts.taskDefinition.taskRole.roleArn, parts.taskDefinition.obtainExecutionRole().roleArn];
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: roles,
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  );
  isComplete.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
      resources: [
        stack.formatArn({
          service: 'ecs',
          resource: 'task',
          resourceName: `${parts.cluster.clusterName}/*`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
      conditions: clusterCondition,
    }),
  );

  const provider = new cr.Provider(scope, 'MigrationProvider', {
    onEventHandler: onEvent,
    isCompleteHandler: isComplete,
    queryInterval: Duration.seconds(15),
    totalTimeout: Duration.seconds(gate.timeout.toSeconds() + GATE_MARGIN.toSeconds()),
    logGroup: logGroups.createLogGroup(scope, 'MigrationProviderLogs'),
    disableWaiterStateMachineLogging: false,
    waiterStateMachineLogOptions: {
      destination: logGroups.createLogGroup(scope, 'MigrationWaiterStateMachineLogs'),
      level: sfn.LogLevel.ALL,
    },
  });

  const resource = new CustomResource(scope, 'Migrations', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::MigrationGate',
    // The gate stops its task at `timeout`; CloudFormation gives up only after that, so the stop always happens.
    serviceTimeout: Duration.seconds(gate.timeout.toSeconds() + GATE_MARGIN.toSeconds()),
    properties: {
      Cluster: parts.cluster.clusterArn,
      TaskDefinition: parts.taskDefinition.taskDefinitionArn,
      ContainerName: parts.container.containerName,
      Command: gate.command,
      Subnets: parts.vpc.selectSubnets(parts.taskSubnets).subnetIds,
      SecurityGroups: [parts.securityGroup.securityGroupId],
      AssignPublicIp: parts.assignPublicIp ? 'ENABLED' : 'DISABLED',
      TimeoutSeconds: String(gate.timeout.toSeconds()),
    },
  });
  // The very first deployment: the task must be able to pull its image and read its secrets (the execution role's
  // policy), reach the database (the database security group's ingress rule) and find its user before it starts.
  resource.node.addDependency(
    parts.database,
    parts.databaseSecurityGroup,
    parts.taskDefinition.obtainExecutionRole(),
    parts.appUser,
  );
  parts.service.node.addDependency(resource);
  acknowledgeGate(acks, onEvent, isComplete, provider);
  return resource;
}

/** The gate's functions and the provider framework CDK builds around them, found by type under the provider. */
function acknowledgeGate(
  acks: Acknowledgements,
  starter: lambda.Function,
  waiter: lambda.Function,
  provider: cr.Provider,
): void {
  const reason =
    'Migration gate: a deployment-time function invoked only by the CloudFormation provider framework; it calls only the ECS API, synchronously, a few times per deployment.';
  for (const fn of [starter, waiter]) acknowledgeSmallFunction(acks, fn, { outsideVpc: true, reason });
  acknowledgeProviderFramework(acks, provider, { reason, invokes: '.*Migration.*', what: 'the two gate functions' });
  for (const policy of policiesOf(starter.role!)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['/^Resource::arn:<AWS::Partition>:ecs:.*:task-definition\\/.*:\\*$/'],
      reason:
        "ecs:RunTask on every revision of this service's task definition family only (a deployment runs the new revision), and only in this cluster.",
    });
  }
  for (const policy of policiesOf(waiter.role!)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['/^Resource::arn:<AWS::Partition>:ecs:.*:task\\/<.*>\\/\\*$/'],
      reason:
        'ecs:DescribeTasks and ecs:StopTask on tasks of this cluster only; task ids are not known before the task starts.',
    });
  }
  // The provider's waiter is CDK's own construct around a CfnStateMachine and its role.
  for (const stateMachine of provider.node.findAll().filter((c) => c instanceof sfn.CfnStateMachine)) {
    for (const policy of policiesOf(stateMachine.node.scope as Construct)) {
      acks.acknowledge(policy, {
        rules: ['AwsSolutions-IAM5'],
        appliesTo: ['Resource::*', '/^Resource::<.*Migration.*\\.Arn>:\\*$/'],
        reason:
          'CDK provider framework waiter: invokes the framework functions (their versions) and delivers its logs, whose CloudWatch Logs delivery actions have no resource-level permissions.',
      });
      acks.acknowledge(policy, { rules: inCompliancePacks('IAMNoInlinePolicy'), reason: INLINE_POLICY_REASON });
    }
    acks.acknowledge(stateMachine, {
      rules: ['AwsSolutions-SF2', 'step_functions_state_machine_tracing_enabled_check'],
      reason:
        'CDK provider framework waiter: it only polls the migration task every 15 seconds; its execution history is logged to an encrypted log group.',
    });
  }
}
