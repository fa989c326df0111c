/**
 * `database.proxy`: RDS Proxy with end-to-end IAM authentication in front of the instance. What CloudFormation will
 * create: the proxy (IAM on both legs, TLS required), its role (rds-db:connect on the instance as the app user, no
 * secret), the network (tasks reach only the proxy; the proxy only the instance), the container's plain settings
 * with no password, no app secret and no app rotation, and the bootstrap and gate still ahead of the service.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CredentialRotation, DatabaseVariables, EnvironmentProfile, RdsProxy, RolloutStrategy } from '../src';
import { onlyResource, referencedIds, synth, Synthesized } from './helpers';

const MIGRATIONS = { command: ['node', 'dist/migrate-cli.js', 'up'] };

function withProxy(profile: EnvironmentProfile, extra: Parameters<typeof synth>[0] = {}): Synthesized {
  return synth({ profile, ...extra, database: { proxy: RdsProxy.iamAuthenticated(), ...extra.database } });
}

const proxied = new Map<EnvironmentProfile, Synthesized>();
function shared(profile: EnvironmentProfile): Synthesized {
  if (!proxied.has(profile)) proxied.set(profile, withProxy(profile, { migrations: MIGRATIONS }));
  return proxied.get(profile)!;
}

/** Ingress rules on a security group, as (source group logical id, port). */
function ingressTo(template: Template, groupId: string): { source: string; port: unknown }[] {
  const rules = Object.values<any>(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
    (r) => r.Properties.GroupId?.['Fn::GetAtt']?.[0] === groupId,
  );
  return rules.map((r) => ({
    source: r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0],
    port: r.Properties.FromPort,
  }));
}

