/**
 * `database.engine`: Aurora PostgreSQL, serverless v2 or provisioned with readers, with the same safety as the
 * instance: what CloudFormation will create (cluster, writer and readers, TLS, encryption, IAM authentication,
 * backups and deletion protection per profile), the network (tasks reach only the cluster on 5432), the secret the
 * container reads, the reader endpoint, the bootstrap and gate ahead of the service, alarms and the budget.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { CredentialRotation, DatabaseEngine, EnvironmentProfile, RdsProxy } from '../src';
import { onlyResource, synth, Synthesized } from './helpers';
import { scenario } from '../tools/policy-scenarios';

const MIGRATIONS = { command: ['node', 'dist/migrate-cli.js', 'up'] };

const cache = new Map<string, Synthesized>();
function aurora(kind: 'serverless' | 'provisioned', profile: EnvironmentProfile): Synthesized {
  const key = `${kind}-${profile}`;
  if (!cache.has(key)) {
    const engine = kind === 'serverless' ? DatabaseEngine.auroraServerless() : DatabaseEngine.auroraProvisioned();
    cache.set(key, synth({ profile, migrations: MIGRATIONS, database: { engine } }));
  }
  return cache.get(key)!;
}

const instances = (template: Template) =>
  Object.values<any>(template.findResources('AWS::RDS::DBInstance')).map((r) => r.Properties);

describe.each([
  ['serverless', EnvironmentProfile.DEV, 'db.serverless', 0],
  ['serverless', EnvironmentProfile.PROD, 'db.serverless', 1],
  ['provisioned', EnvironmentProfile.DEV, 'db.t4g.medium', 0],
  ['provisioned', EnvironmentProfile.PROD, 'db.r7g.large', 1],
] as const)('Aurora %s, %s', (kind, profile, instanceClass, readers) => {
  const prod = profile === EnvironmentProfile.PROD;

  test(`a cluster: aurora-postgresql 17.7, encrypted with the database key, IAM authentication, ${prod ? '14 days of backups and deletion protection' : '1 day of backups, destroyed with the stack'}`, () => {
    const { template } = aurora(kind, profile);
    const cluster = onlyResource(template, 'AWS::RDS::DBCluster');
    expect(cluster.props).toMatchObject({
      Engine: 'aurora-postgresql',
      EngineVersion: '17.7',
      StorageEncrypted: true,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: prod ? 14 : 1,
      DeletionProtection: prod,
      DatabaseName: 'app',
      Port: 5432,
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    expect(cluster.props.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiDatabaseKey/), 'Arn'] });
    expect(cluster.resource.DeletionPolicy).toBe(prod ? 'Snapshot' : 'Delete');
    expect(template.findResources('AWS::RDS::DBInstance', { Properties: { Engine: 'postgres' } })).toEqual({});
  });

  test(`TLS required by the cluster parameter group (rds.force_ssl = 1)`, () => {
    const { template } = aurora(kind, profile);
    const cluster = onlyResource(template, 'AWS::RDS::DBCluster');
    const group = template.toJSON().Resources[cluster.props.DBClusterParameterGroupName.Ref];
    expect(group.Type).toBe('AWS::RDS::DBClusterParameterGroup');
    expect(group.Properties).toMatchObject({ Family: 'aurora-postgresql17', Parameters: { 'rds.force_ssl': '1' } });
  });

  test(`a writer and ${readers} reader(s) of ${instanceClass}, not public, in the database subnets`, () => {
    const { template } = aurora(kind, profile);
    const members = instances(template);
    expect(members).toHaveLength(1 + readers);
    for (const m of members) {
      expect(m).toMatchObject({
        DBInstanceClass: instanceClass,
        Engine: 'aurora-postgresql',
        PubliclyAccessible: false,
      });
    }
    if (kind === 'serverless') {
      expect(onlyResource(template, 'AWS::RDS::DBCluster').props.ServerlessV2ScalingConfiguration).toEqual(
        prod ? { MinCapacity: 0.5, MaxCapacity: 16 } : { MinCapacity: 0, MaxCapacity: 2, SecondsUntilAutoPause: 300 },
      );
    }
  });

  test('the container reads the app secret attached to the cluster; the readers come as DB_READ_HOST', () => {
    const { template, construct } = aurora(kind, profile);
    const container = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
    expect(container.Secrets.map((s: any) => s.Name).sort()).toEqual(
      ['DB_HOST', 'DB_NAME', 'DB_PASSWORD', 'DB_PORT', 'DB_USER'].sort(),
    );
    const attachment = Object.values<any>(template.findResources('AWS::SecretsManager::SecretTargetAttachment')).map(
      (a) => a.Properties,
    );
    const cluster = onlyResource(template, 'AWS::RDS::DBCluster').id;
    expect(attachment.every((a) => a.TargetType === 'AWS::RDS::DBCluster' && a.TargetId.Ref === cluster)).toBe(true);
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    if (readers > 0) {
      expect(env.DB_READ_HOST).toEqual({ 'Fn::GetAtt': [cluster, 'ReadEndpoint.Address'] });
      expect(construct.databaseReaderEndpoint).toBeDefined();
    } else {
      expect(env).not.toHaveProperty('DB_READ_HOST');
    }
    expect(construct.databaseCluster).toBeDefined();
    expect(construct.database).toBeUndefined();
  });

  test('the tasks reach the cluster on 5432 through its security group; nothing else from the tasks', () => {
    const { template, construct, stack } = aurora(kind, profile);
    const tasks = stack.getLogicalId(construct.serviceSecurityGroup.node.defaultChild as any);
    const database = stack.getLogicalId(construct.databaseSecurityGroup.node.defaultChild as any);
    const cluster = onlyResource(template, 'AWS::RDS::DBCluster');
    expect(cluster.props.VpcSecurityGroupIds).toEqual([{ 'Fn::GetAtt': [database, 'GroupId'] }]);
    const fromTasks = Object.values<any>(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => r.Properties.SourceSecurityGroupId?.['Fn::GetAtt']?.[0] === tasks,
    );
    expect(fromTasks.map((r) => [r.Properties.GroupId['Fn::GetAtt'][0], r.Properties.FromPort])).toEqual([
      [database, 5432],
    ]);
  });

  test('the bootstrap (reading the app secret on the cluster) and the migration gate come before the service', () => {
    const { template } = aurora(kind, profile);
    const service = onlyResource(template, 'AWS::ECS::Service');
    const bootstrap = onlyResource(template, 'Custom::AppDatabaseUser');
    const gate = onlyResource(template, 'Custom::MigrationGate');
    const cluster = onlyResource(template, 'AWS::RDS::DBCluster').id;
    expect(service.resource.DependsOn).toEqual(expect.arrayContaining([bootstrap.id, gate.id]));
    expect(bootstrap.resource.DependsOn).toEqual(expect.arrayContaining([cluster]));
    expect(gate.resource.DependsOn).toEqual(expect.arrayContaining([cluster]));
    expect(bootstrap.props.AppSecretArn).toBeDefined();
  });

  test(`alarms on the cluster's metrics; no free-storage alarm${kind === 'serverless' ? '; a capacity alarm at 90 % of the maximum ACUs' : ''}`, () => {
    const { template, construct } = aurora(kind, profile);
    const cluster = { Ref: onlyResource(template, 'AWS::RDS::DBCluster').id };
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const cpu = alarms.find((a) => a.MetricName === 'CPUUtilization' && a.Namespace === 'AWS/RDS');
    expect(cpu.Dimensions).toEqual([{ Name: 'DBClusterIdentifier', Value: cluster }]);
    expect(alarms.some((a) => a.MetricName === 'FreeStorageSpace')).toBe(false);
    expect(() => construct.alarm('DatabaseFreeStorage')).toThrow(/no alarm named "DatabaseFreeStorage"/);
    expect(() => construct.metricDatabaseFreeStorage()).toThrow(/an Aurora cluster has no free storage metric/);
    if (kind === 'serverless') {
      const capacity = alarms.find((a) => a.MetricName === 'ACUUtilization');
      expect(capacity).toMatchObject({
        Threshold: 90,
        EvaluationPeriods: 3,
        Dimensions: [{ Name: 'DBClusterIdentifier', Value: cluster }],
      });
    } else {
      expect(alarms.some((a) => a.MetricName === 'ACUUtilization')).toBe(false);
    }
  });

  test('outputs name the cluster and, with readers, the reader endpoint', () => {
    const { template } = aurora(kind, profile);
    const outputs = Object.keys(template.toJSON().Outputs);
    expect(outputs.some((k) => k.startsWith('ApiDatabaseClusterId'))).toBe(true);
    expect(outputs.some((k) => k.startsWith('ApiDatabaseInstanceId'))).toBe(false);
    expect(outputs.some((k) => k.startsWith('ApiDatabaseReaderEndpoint'))).toBe(readers > 0);
  });
});

test('prod rotation works on the cluster: the master single-user and the app alternating-users rotations, then the redeploy', () => {
  const { template } = aurora('provisioned', EnvironmentProfile.PROD);
  expect(Object.keys(template.findResources('AWS::SecretsManager::RotationSchedule'))).toHaveLength(2);
  // The applications' ids are looked up in the template's mappings (per partition).
  const mappings = template.toJSON().Mappings;
  const apps = Object.values<any>(template.findResources('AWS::Serverless::Application')).map((a) => {
    const [mapping] = a.Properties.Location.ApplicationId['Fn::FindInMap'];
    return mappings[mapping].aws.applicationId;
  });
  expect(apps.some((a) => JSON.stringify(a).includes('SecretsManagerRDSPostgreSQLRotationMultiUser'))).toBe(true);
  expect(apps.some((a) => JSON.stringify(a).includes('SecretsManagerRDSPostgreSQLRotationSingleUser'))).toBe(true);
  expect(
    template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { 'detail-type': ['Secret Label Updated'] } },
    }),
  ).not.toEqual({});
});

test('prod backs the cluster up in the AWS Backup plan too', () => {
  const { template } = aurora('serverless', EnvironmentProfile.PROD);
  const selection = onlyResource(template, 'AWS::Backup::BackupSelection');
  expect(JSON.stringify(selection.props)).toContain(':cluster:');
});

describe('with RDS Proxy', () => {
  test('provisioned with a reader: the proxy fronts the cluster, and DB_READ_HOST is its read-only endpoint', () => {
    const { template } = synth({
      profile: EnvironmentProfile.PROD,
      database: { engine: DatabaseEngine.auroraProvisioned(), proxy: RdsProxy.iamAuthenticated() },
    });
    const target = onlyResource(template, 'AWS::RDS::DBProxyTargetGroup');
    expect(target.props.DBClusterIdentifiers).toEqual([{ Ref: onlyResource(template, 'AWS::RDS::DBCluster').id }]);
    const endpoint = onlyResource(template, 'AWS::RDS::DBProxyEndpoint');
    expect(endpoint.props.TargetRole).toBe('READ_ONLY');
    const env = Object.fromEntries(
      onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Environment.map((e: any) => [
        e.Name,
        e.Value,
      ]),
    );
    expect(env.DB_HOST).toEqual({ 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBProxy').id, 'Endpoint'] });
    expect(env.DB_READ_HOST).toEqual({ 'Fn::GetAtt': [endpoint.id, 'Endpoint'] });
    expect(env.DB_IAM_AUTH).toBe('true');
    // The proxy's role may connect to the cluster as the app user (the cluster's resource id).
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('DBClusterResourceId');
    // The bootstrap reads no app secret and finds the writer by its endpoint.
    const bootstrap = onlyResource(template, 'Custom::AppDatabaseUser').props;
    expect(bootstrap).not.toHaveProperty('AppSecretArn');
    expect(bootstrap.Host).toEqual({
      'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBCluster').id, 'Endpoint.Address'],
    });
  });

  test('serverless with minCapacity 0 behind a proxy is refused (Aurora does not pause behind RDS Proxy)', () => {
    expect(() =>
      synth({ database: { engine: DatabaseEngine.auroraServerless(), proxy: RdsProxy.iamAuthenticated() } }),
    ).toThrow(
      /^Test\/Api: `database.engine` DatabaseEngine.auroraServerless\(\) with minCapacity 0 cannot be combined with `database.proxy`/,
    );
    expect(() =>
      synth({
        database: { engine: DatabaseEngine.auroraServerless({ minCapacity: 0.5 }), proxy: RdsProxy.iamAuthenticated() },
      }),
    ).not.toThrow();
  });
});

describe('validation', () => {
  test.each([
    [
      { engineVersion: rds.PostgresEngineVersion.VER_16 },
      /`database.engineVersion` is for DatabaseEngine.rdsPostgres\(\), not DatabaseEngine.auroraServerless\(\): give the Aurora version/,
    ],
    [{ multiAz: true }, /`database.multiAz` is for DatabaseEngine.rdsPostgres\(\), not .*add `readers`/],
    [{ allocatedStorage: 100 }, /`database.allocatedStorage` is for DatabaseEngine.rdsPostgres\(\).*grows by itself/],
    [{ maxAllocatedStorage: 100 }, /`database.maxAllocatedStorage` is for DatabaseEngine.rdsPostgres\(\)/],
    [
      { instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE) },
      /`database.instanceType` is not used by DatabaseEngine.auroraServerless\(\): its capacity is `minCapacity` to `maxCapacity` ACUs/,
    ],
  ])('serverless refuses the instance-only prop %j', (database, message) => {
    expect(() => synth({ database: { engine: DatabaseEngine.auroraServerless(), ...database } })).toThrow(message);
  });

  test.each([
    [{ minCapacity: -1 }, /minCapacity must be 0 to 256 ACUs in steps of 0.5, got -1/],
    [{ minCapacity: 0.3 }, /minCapacity must be 0 to 256 ACUs in steps of 0.5, got 0.3/],
    [{ maxCapacity: 0.5 }, /maxCapacity must be 1 to 256 ACUs in steps of 0.5, got 0.5/],
    [{ maxCapacity: 300 }, /maxCapacity must be 1 to 256 ACUs/],
    [{ minCapacity: 8, maxCapacity: 4 }, /maxCapacity must be >= minCapacity, got 4 < 8/],
    [{ minCapacity: 1, autoPause: Duration.minutes(10) }, /autoPause needs a minCapacity of 0/],
    [{ autoPause: Duration.minutes(1) }, /`database.engine.autoPause` must be/],
    [{ readers: 16 }, /`database.engine.readers` must be an integer from 0 to 15, got 16/],
    [
      { version: rds.AuroraPostgresEngineVersion.VER_16_1 },
      /minCapacity 0 needs Aurora PostgreSQL 16.3 or newer to pause, got 16.1/,
    ],
    [{ version: rds.AuroraPostgresEngineVersion.VER_13_15 }, /needs Aurora PostgreSQL 14 or newer, got 13.15/],
  ])('serverless options %j are refused', (options, message) => {
    expect(() => synth({ database: { engine: DatabaseEngine.auroraServerless(options as any) } })).toThrow(message);
  });

  test('provisioned refuses a class Aurora PostgreSQL does not run on, naming the classes it does', () => {
    expect(() =>
      synth({
        database: {
          engine: DatabaseEngine.auroraProvisioned(),
          instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
        },
      }),
    ).toThrow(
      /`database.instanceType` m7g.large cannot run DatabaseEngine.auroraProvisioned\(\): Aurora PostgreSQL runs on r- and x2g-classes/,
    );
    expect(() =>
      synth({
        database: {
          engine: DatabaseEngine.auroraProvisioned(),
          instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
        },
      }),
    ).toThrow(/t4g.micro cannot run/);
  });

  test('the connection budget of serverless counts maxCapacity x 2 GiB of memory', () => {
    // 2 ACUs = 4 GiB: max_connections 450. 20 tasks x 22 = 440 + the gate's 22 + bootstrap + reserve: over.
    const props = { scaling: { maxCapacity: 20 }, container: { databasePoolSize: 22 }, migrations: MIGRATIONS };
    expect(() => synth({ ...props, database: { engine: DatabaseEngine.auroraServerless() } })).toThrow(
      /= 4\d\d connections, more than the 450 that `database.engine` maxCapacity 2 ACUs allows \(max_connections\); lower `scaling.maxCapacity` or `container.databasePoolSize`, raise the engine's maxCapacity/,
    );
    expect(() =>
      synth({ ...props, database: { engine: DatabaseEngine.auroraServerless({ maxCapacity: 4 }) } }),
    ).not.toThrow();
  });

  test('rotation in dev works on Aurora too (the schedule and the redeploy)', () => {
    const { template } = synth({
      database: { engine: DatabaseEngine.auroraServerless(), rotation: CredentialRotation.every(Duration.days(30)) },
    });
    expect(Object.keys(template.findResources('AWS::SecretsManager::RotationSchedule'))).toHaveLength(2);
  });
});

test('grantConnect on Aurora grants rds-db:connect on the cluster (its resource id), for the named login only', () => {
  const s = scenario('dev-aurora');
  const role = new iam.Role(s.stack, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
  s.construct.grantConnect(role, 'reporting');
  const template = Template.fromStack(s.stack);
  const statements = Object.values<any>(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes('Reporting'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  expect(statements).toHaveLength(1);
  expect(statements[0].Action).toBe('rds-db:connect');
  const resource = JSON.stringify(statements[0].Resource);
  expect(resource).toContain('DBClusterResourceId');
  expect(resource).toContain('/reporting');
});
