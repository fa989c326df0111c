import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ContainerHealthCheck, EnvironmentProfile } from '../src';
import { defaultStack, newStack, onlyResource, synth } from './helpers';

function containerOf(template: any) {
  return onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
}

describe('service', () => {
  test.each([
    [EnvironmentProfile.DEV, '256', '512', 1, 7],
    [EnvironmentProfile.PROD, '512', '1024', 2, 365],
  ])('%s: task %s CPU / %s MiB, %d tasks, logs kept %d days', (profile, cpu, memory, desired, retention) => {
    const { template } = defaultStack(profile);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: cpu,
      Memory: memory,
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: desired });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: retention });
  });

  test("database settings reach the container as secrets from the app's secret, never as plain environment", () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const container = containerOf(template);
    const secretRef = { Ref: expect.stringMatching(/^ApiAppDatabaseSecretAttachment/) };
    const byName = Object.fromEntries(container.Secrets.map((s: any) => [s.Name, s.ValueFrom]));
    for (const [name, field] of [
      ['DB_HOST', 'host'],
      ['DB_PORT', 'port'],
      ['DB_NAME', 'dbname'],
      ['DB_USER', 'username'],
      ['DB_PASSWORD', 'password'],
    ]) {
      expect(byName[name]).toEqual({ 'Fn::Join': ['', [secretRef, `:${field}::`]] });
    }
    const plainNames = container.Environment.map((e: any) => e.Name);
    // NODE_ENV is the app's business (the sample app sets it through container.environment).
    expect(plainNames.sort()).toEqual(['DB_POOL_MAX', 'PORT']);
    expect(JSON.stringify(container.Environment)).not.toMatch(/password/i);
  });

  test('the container gets PORT and the pool size, the user environment and secrets', () => {
    const stack = newStack();
    const apiKey = new secretsmanager.Secret(stack, 'ApiKey');
    const { template } = synth(
      {
        container: {
          port: 8080,
          environment: { LOG_LEVEL: 'debug' },
          secrets: { API_KEY: ecs.Secret.fromSecretsManager(apiKey) },
        },
      },
      stack,
    );
    const container = containerOf(template);
    expect(container.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'PORT', Value: '8080' },
        { Name: 'LOG_LEVEL', Value: 'debug' },
        { Name: 'DB_POOL_MAX', Value: '10' },
      ]),
    );
    expect(container.Secrets.map((s: any) => s.Name)).toContain('API_KEY');
    expect(container.PortMappings).toEqual([{ ContainerPort: 8080, Name: 'http', Protocol: 'tcp' }]);
  });

  test('by default the container has no health check of its own (the load balancer is the judge) and a 30 s stop timeout', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    const container = containerOf(template);
    expect(container.HealthCheck).toBeUndefined();
    expect(container.StopTimeout).toBe(30);
    expect(container.LogConfiguration.Options.mode).toBe('non-blocking');
  });

  test('the container runs as a non-root user on a read-only root filesystem with a writable /tmp and a hard memory limit', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const container = containerOf(template);
    expect(container).toMatchObject({ User: '1000', ReadonlyRootFilesystem: true, Memory: 1024 });
    expect(container.MountPoints).toEqual([{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }]);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Volumes: [{ Name: 'tmp' }] });
  });

  test('the log group is encrypted with the logs key, whose policy admits only CloudWatch Logs of this account', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('log groups'),
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.us-east-1.amazonaws.com' },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:*']],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  test('a writable root filesystem can be asked for, and then there is no /tmp volume', () => {
    const { template } = synth({ container: { readonlyRootFilesystem: false, user: 'app' } });
    const container = containerOf(template);
    expect(container).toMatchObject({ User: 'app', ReadonlyRootFilesystem: false });
    expect(container.MountPoints).toBeUndefined();
  });

  test('ContainerHealthCheck.nodeFetch() checks the liveness path with node inside the container', () => {
    const { template } = synth({ container: { healthCheck: ContainerHealthCheck.nodeFetch() } });
    const check = containerOf(template).HealthCheck;
    expect(check.Command).toEqual([
      'CMD',
      'node',
      '-e',
      "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
    ]);
    expect(check).toMatchObject({ Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 30 });
  });

  test('rollouts keep full capacity and roll back by themselves when tasks never become healthy', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: {
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
      HealthCheckGracePeriodSeconds: 90,
      LaunchType: 'FARGATE',
    });
  });

  test('the grace period follows the health check settings: 30 s + interval x healthy threshold x 2', () => {
    const { template } = synth({
      loadBalancer: { healthCheck: { interval: Duration.seconds(20), healthyThresholdCount: 3 } },
    });
    template.hasResourceProperties('AWS::ECS::Service', { HealthCheckGracePeriodSeconds: 150 });
  });

  test('the pool size reaches the container as DB_POOL_MAX', () => {
    const { template } = synth({ container: { databasePoolSize: 4 } });
    expect(containerOf(template).Environment).toContainEqual({ Name: 'DB_POOL_MAX', Value: '4' });
  });

  test('an explicit grace period wins over the derived one', () => {
    const { template } = synth({ service: { healthCheckGracePeriod: Duration.seconds(45) } });
    template.hasResourceProperties('AWS::ECS::Service', { HealthCheckGracePeriodSeconds: 45 });
  });

  test('a health check of your own replaces the node-based one', () => {
    const { template } = synth({
      container: {
        healthCheck: ContainerHealthCheck.fromHealthCheck({
          command: ['CMD', '/bin/healthcheck'],
          interval: Duration.seconds(10),
        }),
      },
    });
    expect(containerOf(template).HealthCheck).toMatchObject({ Command: ['CMD', '/bin/healthcheck'], Interval: 10 });
  });

  test('the cluster has Container Insights and Fargate capacity providers', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    });
  });

  test('a given cluster is used and no cluster is created', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    const cluster = new ecs.Cluster(stack, 'Shared', { vpc });
    const { template, construct } = synth({ network: { vpc }, service: { cluster } }, stack);
    expect(construct.cluster).toBe(cluster);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
  });

  test('a Spot share keeps the first task on demand', () => {
    const { template } = synth({ service: { spotPercentage: 75 } });
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 25 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 75 },
      ],
      LaunchType: Match.absent(),
    });
  });

  test.each([
    [EnvironmentProfile.DEV, 1, 2],
    [EnvironmentProfile.PROD, 2, 10],
  ])('%s scales between %d and %d tasks on CPU 70 %% and 1000 requests per task', (profile, min, max) => {
    const { template } = defaultStack(profile);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: min,
      MaxCapacity: max,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 70,
        ScaleOutCooldown: 60,
        ScaleInCooldown: 300,
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget' },
        TargetValue: 1000,
      },
    });
  });

  test('memory-based scaling is added when asked for', () => {
    const { template } = synth({ scaling: { targetMemoryUtilizationPercent: 80 } });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 3);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageMemoryUtilization' },
        TargetValue: 80,
      },
    });
  });

  test('the task role can read the database secret only through the execution role', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy'));
    const secretReaders = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretReaders.map((p) => p.Properties.Roles[0].Ref)).toContainEqual(
      expect.stringMatching(/^ApiTaskDefExecutionRole/),
    );
    expect(secretReaders.map((p) => p.Properties.Roles[0].Ref)).not.toContainEqual(
      expect.stringMatching(/^ApiTaskDefTaskRole/),
    );
  });

  test('outputs the URL, load balancer, cluster, service, repository, log group and database (app and master secrets), each with its value', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.DEV);
    const outputs = Object.fromEntries(
      Object.entries<any>(template.findOutputs('*')).map(([id, output]) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        output.Value,
      ]),
    );
    const ref = (c: any) => ({ Ref: stack.getLogicalId(c.node.defaultChild) });
    expect(outputs).toEqual({
      ApiServiceUrl: stack.resolve(construct.url),
      ApiLoadBalancerDnsName: stack.resolve(construct.loadBalancer.loadBalancerDnsName),
      ApiClusterName: ref(construct.cluster),
      ApiServiceName: stack.resolve(construct.service.serviceName),
      ApiRepositoryUri: stack.resolve(construct.repository.repositoryUri),
      ApiLogGroupName: ref(construct.logGroup),
      ApiDatabaseEndpoint: stack.resolve(construct.database!.dbInstanceEndpointAddress),
      ApiDatabaseInstanceId: ref(construct.database!),
      ApiDatabaseSecretArn: stack.resolve(construct.databaseSecret!.secretArn),
      ApiDatabaseMasterSecretArn: stack.resolve(construct.databaseMasterSecret.secretArn),
    });
  });
});