describe.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])('%s with RdsProxy.iamAuthenticated()', (profile) => {
  test('the proxy: PostgreSQL, IAM authentication end to end, TLS required, no secret, in the database subnets', () => {
    const { template } = shared(profile);
    const proxy = onlyResource(template, 'AWS::RDS::DBProxy');
    expect(proxy.props).toMatchObject({ EngineFamily: 'POSTGRESQL', DefaultAuthScheme: 'IAM_AUTH', RequireTLS: true });
    expect(proxy.props.Auth ?? []).toEqual([]);
    const target = onlyResource(template, 'AWS::RDS::DBProxyTargetGroup');
    expect(target.props.DBInstanceIdentifiers).toEqual([{ Ref: onlyResource(template, 'AWS::RDS::DBInstance').id }]);
    expect(target.props.ConnectionPoolConfigurationInfo).toMatchObject({
      MaxConnectionsPercent: 80,
      MaxIdleConnectionsPercent: 40,
      ConnectionBorrowTimeout: 30,
    });
    const subnets = onlyResource(template, 'AWS::RDS::DBSubnetGroup').props.SubnetIds;
    expect(proxy.props.VpcSubnetIds).toEqual(subnets);
  });

  test('the proxy role may log in to the instance as the app user only, and reads no secret', () => {
    const { template } = shared(profile);
    const proxy = onlyResource(template, 'AWS::RDS::DBProxy');
    const roleId = proxy.props.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: any) => r.Ref === roleId),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('rds-db:connect');
    const resource = JSON.stringify(statements[0].Resource);
    expect(resource).toContain(':dbuser:');
    expect(resource).toContain('DbiResourceId');
    expect(resource).toContain('/app_user');
    expect(JSON.stringify(statements)).not.toContain('secretsmanager');
  });

  test('the task role may connect to the proxy as the app user; nothing grants it the master', () => {
    const { template, construct, stack } = shared(profile);
    const taskRoleId = stack.getLogicalId(construct.taskDefinition.taskRole.node.defaultChild as any);
    const statements = Object.values<any>(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === taskRoleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => [s.Action].flat().includes('rds-db:connect'));
    expect(statements).toHaveLength(1);
    const resource = JSON.stringify(statements[0].Resource);
    expect(resource).toContain(':dbuser:');
    expect(resource).toContain('/app_user');
    expect(referencedIds(statements[0].Resource)).toEqual([onlyResource(template, 'AWS::RDS::DBProxy').id]);
    expect(resource).not.toContain('postgres');
  });

  test('the tasks reach only the proxy on 5432; the proxy reaches the instance; the instance admits no task', () => {
    const { template, construct, stack } = shared(profile);
    const id = (c: { node: { defaultChild?: unknown } } | ec2.SecurityGroup) =>
      stack.getLogicalId((c as ec2.SecurityGroup).node.defaultChild as any);
    const tasks = id(construct.serviceSecurityGroup);
    const proxyGroup = onlyResource(template, 'AWS::RDS::DBProxy').props.VpcSecurityGroupIds[0]['Fn::GetAtt'][0];
    const database = id(construct.databaseSecurityGroup);
    expect(ingressTo(template, proxyGroup)).toEqual([{ source: tasks, port: 5432 }]);
    const intoDatabase = ingressTo(template, database);
    // The instance's port (5432, set on the instance) as CloudFormation resolves it.
    const instancePort = { 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBInstance').id, 'Endpoint.Port'] };
    expect(onlyResource(template, 'AWS::RDS::DBInstance').props.Port).toBe('5432');
    expect(intoDatabase).toContainEqual({ source: proxyGroup, port: instancePort });
    expect(intoDatabase.map((r) => r.source)).not.toContain(tasks);
    // The proxy's group sends only to the instance's port of the instance's group.
    const egress = Object.values<any>(template.findResources('AWS::EC2::SecurityGroupEgress')).filter(
      (r) => r.Properties.GroupId['Fn::GetAtt'][0] === proxyGroup,
    );
    expect(
      egress.map((r) => [r.Properties.DestinationSecurityGroupId['Fn::GetAtt'][0], r.Properties.FromPort]),
    ).toEqual([[database, instancePort]]);
    const proxyGroupResource = template.toJSON().Resources[proxyGroup];
    // No inline egress either (allowAllOutbound is off): the rule above is the proxy's only way out.
    expect(proxyGroupResource.Properties.SecurityGroupEgress).toBeUndefined();
  });

  test('the container gets the proxy endpoint, port, name and user as plain variables and DB_IAM_AUTH, no secret', () => {
    const { template } = shared(profile);
    const container = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env).toMatchObject({ DB_PORT: '5432', DB_NAME: 'app', DB_USER: 'app_user', DB_IAM_AUTH: 'true' });
    expect(env.DB_HOST).toEqual({ 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBProxy').id, 'Endpoint'] });
    expect(env).not.toHaveProperty('DB_PASSWORD');
    expect(container.Secrets ?? []).toEqual([]);
  });

  test('there is no app secret and no app rotation; the master secret stays, and rotates in prod', () => {
    const { template, construct } = shared(profile);
    expect(construct.databaseSecret).toBeUndefined();
    expect(construct.databaseProxy).toBeDefined();
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret'))).toHaveLength(1);
    const rotations = template.findResources('AWS::SecretsManager::RotationSchedule');
    expect(Object.keys(rotations)).toHaveLength(profile === EnvironmentProfile.PROD ? 1 : 0);
    // No redeploy after rotation: there is nothing for the tasks to pick up.
    expect(
      template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.secretsmanager'] } } }),
    ).toEqual({});
    const bootstrap = onlyResource(template, 'Custom::AppDatabaseUser');
    expect(bootstrap.props).not.toHaveProperty('AppSecretArn');
    expect(bootstrap.props).toMatchObject({
      Host: { 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBInstance').id, 'Endpoint.Address'] },
      Port: { 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBInstance').id, 'Endpoint.Port'] },
      Username: 'app_user',
    });
  });

  test('the bootstrap, the migration gate and the proxy come before the service', () => {
    const { template } = shared(profile);
    const service = onlyResource(template, 'AWS::ECS::Service');
    const proxy = onlyResource(template, 'AWS::RDS::DBProxy');
    const targetGroup = onlyResource(template, 'AWS::RDS::DBProxyTargetGroup');
    const deps: string[] = service.resource.DependsOn;
    expect(deps).toEqual(
      expect.arrayContaining([onlyResource(template, 'Custom::AppDatabaseUser').id, proxy.id, targetGroup.id]),
    );
    const gate = onlyResource(template, 'Custom::MigrationGate');
    expect(gate.resource.DependsOn).toEqual(expect.arrayContaining([proxy.id, targetGroup.id]));
    expect(deps).toContain(gate.id);
  });

  test("the proxy's refused logins raise an alarm, and the dashboard draws the proxy's connections", () => {
    const { template, construct, stack } = shared(profile);
    const proxyName = { Ref: onlyResource(template, 'AWS::RDS::DBProxy').id };
    const alarm = construct.alarm('ProxyLoginFailed');
    const props = template.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as any)].Properties;
    expect(props).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'ClientConnectionsSetupFailedAuth',
      Dimensions: [{ Name: 'ProxyName', Value: proxyName }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    if (profile === EnvironmentProfile.PROD) {
      const body = JSON.stringify(onlyResource(template, 'AWS::CloudWatch::Dashboard').props.DashboardBody);
      expect(body).toContain('RDS Proxy connections');
      expect(body).toContain('ClientConnections');
    }
  });

  test('outputs name the proxy endpoint instead of an app secret', () => {
    const { template } = shared(profile);
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs).some((k) => k.startsWith('ApiDatabaseProxyEndpoint'))).toBe(true);
    expect(Object.keys(outputs).some((k) => k.startsWith('ApiDatabaseSecretArn'))).toBe(false);
  });
});

