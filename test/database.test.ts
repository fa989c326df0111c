import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CredentialRotation, EnvironmentProfile } from '../src';
import { defaultStack, onlyResource, newStack, synth } from './helpers';

describe('database', () => {
  test.each([
    [EnvironmentProfile.DEV, 'db.t4g.micro', false, 1, false, 'Delete', '20', 50],
    [EnvironmentProfile.PROD, 'db.m7g.large', true, 14, true, 'Snapshot', '100', 1000],
  ])(
    '%s: %s, Multi-AZ %s, %d days of backups, deletion protection %s, %s on removal',
    (profile, instanceClass, multiAz, backupDays, deletionProtection, deletionPolicy, storage, maxStorage) => {
      const { template } = defaultStack(profile);
      const db = onlyResource(template, 'AWS::RDS::DBInstance');
      expect(db.props).toMatchObject({
        Engine: 'postgres',
        EngineVersion: '17',
        DBInstanceClass: instanceClass,
        MultiAZ: multiAz,
        BackupRetentionPeriod: backupDays,
        DeletionProtection: deletionProtection,
        AllocatedStorage: storage,
        MaxAllocatedStorage: maxStorage,
        StorageType: 'gp3',
        StorageEncrypted: true,
        PubliclyAccessible: false,
        EnablePerformanceInsights: true,
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        DBName: 'app',
      });
      expect(db.props.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiDatabaseKey/), 'Arn'] });
      expect(db.resource.DeletionPolicy).toBe(deletionPolicy);
    },
  );

  test.each([
    [EnvironmentProfile.DEV, 0],
    [EnvironmentProfile.PROD, 1],
  ])('%s has %d AWS Backup plan(s) for the database, in a vault encrypted with the database key', (profile, plans) => {
    const { template } = defaultStack(profile);
    template.resourceCountIs('AWS::Backup::BackupPlan', plans);
    if (plans === 0) return;
    template.hasResourceProperties('AWS::Backup::BackupVault', {
      EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiDatabaseKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          Match.objectLike({ RuleName: 'Daily', Lifecycle: { DeleteAfterDays: 35 } }),
          Match.objectLike({ RuleName: 'Weekly', Lifecycle: { DeleteAfterDays: 90 } }),
        ],
      },
    });
    template.resourceCountIs('AWS::Backup::BackupSelection', 1);
  });

  test('IAM database authentication is allowed and enhanced monitoring is on', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      EnableIAMDatabaseAuthentication: true,
      MonitoringInterval: 60,
    });
  });

  test('the parameter group requires TLS', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.force_ssl': '1' },
    });
  });

  test('the database key, the one that encrypts storage and secret, rotates', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.PROD);
    const keyId = stack.getLogicalId(construct.databaseEncryptionKey.node.defaultChild as any);
    expect(template.toJSON().Resources[keyId].Properties.EnableKeyRotation).toBe(true);
    expect(onlyResource(template, 'AWS::RDS::DBInstance').props.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('credentials are generated into two KMS-encrypted secrets, master and app (naming the master), and rotate every 30 days', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.PROD);
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(2);
    const byPrefix = (prefix: string) =>
      Object.entries<any>(secrets).find(([id]) => id.startsWith(prefix))![1].Properties;
    const master = byPrefix('ApiDatabaseSecret');
    const app = byPrefix('ApiAppDatabaseSecret');
    expect(JSON.parse(master.GenerateSecretString.SecretStringTemplate)).toEqual({
      username: 'app_admin',
      dbname: 'app',
    });
    // The app secret names the master secret (masterarn) for the rotation function, so its template is a join.
    const appTemplate = JSON.stringify(app.GenerateSecretString.SecretStringTemplate);
    expect(appTemplate).toContain('\\"username\\":\\"app_user\\"');
    expect(appTemplate).toContain('masterarn');
    const masterAttachment = stack.resolve(construct.databaseMasterSecret.secretArn);
    expect(appTemplate).toContain(JSON.stringify(masterAttachment));
    for (const secret of [master, app]) {
      expect(secret.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiDatabaseKey/), 'Arn'] });
    }
    const schedules = Object.values<any>(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedules.map((s) => s.Properties.RotationRules.ScheduleExpression)).toEqual([
      'rate(30 days)',
      'rate(30 days)',
    ]);
    expect(
      schedules.map((s) => s.Properties.SecretId).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(
      [stack.resolve(construct.databaseSecret!.secretArn), masterAttachment].sort((a, b) =>
        JSON.stringify(a).localeCompare(JSON.stringify(b)),
      ),
    );
  });

  test('the database security group admits only the service, the rotation functions and the app-user bootstrap on 5432', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.PROD);
    const dbSg = stack.getLogicalId(construct.databaseSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup);
    const ingress = Object.values<any>(
      template.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { GroupId: { 'Fn::GetAtt': [dbSg, 'GroupId'] } },
      }),
    ).map((r) => r.Properties);
    expect(ingress.map((r) => r.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^ApiAppUserSqlSecurityGroup/),
      expect.stringMatching(/^ApiDatabaseAppUserRotationSecurityGroup/),
      expect.stringMatching(/^ApiDatabaseRotationSingleUserSecurityGroup/),
      expect.stringMatching(/^ApiServiceSecurityGroup/),
    ]);
    const fromService = ingress.find((r) => r.Description === 'The web service');
    expect(fromService).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('PostgreSQL'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  test.each([
    [EnvironmentProfile.DEV, 0],
    [EnvironmentProfile.PROD, 2],
  ])('%s has %d rotation schedule(s) by default (the master and the app secret)', (profile, schedules) => {
    defaultStack(profile).template.resourceCountIs('AWS::SecretsManager::RotationSchedule', schedules);
  });

  test('CredentialRotation.every turns rotation on in dev with its schedule', () => {
    const { template } = synth({ database: { rotation: CredentialRotation.every(Duration.days(10)) } });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(10 days)' },
    });
  });

  test('dev without NAT runs rotation through a Secrets Manager endpoint in one isolated subnet', () => {
    const { template } = synth({ database: { rotation: CredentialRotation.every(Duration.days(30)) } });
    const endpoint = onlyResource(template, 'AWS::EC2::VPCEndpoint');
    expect(endpoint.props.ServiceName).toBe('com.amazonaws.us-east-1.secretsmanager');
    expect(endpoint.props.SubnetIds).toHaveLength(1);
    const endpointSg = endpoint.props.SecurityGroupIds[0]['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      FromPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiRotationSecurityGroup'), 'GroupId'] },
    });
    // Not open to the whole VPC: the only inline ingress in the template is the internet-facing load balancer's.
    expect(
      Object.keys(
        template.findResources('AWS::EC2::SecurityGroup', { Properties: { SecurityGroupIngress: Match.anyValue() } }),
      ),
    ).toEqual([expect.stringMatching(/^ApiLBSecurityGroup/)]);
  });

  test('prod rotation runs in the private subnets and needs no endpoint', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('every database option can be overridden', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey');
    const { template } = synth(
      {
        profile: EnvironmentProfile.PROD,
        database: {
          instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.XLARGE),
          multiAz: false,
          databaseName: 'orders',
          masterUsername: 'orders_owner',
          allocatedStorage: 50,
          maxAllocatedStorage: 60,
          backupRetention: Duration.days(35),
          deletionProtection: false,
          removalPolicy: RemovalPolicy.RETAIN,
          encryptionKey: key,
          rotation: CredentialRotation.every(Duration.days(7)),
        },
      },
      stack,
    );
    const db = onlyResource(template, 'AWS::RDS::DBInstance');
    expect(db.props).toMatchObject({
      DBInstanceClass: 'db.r7g.xlarge',
      MultiAZ: false,
      DBName: 'orders',
      AllocatedStorage: '50',
      MaxAllocatedStorage: 60,
      BackupRetentionPeriod: 35,
      DeletionProtection: false,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^MyKey/), 'Arn'] },
    });
    expect(db.resource.DeletionPolicy).toBe('Retain');
    expect(
      Object.values<any>(template.findResources('AWS::KMS::Key')).map((k) => k.Properties.Description),
    ).not.toContainEqual(expect.stringMatching(/database/));
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
  });

  test('prod rotation can be turned off', () => {
    const { template } = synth({
      profile: EnvironmentProfile.PROD,
      database: { rotation: CredentialRotation.disabled() },
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});
