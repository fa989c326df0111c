import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CredentialRotation, EnvironmentProfile } from '../../src';
import { defaultStack, synth, Synthesized } from '../helpers';

/** Logical ids of the resources whose definition mentions `logicalId` (a Ref or a GetAtt). */
function referrers(template: Template, logicalId: string): Record<string, string> {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const pattern = new RegExp(`"(Ref|Fn::GetAtt)":\\[?"${logicalId}"`);
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([id, r]) => id !== logicalId && pattern.test(JSON.stringify(r)))
      .map(([id, r]) => [id, r.Type]),
  );
}

const idOf = (stack: Stack, token: string) => (stack.resolve(token) as { Ref: string }).Ref;

describe.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])(
  '%s: the app never holds the master user',
  (profile) => {
    let s: Synthesized;
    beforeAll(() => {
      s = synth({ profile, migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] } });
    });

    test('every database secret of the container (and so of the migration task) is the app secret', () => {
      const { template, stack, construct } = s;
      const taskDefinitions = Object.values<any>(template.findResources('AWS::ECS::TaskDefinition'));
      expect(taskDefinitions).toHaveLength(1);
      const app = idOf(stack, construct.databaseSecret!.secretArn);
      const master = idOf(stack, construct.databaseMasterSecret.secretArn);
      const secrets = taskDefinitions[0].Properties.ContainerDefinitions.flatMap((c: any) => c.Secrets ?? []);
      expect(secrets.map((x: any) => x.Name).sort()).toEqual([
        'DB_HOST',
        'DB_NAME',
        'DB_PASSWORD',
        'DB_PORT',
        'DB_USER',
      ]);
      for (const secret of secrets) expect(JSON.stringify(secret.ValueFrom)).toContain(`"Ref":"${app}"`);
      expect(JSON.stringify(taskDefinitions)).not.toContain(master);
      // The gate runs this same task definition, so the migration task gets the same secrets.
      const [gate] = Object.values<any>(template.findResources('Custom::MigrationGate'));
      expect(gate.Properties.TaskDefinition).toEqual(stack.resolve(construct.taskDefinition.taskDefinitionArn));
    });

    test('the master secret is readable only by the bootstrap handler and the rotation functions', () => {
      const { template, stack, construct } = s;
      const master = idOf(stack, construct.databaseMasterSecret.secretArn);
      const readers = Object.entries(referrers(template, master)).filter(([, type]) =>
        [
          'AWS::IAM::Policy',
          'AWS::SecretsManager::ResourcePolicy',
          'AWS::Serverless::Application',
          'AWS::ECS::TaskDefinition',
        ].includes(type),
      );
      const policies = readers.filter(([, type]) => type === 'AWS::IAM::Policy').map(([id]) => id);
      expect(policies).toEqual([expect.stringMatching(/^ApiAppUserBootstrapServiceRoleDefaultPolicy/)]);
      const [policy] = Object.values<any>(template.findResources('AWS::IAM::Policy', { Properties: {} })).filter((p) =>
        JSON.stringify(p).includes(master),
      );
      expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ApiAppUserBootstrapServiceRole/) }]);
      expect(readers.filter(([, type]) => type === 'AWS::ECS::TaskDefinition')).toEqual([]);
      // Its resource policy only denies deletion.
      for (const [id, type] of readers.filter(([, t]) => t === 'AWS::SecretsManager::ResourcePolicy')) {
        const statements = template.toJSON().Resources[id].Properties.ResourcePolicy.Statement;
        expect([type, statements.map((x: any) => [x.Effect, x.Action])]).toEqual([
          type,
          [['Deny', 'secretsmanager:DeleteSecret']],
        ]);
      }
      const applications = readers.filter(([, type]) => type === 'AWS::Serverless::Application').map(([id]) => id);
      expect(applications).toEqual(
        profile === EnvironmentProfile.PROD ? [expect.stringMatching(/^ApiDatabaseAppUserRotation/)] : [],
      );
    });

    test('the bootstrap runs before the migration gate and the service, with the secrets, the SQL function and the revision', () => {
      const { template, stack, construct } = s;
      const resources = template.toJSON().Resources;
      const [[bootstrapId, bootstrap]] = Object.entries<any>(template.findResources('Custom::AppDatabaseUser'));
      expect(bootstrap.Properties).toMatchObject({
        MasterSecretArn: stack.resolve(construct.databaseMasterSecret.secretArn),
        AppSecretArn: stack.resolve(construct.databaseSecret!.secretArn),
        DatabaseName: 'app',
        Username: 'app_user',
        Revision: stack.resolve(construct.taskDefinition.taskDefinitionArn),
        SqlFunctionName: { Ref: expect.stringMatching(/^ApiAppUserSql/) },
      });
      const [gateId] = Object.keys(template.findResources('Custom::MigrationGate'));
      expect(resources[gateId].DependsOn).toContain(bootstrapId);
      const serviceId = stack.getLogicalId(construct.service.node.defaultChild as any);
      expect(resources[serviceId].DependsOn).toContain(bootstrapId);
      expect(bootstrap.DependsOn).toEqual(
        expect.arrayContaining([stack.getLogicalId(construct.database!.node.defaultChild as any)]),
      );
    });

    test('the SQL function runs in the database subnets and its security group reaches only the database port', () => {
      const { template, stack, construct } = s;
      const fn = Object.values<any>(template.findResources('AWS::Lambda::Function')).find((f) =>
        /app database user/.test(f.Properties.Description ?? ''),
      );
      const isolated = construct.vpc.isolatedSubnets.map((x) => stack.resolve(x.subnetId));
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(isolated);
      expect(fn.Properties.Environment.Variables.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
      const [sgId] = fn.Properties.VpcConfig.SecurityGroupIds.map((g: any) => g['Fn::GetAtt'][0]);
      const sg = template.toJSON().Resources[sgId].Properties;
      const egress = [
        ...(sg.SecurityGroupEgress ?? []),
        ...Object.values<any>(template.findResources('AWS::EC2::SecurityGroupEgress'))
          .map((e) => e.Properties)
          .filter((e) => e.GroupId?.['Fn::GetAtt']?.[0] === sgId),
      ];
      expect(egress).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          DestinationSecurityGroupId: stack.resolve(construct.databaseSecurityGroup.securityGroupId),
        }),
      ]);
    });
  },
);

