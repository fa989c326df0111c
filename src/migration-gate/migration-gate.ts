import { ArnFormat, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { IsCompleteFunction } from './is-complete-function';
import { OnEventFunction } from './on-event-function';
import { createLogGroup } from '../logging';
import { ResolvedOptions } from '../resolve-options';

export interface GatedParts {
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly database: rds.DatabaseInstance;
}

/**
 * Runs the new task definition once, with the migration command, before the service moves to it.
 *
 * The custom resource's properties include the task definition ARN, so every deployment that changes the task
 * definition runs the migrations again. The service depends on the custom resource: when the migrations fail, the
 * deployment fails before the service is touched, and CloudFormation rolls back.
 */
export function createMigrationGate(
  scope: Construct,
  parts: GatedParts,
  logsKey: kms.IKey,
  options: ResolvedOptions,
): CustomResource {
  const gate = options.migrations!;
  const stack = Stack.of(scope);
  const logGroup = (id: string) => createLogGroup(scope, id, logsKey, options);
  const functionOptions = {
    timeout: Duration.minutes(1),
    memorySize: 256,
    architecture: lambda.Architecture.ARM_64,
  };
  const onEvent = new OnEventFunction(scope, 'MigrationStarter', {
    ...functionOptions,
    description: 'Starts the one-off migration task of a deployment',
    logGroup: logGroup('MigrationStarterLogs'),
  });
  const isComplete = new IsCompleteFunction(scope, 'MigrationWaiter', {
    ...functionOptions,
    description: 'Waits for the migration task and fails the deployment when it fails',
    logGroup: logGroup('MigrationWaiterLogs'),
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
    totalTimeout: Duration.seconds(Math.min(gate.timeout.toSeconds() + 300, 7200)),
    logGroup: logGroup('MigrationProviderLogs'),
    disableWaiterStateMachineLogging: false,
    waiterStateMachineLogOptions: { destination: logGroup('MigrationWaiterStateMachineLogs'), level: sfn.LogLevel.ALL },
  });

  const resource = new CustomResource(scope, 'Migrations', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::MigrationGate',
    properties: {
      Cluster: parts.cluster.clusterArn,
      TaskDefinition: parts.taskDefinition.taskDefinitionArn,
      ContainerName: parts.container.containerName,
      Command: gate.command,
      Subnets: parts.vpc.selectSubnets(options.network.taskSubnets).subnetIds,
      SecurityGroups: [parts.securityGroup.securityGroupId],
      AssignPublicIp: options.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
      TimeoutSeconds: String(gate.timeout.toSeconds()),
    },
  });
  resource.node.addDependency(parts.database);
  parts.service.node.addDependency(resource);
  return resource;
}