test('the IAM variable follows the naming choice: libpq names with a custom IAM variable', () => {
  const { template } = withProxy(EnvironmentProfile.DEV, {
    container: { databaseVariables: DatabaseVariables.libpq({ iamAuthentication: 'PG_IAM_AUTH' }) },
  });
  const env = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Environment;
  const names = env.map((e: any) => e.Name);
  expect(names).toEqual(expect.arrayContaining(['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PG_IAM_AUTH']));
  expect(names).not.toContain('PGPASSWORD');
});

test('without a proxy nothing changes: the app secret reaches the container and no DB_IAM_AUTH is set', () => {
  const { template, construct } = synth({ profile: EnvironmentProfile.DEV });
  expect(() => construct.alarm('ProxyLoginFailed')).toThrow(/no alarm named "ProxyLoginFailed"/);
  expect(template.findResources('AWS::RDS::DBProxy')).toEqual({});
  const container = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
  expect(container.Secrets.map((s: any) => s.Name)).toEqual(
    expect.arrayContaining(['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD']),
  );
  expect(container.Environment.map((e: any) => e.Name)).not.toContain('DB_IAM_AUTH');
});

describe('validation', () => {
  test('a proxy with IAM database authentication off is refused, naming both props', () => {
    expect(() => synth({ database: { proxy: RdsProxy.iamAuthenticated(), iamAuthentication: false } })).toThrow(
      /^Test\/Api: `database.proxy` RdsProxy.iamAuthenticated\(\) authenticates to the database with IAM: it needs `database.iamAuthentication` on/,
    );
  });

  test.each([
    [{ maxConnectionsPercent: 0 }, /`database.proxy.maxConnectionsPercent` must be an integer from 1 to 100, got 0/],
    [
      { maxConnectionsPercent: 101 },
      /`database.proxy.maxConnectionsPercent` must be an integer from 1 to 100, got 101/,
    ],
    [{ borrowTimeout: Duration.hours(2) }, /`database.proxy.borrowTimeout`/],
  ])('bad options %j are refused', (options, message) => {
    expect(() => synth({ database: { proxy: RdsProxy.iamAuthenticated(options) } })).toThrow(message);
  });

  test('DB_IAM_AUTH is reserved for the construct', () => {
    expect(() => synth({ container: { environment: { DB_IAM_AUTH: 'false' } } })).toThrow(
      /`container.environment` must not set DB_IAM_AUTH/,
    );
  });

  test('the connection budget counts the proxy share instead of tasks x pool size', () => {
    // db.t4g.micro: max_connections = 1 GiB / 9531392 = 112. Tasks x pool would be 20 x 50 = 1000: refused without a proxy.
    const props = { scaling: { maxCapacity: 20 }, container: { databasePoolSize: 50 } };
    expect(() => synth(props)).toThrow(/put RdsProxy.iamAuthenticated\(\) in front/);
    expect(() => withProxy(EnvironmentProfile.DEV, props)).not.toThrow();
    // 100 % of 112 for the proxy leaves nothing for the bootstrap and the reserve.
    expect(() => synth({ database: { proxy: RdsProxy.iamAuthenticated({ maxConnectionsPercent: 100 }) } })).toThrow(
      /the proxy's `maxConnectionsPercent` \(100 % of 112 = 112\) \+ the app-user bootstrap \(1\) \+ a reserve \(\d+\) = \d+ connections, more than the 112/,
    );
  });

  test("docs/credentials.md's example: 60 tasks x 20 connections are refused on a db.m7g.large, accepted behind the proxy", () => {
    const props = {
      profile: EnvironmentProfile.PROD,
      scaling: { maxCapacity: 60 },
      container: { databasePoolSize: 20 },
    };
    expect(() => synth(props)).toThrow(
      /= 1\d{3} connections, more than the 901 that `database.instanceType` m7g.large allows/,
    );
    expect(() => withProxy(EnvironmentProfile.PROD, props)).not.toThrow();
  });

  test('behind a proxy the rotation schedule is not bound by the rollout time (no redeploy follows it)', () => {
    const props = {
      profile: EnvironmentProfile.PROD,
      database: { rotation: CredentialRotation.every(Duration.days(1)) },
      service: { rolloutStrategy: RolloutStrategy.linear({ stepPercent: 10, stepBakeTime: Duration.minutes(200) }) },
    };
    expect(() => synth(props)).toThrow(/`database.rotation`/);
    expect(() => withProxy(EnvironmentProfile.PROD, props)).not.toThrow();
  });
});

test('the IAM policy of the task role has no statement for the app secret (there is none)', () => {
  const { template } = shared(EnvironmentProfile.PROD);
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/AppDatabaseSecret/);
  expect(template.findResources('AWS::RDS::DBProxy', { Properties: { RequireTLS: Match.exact(true) } })).not.toEqual(
    {},
  );
});