describe('rotation that reaches the app', () => {
  test('prod rotates the app secret with alternating users and redeploys the service when its AWSCURRENT moves', () => {
    const { template, stack, construct } = defaultStack(EnvironmentProfile.PROD);
    const app = stack.resolve(construct.databaseSecret!.secretArn);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: app,
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    // Which rotation application each one deploys is in its mapping.
    const mappings = template.toJSON().Mappings as Record<string, any>;
    const applicationOf = (prefix: string) => {
      const [[, mapping]] = Object.entries(mappings).filter(([id]) => id.startsWith(prefix));
      return mapping.aws.applicationId as string;
    };
    expect(applicationOf('ApiDatabaseAppUserRotationSARMapping')).toMatch(
      /SecretsManagerRDSPostgreSQLRotationMultiUser$/,
    );
    expect(applicationOf('ApiDatabaseRotationSingleUserSARMapping')).toMatch(
      /SecretsManagerRDSPostgreSQLRotationSingleUser$/,
    );
    const [rule] = Object.values<any>(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern.source[0] === 'aws.secretsmanager',
    );
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['Secret Label Updated'],
      resources: [app],
      detail: { labelUpdated: ['AWSCURRENT'] },
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 } }),
    ]);
    const fnId = rule.Properties.Targets[0].Arn['Fn::GetAtt'][0];
    const fn = template.toJSON().Resources[fnId].Properties;
    expect(fn.Environment.Variables).toMatchObject({
      CLUSTER: stack.resolve(construct.cluster.clusterArn),
      SERVICE: stack.resolve(construct.service.serviceName),
      SECRET_ARN: app,
    });
    expect(fn.VpcConfig).toBeUndefined();
    const policy = Object.values<any>(template.findResources('AWS::IAM::Policy')).find(
      (p) => p.Properties.Roles[0].Ref === fn.Role['Fn::GetAtt'][0],
    );
    const cluster = { ArnEquals: { 'ecs:cluster': stack.resolve(construct.cluster.clusterArn) } };
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'ecs:UpdateService', Effect: 'Allow', Resource: stack.resolve(construct.service.serviceArn) },
      { Action: 'ecs:ListTasks', Condition: cluster, Effect: 'Allow', Resource: '*' },
      { Action: 'ecs:DescribeTasks', Condition: cluster, Effect: 'Allow', Resource: expect.anything() },
      {
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:CancelRotateSecret',
          'secretsmanager:RotateSecret',
          'secretsmanager:TagResource',
          'secretsmanager:UntagResource',
        ],
        Effect: 'Allow',
        Resource: app,
      },
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: fn.Environment.Variables.ROTATION_LAMBDA_ARN },
    ]);
    expect(JSON.stringify(policy.Properties.PolicyDocument.Statement[2].Resource)).toContain(':task/');
  });

  test("the alarms watch the rotation function and the redeploy (its errors and the rule's failed invocations)", () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const rotation = alarms.find((a) => JSON.stringify(a.AlarmName).includes('CredentialRotationFailed'));
    expect(rotation).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, Statistic: 'Sum' });
    expect(JSON.stringify(rotation.Dimensions)).toContain('Outputs.RotationLambdaARN');
    expect(JSON.stringify(rotation.Dimensions)).toMatch(/ApiDatabaseAppUserRotation/);
    const redeploy = alarms.find((a) => JSON.stringify(a.AlarmName).includes('RedeployAfterRotationFailed'));
    const metrics = redeploy.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [
      m.MetricStat.Metric.Namespace,
      m.MetricStat.Metric.MetricName,
    ]);
    expect(metrics.sort()).toEqual([
      ['AWS/Events', 'FailedInvocations'],
      ['AWS/Lambda', 'Errors'],
    ]);
    expect(redeploy.AlarmActions).toHaveLength(1);
  });

  test('dev: no rotation, no NAT gateway, no endpoint; turning rotation on adds one Secrets Manager endpoint and the redeploy', () => {
    const dev = defaultStack(EnvironmentProfile.DEV).template;
    dev.resourceCountIs('AWS::EC2::NatGateway', 0);
    dev.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    dev.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    dev.resourceCountIs('AWS::Events::Rule', 0);
    dev.resourceCountIs('Custom::AppDatabaseUser', 1);
    const rotating = synth({ database: { rotation: CredentialRotation.every(Duration.days(7)) } }).template;
    rotating.resourceCountIs('AWS::EC2::NatGateway', 0);
    rotating.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    rotating.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: 'com.amazonaws.us-east-1.secretsmanager' });
    rotating.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    // The redeploy after a rotation, and the follow-up of failed and completed deployments.
    rotating.resourceCountIs('AWS::Events::Rule', 3);
  });

  test('CredentialRotation.disabled() in prod leaves no rotation, no redeploy rule and no rotation alarms', () => {
    const { template } = synth({
      profile: EnvironmentProfile.PROD,
      database: { rotation: CredentialRotation.disabled() },
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toMatch(/RotationFailed/);
  });
});
