import { CfnParameter, Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import {
  Alarms,
  CredentialRotation,
  DatabaseVariables,
  DeploymentAlarms,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  Https,
  ServiceImage,
  WebAcl,
} from '../src';
import { FIXTURE_APP, isolatedVpcWithEndpoints, newStack, synth, TestProps } from './helpers';

type Case = [string, (stack: ReturnType<typeof newStack>) => TestProps, string];

const zone = (stack: any) =>
  route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });

const cases: Case[] = [
  [
    'minCapacity above maxCapacity',
    () => ({ scaling: { minCapacity: 5, maxCapacity: 3 } }),
    '`scaling.maxCapacity` must be >= `scaling.minCapacity`, got 3 < 5.',
  ],
  [
    'minCapacity of 0',
    () => ({ scaling: { minCapacity: 0 } }),
    '`scaling.minCapacity` must be an integer from 1 to 1000, got 0.',
  ],
  [
    'fractional maxCapacity',
    () => ({ scaling: { maxCapacity: 2.5 } }),
    '`scaling.maxCapacity` must be an integer from 1 to 1000, got 2.5.',
  ],
  [
    'CPU target above 100',
    () => ({ scaling: { targetCpuUtilizationPercent: 120 } }),
    '`scaling.targetCpuUtilizationPercent` must be an integer from 1 to 100, got 120.',
  ],
  [
    'memory target of 0',
    () => ({ scaling: { targetMemoryUtilizationPercent: 0 } }),
    '`scaling.targetMemoryUtilizationPercent` must be an integer from 1 to 100, got 0.',
  ],
  [
    'requests per target of 0',
    () => ({ scaling: { requestsPerTarget: 0 } }),
    '`scaling.requestsPerTarget` must be an integer from 1 to 1000000, got 0.',
  ],
  [
    'an invalid CPU value',
    () => ({ service: { cpu: 300 } }),
    '`service.cpu` must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 (Fargate CPU units), got 300.',
  ],
  [
    'an invalid cpu/memory pair',
    () => ({ service: { cpu: 256, memoryLimitMiB: 4096 } }),
    '`service.memoryLimitMiB` 4096 is not valid with `service.cpu` 256; Fargate allows 512 to 2048 MiB in steps of 512 (512, 1024, 2048).',
  ],
  [
    'memory too small for the CPU',
    () => ({ service: { cpu: 1024, memoryLimitMiB: 1024 } }),
    '`service.memoryLimitMiB` 1024 is not valid with `service.cpu` 1024; Fargate allows 2048 to 8192 MiB in steps of 1024 (2048, 3072, ...).',
  ],
  [
    'a Spot share above 100',
    () => ({ service: { spotPercentage: 150 } }),
    '`service.spotPercentage` must be an integer from 0 to 100, got 150.',
  ],
  [
    'Spot on ARM64',
    () => ({ service: { spotPercentage: 50, cpuArchitecture: ecs.CpuArchitecture.ARM64 } }),
    '`service.spotPercentage` must be 0 with `service.cpuArchitecture` ARM64: Fargate Spot runs X86_64 tasks only.',
  ],
  [
    'a container port of 0',
    () => ({ container: { port: 0 } }),
    '`container.port` must be an integer from 1 to 65535, got 0.',
  ],
  [
    'a stop timeout above the Fargate maximum',
    () => ({ container: { stopTimeout: Duration.minutes(5) } }),
    '`container.stopTimeout` must be from 2 seconds to 120 seconds, got 5 minutes.',
  ],
  [
    'a reserved environment name',
    () => ({ container: { environment: { DB_PASSWORD: 'hunter2' } } }),
    '`container.environment` must not set DB_PASSWORD: the construct sets PORT, DB_POOL_MAX, DB_IAM_AUTH, DB_READ_HOST, DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD itself (`container.databaseVariables` DatabaseVariables.db() names the database ones).',
  ],
  [
    'a name the libpq variables take',
    () => ({ container: { databaseVariables: DatabaseVariables.libpq(), environment: { PGHOST: 'db.local' } } }),
    '`container.environment` must not set PGHOST: the construct sets PORT, DB_POOL_MAX, DB_IAM_AUTH, DB_READ_HOST, PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD itself (`container.databaseVariables` DatabaseVariables.libpq() names the database ones).',
  ],
  [
    'custom database variables that repeat a name',
    () => ({
      container: {
        databaseVariables: DatabaseVariables.custom({
          host: 'DB',
          port: 'DB',
          name: 'NAME',
          user: 'USER',
          password: 'PASS',
        }),
      },
    }),
    '`container.databaseVariables` DatabaseVariables.custom() must name 8 different variables, got DB, DB, NAME, USER, PASS, DB_POOL_MAX, DB_IAM_AUTH, DB_READ_HOST.',
  ],
  [
    'a custom database variable that is not an environment name',
    () => ({ container: { databaseVariables: DatabaseVariables.libpq({ poolSize: 'POOL-SIZE' }) } }),
    '`container.databaseVariables` DatabaseVariables.libpq() names must be letters, digits and underscores, not starting with a digit, and not PORT, got "POOL-SIZE".',
  ],
  [
    'a relative writable path',
    () => ({ container: { writablePaths: ['var/cache'] } }),
    '`container.writablePaths` must be absolute paths without "." or ".." segments (letters, digits, ".", "_", "-"), got "var/cache".',
  ],
  [
    'a writable path that climbs out',
    () => ({ container: { writablePaths: ['/tmp/../etc'] } }),
    '`container.writablePaths` must be absolute paths without "." or ".." segments (letters, digits, ".", "_", "-"), got "/tmp/../etc".',
  ],
  [
    'writable paths on a writable root filesystem',
    () => ({ container: { readonlyRootFilesystem: false, writablePaths: ['/tmp'] } }),
    '`container.writablePaths` needs `container.readonlyRootFilesystem` (with a writable root filesystem every path is writable); leave one of them unset.',
  ],
  [
    'a writable path twice',
    () => ({ container: { writablePaths: ['/tmp', '/tmp'] } }),
    '`container.writablePaths` must be at most 10 distinct paths, got ["/tmp","/tmp"].',
  ],
  [
    'an invalid environment name',
    () => ({ container: { environment: { 'LOG-LEVEL': 'debug' } } }),
    '`container.environment` names must be letters, digits and underscores, not starting with a digit, got "LOG-LEVEL".',
  ],
  [
    'a health check path without a leading slash',
    () => ({ loadBalancer: { healthCheck: { path: 'health' } } }),
    '`loadBalancer.healthCheck.path` must be a path that starts with "/" and contains no spaces, got "health".',
  ],
  [
    'a health check interval of 2 seconds',
    () => ({ loadBalancer: { healthCheck: { interval: Duration.seconds(2) } } }),
    '`loadBalancer.healthCheck.interval` must be from 5 seconds to 300 seconds, got 2 seconds.',
  ],
  [
    'a health check timeout not shorter than the interval',
    () => ({ loadBalancer: { healthCheck: { interval: Duration.seconds(10), timeout: Duration.seconds(10) } } }),
    '`loadBalancer.healthCheck.timeout` must be shorter than `loadBalancer.healthCheck.interval`, got 10 seconds >= 10 seconds.',
  ],
  [
    'a healthy threshold of 1',
    () => ({ loadBalancer: { healthCheck: { healthyThresholdCount: 1 } } }),
    '`loadBalancer.healthCheck.healthyThresholdCount` must be an integer from 2 to 10, got 1.',
  ],
  [
    'an unhealthy threshold of 11',
    () => ({ loadBalancer: { healthCheck: { unhealthyThresholdCount: 11 } } }),
    '`loadBalancer.healthCheck.unhealthyThresholdCount` must be an integer from 2 to 10, got 11.',
  ],
  [
    'healthy codes outside 200-499',
    () => ({ loadBalancer: { healthCheck: { healthyHttpCodes: '200,503' } } }),
    '`loadBalancer.healthCheck.healthyHttpCodes` must be codes from 200 to 499 as a list ("200,204") or a range ("200-299"), got "200,503".',
  ],
  [
    'a deregistration delay above an hour',
    () => ({ loadBalancer: { deregistrationDelay: Duration.hours(2) } }),
    '`loadBalancer.deregistrationDelay` must be from 0 seconds to 3600 seconds, got 2 hours.',
  ],
  [
    'a global web ACL ARN',
    () => ({ loadBalancer: { webAcl: WebAcl.fromArn('arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y') } }),
    '`loadBalancer.webAcl` must be the ARN of a regional WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...), got "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y".',
  ],
  [
    'a web ACL rate limit of 10',
    () => ({ loadBalancer: { webAcl: WebAcl.managed({ rateLimit: 10 }) } }),
    '`loadBalancer.webAcl.rateLimit` must be an integer from 100 to 2000000000, got 10.',
  ],
  [
    'a root container user',
    () => ({ container: { user: 'root' } }),
    '`container.user` must not be root: give a non-root user name or numeric id such as "1000", got "root".',
  ],
  [
    'a malformed alarm e-mail',
    () => ({ monitoring: { alarms: Alarms.toNewTopic({ email: 'oncall' }) } }),
    '`monitoring.alarms` must be an e-mail address, got "oncall".',
  ],
  [
    'a CPU alarm threshold above 100',
    () => ({ monitoring: { alarms: Alarms.toNewTopic({ thresholds: { serviceCpuPercent: 150 } }) } }),
    '`monitoring.alarms.thresholds.serviceCpuPercent` must be an integer from 1 to 100, got 150.',
  ],
  [
    'a p99 latency threshold of 0',
    () => ({ monitoring: { alarms: Alarms.toNewTopic({ thresholds: { p99LatencySeconds: 0 } }) } }),
    '`monitoring.alarms.thresholds.p99LatencySeconds` must be above 0 and at most 60, got 0.',
  ],
  [
    'an empty migration command',
    () => ({ migrations: { command: [] } }),
    '`migrations.command` must be a non-empty list of non-empty strings, such as ["node", "dist/migrate-cli.js", "up"], got [].',
  ],
  [
    'a migration timeout longer than CloudFormation waits',
    () => ({ migrations: { command: ['migrate'], timeout: Duration.minutes(56) } }),
    '`migrations.timeout` must be from 1 minute to 55 minutes, got 56 minutes: CloudFormation waits for the gate one hour at most, and starting and stopping the task needs the other 5.',
  ],
  [
    'a rollback 5xx share above 100 %',
    () => ({ service: { deploymentAlarms: DeploymentAlarms.rollbackOnErrors({ target5xxPercent: 150 }) } }),
    '`service.deploymentAlarms.target5xxPercent` must be an integer from 1 to 100, got 150.',
  ],
  [
    'a rollback request minimum of 0',
    () => ({ service: { deploymentAlarms: DeploymentAlarms.rollbackOnErrors({ minimumRequestsPerMinute: 0 }) } }),
    '`service.deploymentAlarms.minimumRequestsPerMinute` must be an integer from 1 to 1000000, got 0.',
  ],
  [
    'a database pool of 0',
    () => ({ container: { databasePoolSize: 0 } }),
    '`container.databasePoolSize` must be an integer from 1 to 1000, got 0.',
  ],
  [
    'more connections at full scale than the instance class allows',
    () => ({ scaling: { maxCapacity: 10 }, container: { databasePoolSize: 10 }, migrations: { command: ['migrate'] } }),
    '`scaling.maxCapacity` (10) x `container.databasePoolSize` (10) + the migration task (10) + the app-user bootstrap (1) + a reserve (5) = 116 connections, more than the 112 that `database.instanceType` t4g.micro allows (max_connections); lower `scaling.maxCapacity` or `container.databasePoolSize`, choose a larger `database.instanceType`, or put RdsProxy.iamAuthenticated() in front (`database.proxy`).',
  ],
  [
    'a pool that rotation tips over the limit',
    // Without rotation: 52 x 2 + 2 + 1 + 5 = 112, exactly the limit (see the budget test below).
    () => ({
      scaling: { maxCapacity: 52 },
      container: { databasePoolSize: 2 },
      database: {
        rotation: CredentialRotation.every(Duration.days(30)),
        instanceType: new ec2.InstanceType('t4g.micro'),
      },
      migrations: { command: ['migrate'] },
    }),
    '`scaling.maxCapacity` (52) x `container.databasePoolSize` (2) + the migration task (2) + the app-user bootstrap (1) + the rotation functions (2) + a reserve (5) = 114 connections, more than the 112',
  ],
  [
    'a malformed domain name',
    (s) => ({ loadBalancer: { https: Https.fromDomain('api..example', zone(s)) } }),
    '`loadBalancer.https` must be a fully qualified domain name such as "api.example.com", got "api..example".',
  ],
  ['a VPC in one AZ', () => ({ network: { maxAzs: 1 } }), '`network.maxAzs` must be an integer from 2 to 6, got 1.'],
  [
    'more NAT gateways than AZs',
    () => ({ network: { natGateways: 3 } }),
    '`network.natGateways` must be an integer from 0 to 2, got 3.',
  ],
  [
    'negative NAT gateways',
    () => ({ network: { natGateways: -1 } }),
    '`network.natGateways` must be an integer from 0 to 2, got -1.',
  ],
  [
    'a given VPC with maxAzs',
    (s) => ({ network: { vpc: new ec2.Vpc(s, 'V'), maxAzs: 3 } }),
    '`network.maxAzs` applies only to a VPC the construct creates; it cannot be combined with `network.vpc`. Configure the given VPC instead.',
  ],
  [
    'subnet selections without a given VPC',
    () => ({ network: { taskSubnets: { subnetType: ec2.SubnetType.PUBLIC } } }),
    '`network.taskSubnets`, `network.databaseSubnets` and `network.taskEgressOutsideApp` describe a given `network.vpc`; the VPC the construct creates places its subnets and routes itself.',
  ],
  [
    'Multi-AZ on a given VPC with one AZ',
    (s) => ({
      profile: EnvironmentProfile.PROD,
      network: {
        vpc: new ec2.Vpc(s, 'V', {
          maxAzs: 1,
          natGateways: 1,
          subnetConfiguration: [
            { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          ],
        }),
      },
    }),
    '`network.databaseSubnets` must span at least 2 Availability Zones for a Multi-AZ database (`database.multiAz`), got 1.',
  ],
  [
    'an egress declaration without a given VPC',
    () => ({ network: { taskEgressOutsideApp: true } }),
    '`network.taskSubnets`, `network.databaseSubnets` and `network.taskEgressOutsideApp` describe a given `network.vpc`; the VPC the construct creates places its subnets and routes itself.',
  ],
  [
    'an internet-facing load balancer in a VPC without public subnets',
    (s) => ({ network: { vpc: isolatedVpcWithEndpoints(s) } }),
    '`loadBalancer.internetFacing` needs public subnets, and `network.vpc` has none; add public subnets or set `loadBalancer.internetFacing: false`.',
  ],
  [
    'zero images to keep',
    () => ({ repository: { maxImageCount: 0 } }),
    '`repository.maxImageCount` must be an integer from 1 to 10000, got 0.',
  ],
  [
    'untagged images expiring in hours',
    () => ({ repository: { untaggedImageExpiry: Duration.hours(12) } }),
    '`repository.untaggedImageExpiry` must be a whole number of days, at least 1, got 12 hours.',
  ],
  [
    'an invalid repository name',
    () => ({ repository: { repositoryName: 'My_Repo' } }),
    "`repository.repositoryName` must be lowercase letters, digits and '.', '_', '-', '/' separators (2 to 256 characters), got \"My_Repo\".",
  ],
  [
    'backup retention in hours',
    () => ({ database: { backupRetention: Duration.hours(36) } }),
    '`database.backupRetention` must be a whole number of days from 1 to 35 (point-in-time recovery needs backups), got 1 day 12 hours.',
  ],
  [
    'backup retention of 0',
    () => ({ database: { backupRetention: Duration.days(0) } }),
    '`database.backupRetention` must be a whole number of days from 1 to 35 (point-in-time recovery needs backups), got 0 days.',
  ],
  [
    'backup retention above 35 days',
    () => ({ database: { backupRetention: Duration.days(40) } }),
    '`database.backupRetention` must be a whole number of days from 1 to 35 (point-in-time recovery needs backups), got 40 days.',
  ],
  [
    'a tag mutability with exclusion filters',
    () => ({ repository: { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' as ecr.TagMutability } }),
    '`repository.imageTagMutability` must be TagMutability.MUTABLE or TagMutability.IMMUTABLE, got IMMUTABLE_WITH_EXCLUSION.',
  ],
  [
    'a PostgreSQL major out of RDS standard support',
    () => ({ database: { engineVersion: rds.PostgresEngineVersion.VER_13_15 } }),
    '`database.engineVersion` must be PostgreSQL 14 or newer, got 13.15: older majors are out of RDS standard support (paid Extended Support) and the app-user bootstrap is tested on 14 and 17.',
  ],
  [
    'storage below 20 GiB',
    () => ({ database: { allocatedStorage: 10 } }),
    '`database.allocatedStorage` must be an integer from 20 to 65536, got 10.',
  ],
  [
    'a storage ceiling below the allocation',
    () => ({ database: { allocatedStorage: 200, maxAllocatedStorage: 100 } }),
    '`database.maxAllocatedStorage` must be >= `database.allocatedStorage`, got 100 < 200.',
  ],
  [
    'an invalid database name',
    () => ({ database: { databaseName: '1app' } }),
    '`database.databaseName` must start with a letter and contain only letters, digits and underscores (at most 63), got "1app".',
  ],
  [
    'a reserved user name',
    () => ({ database: { masterUsername: 'postgres' } }),
    '`database.masterUsername` must not be a reserved name (postgres, rdsadmin, rds_superuser, admin, public, user, root, current_user, session_user, none), got "postgres".',
  ],
  [
    'an app user with a reserved name',
    () => ({ database: { appUsername: 'Public' } }),
    '`database.appUsername` must not be a reserved name (postgres, rdsadmin, rds_superuser, admin, public, user, root, current_user, session_user, none), got "Public".',
  ],
  [
    'an app user in the rds namespace',
    () => ({ database: { appUsername: 'rdsapp' } }),
    '`database.appUsername` must not start with "rds" or "pg_" (RDS and PostgreSQL keep those names), got "rdsapp".',
  ],
  [
    'a master user in the pg_ namespace',
    () => ({ database: { masterUsername: 'pg_owner' } }),
    '`database.masterUsername` must not start with "rds" or "pg_" (RDS and PostgreSQL keep those names), got "pg_owner".',
  ],
  [
    'an app user name that leaves no room for the rotation login',
    () => ({ database: { appUsername: `a${'b'.repeat(57)}` } }),
    `\`database.appUsername\` must start with a letter and contain only letters, digits and underscores, at most 57 (the rotation adds \`_clone\` for its second login), got "a${'b'.repeat(57)}".`,
  ],
  [
    'an app user name that is not an identifier',
    () => ({ database: { appUsername: 'app-user' } }),
    '`database.appUsername` must start with a letter and contain only letters, digits and underscores, at most 57 (the rotation adds `_clone` for its second login), got "app-user".',
  ],
  [
    'an app user that is the master user',
    () => ({ database: { appUsername: 'owner', masterUsername: 'OWNER' } }),
    '`database.appUsername` ("owner") and its rotation login "owner_clone" must differ from `database.masterUsername` ("OWNER"): the app must never hold the master user.',
  ],
  [
    'an app user whose rotation login is the master user',
    () => ({ database: { appUsername: 'owner', masterUsername: 'owner_clone' } }),
    '`database.appUsername` ("owner") and its rotation login "owner_clone" must differ from `database.masterUsername` ("owner_clone"): the app must never hold the master user.',
  ],
  [
    'an app user named like a rotation login',
    () => ({ database: { appUsername: 'orders_clone' } }),
    '`database.appUsername` must not end with "_clone": the rotation names the app\'s second login "<appUsername>_clone", got "orders_clone".',
  ],
  [
    'a rotation schedule under a day',
    () => ({ database: { rotation: CredentialRotation.every(Duration.hours(4)) } }),
    '`database.rotation` must be from 1 day to 1000 days, got 4 hours.',
  ],
  [
    'a rotation schedule of 12 hours',
    () => ({ database: { rotation: CredentialRotation.every(Duration.hours(12)) } }),
    '`database.rotation` must be from 1 day to 1000 days, got 12 hours.',
  ],
];

describe('validation', () => {
  test.each(cases)('refuses %s, naming the construct and the prop', (_name, props, message) => {
    const stack = newStack();
    expect(() => synth(props(stack), stack)).toThrow(`Test/Api: ${message}`);
  });

  test('accepts the oldest PostgreSQL major in standard support (14) and a major given as a token', () => {
    const { template } = synth({ database: { engineVersion: rds.PostgresEngineVersion.VER_14 } });
    template.hasResourceProperties('AWS::RDS::DBInstance', { EngineVersion: '14' });
    const stack = newStack();
    const major = new CfnParameter(stack, 'Major').valueAsString;
    expect(() =>
      synth({ database: { engineVersion: rds.PostgresEngineVersion.of(`${major}.1`, major) } }, stack),
    ).not.toThrow();
  });

  test('the error names which of two services in one stack failed', () => {
    const stack = newStack();
    synth({}, stack);
    expect(
      () =>
        new FargateWebServiceWithDatabase(stack, 'Worker', {
          image: ServiceImage.fromDirectory(FIXTURE_APP),
          scaling: { minCapacity: 0 },
        }),
    ).toThrow(/^Test\/Worker: `scaling.minCapacity`/);
  });

  test.each([
    ['an empty tag', () => ServiceImage.fromRepositoryTag(''), '""'],
    ['an undefined tag', () => ServiceImage.fromRepositoryTag(process.env.UNSET_IMAGE_TAG_FOR_TEST!), 'undefined'],
    ['a tag starting with a dash', () => ServiceImage.fromRepositoryTag('-latest'), '"-latest"'],
    ['a tag with a colon', () => ServiceImage.fromRepositoryTag('v1:2'), '"v1:2"'],
  ])('refuses an image with %s at synth time, naming the construct', (_name, image, got) => {
    const stack = newStack();
    expect(() => synth({ image: image() }, stack)).toThrow(
      `Test/Api: \`image\`: ServiceImage.fromRepositoryTag(tag) needs 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-', got ${got}.`,
    );
  });

  test('refuses the latest tag in prod, and allows it in dev', () => {
    const stack = newStack();
    expect(() =>
      synth({ profile: EnvironmentProfile.PROD, image: ServiceImage.fromRepositoryTag('latest') }, stack),
    ).toThrow(
      'Test/Api: `image`: ServiceImage.fromRepositoryTag("latest") is refused in prod: a moving tag names no build, cannot be rolled back to, and the prod repository\'s tags are immutable. Use a tag that names one build, such as the git commit.',
    );
    expect(() => synth({ image: ServiceImage.fromRepositoryTag('latest') })).not.toThrow();
  });

  test('the connection budget fits the defaults of both profiles and is skipped for unknown classes', () => {
    expect(() => synth({ migrations: { command: ['migrate'] } })).not.toThrow();
    expect(() => synth({ profile: EnvironmentProfile.PROD, migrations: { command: ['migrate'] } })).not.toThrow();
    expect(() =>
      synth({ scaling: { maxCapacity: 1000 }, database: { instanceType: new ec2.InstanceType('m7g.metal') } }),
    ).not.toThrow();
    // Exactly at the limit without rotation: 52 x 2 + 2 + the bootstrap (1) + 5 = 112 (the rotation case above adds 2).
    expect(() =>
      synth({
        scaling: { maxCapacity: 52 },
        container: { databasePoolSize: 2 },
        database: { instanceType: new ec2.InstanceType('t4g.micro') },
        migrations: { command: ['migrate'] },
      }),
    ).not.toThrow();
  });

  test('refuses fromDirectory in prod, pointing to the CI path and the explicit way out', () => {
    const build = () =>
      new FargateWebServiceWithDatabase(newStack(), 'Api', {
        profile: EnvironmentProfile.PROD,
        image: ServiceImage.fromDirectory(FIXTURE_APP),
      });
    expect(build).toThrow(
      "Test/Api: `image`: ServiceImage.fromDirectory() is refused in prod: the CDK CLI would push the image to the CDK bootstrap repository, which neither scans it nor keeps its tags immutable. Build and push it to the construct's repository in CI and use ServiceImage.fromRepositoryTag(tag); to run a locally built image anyway, say so with ServiceImage.fromContainerImage(ecs.ContainerImage.fromAsset(directory)).",
    );
  });

  test('refuses an image directory that is empty', () => {
    const stack = newStack();
    expect(() => synth({ image: ServiceImage.fromDirectory(' ') }, stack)).toThrow(
      'Test/Api: `image`: ServiceImage.fromDirectory(directory) needs a directory that holds a Dockerfile, got " ".',
    );
  });

  test('refuses a stack without an image', () => {
    const stack = newStack();
    expect(() => synth({ image: undefined as any }, stack)).toThrow(
      '`image` is required: use ServiceImage.fromDirectory(), ServiceImage.fromRepositoryTag() or ServiceImage.fromContainerImage().',
    );
  });

  test('values that are tokens are left for deploy time, and reach the properties they set', () => {
    const stack = newStack();
    for (const name of ['Capacity', 'Port', 'Path', 'Name']) new CfnParameter(stack, name, { type: 'String' });
    const capacity = Token.asNumber({ Ref: 'Capacity' });
    const { template } = synth(
      {
        scaling: { minCapacity: capacity, maxCapacity: capacity },
        container: { port: Token.asNumber({ Ref: 'Port' }) },
        loadBalancer: { healthCheck: { path: Token.asString({ Ref: 'Path' }) } },
        database: { databaseName: Token.asString({ Ref: 'Name' }) },
      },
      stack,
    );
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: { Ref: 'Capacity' },
      MaxCapacity: { Ref: 'Capacity' },
    });
    const [container] = Object.values<any>(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties
      .ContainerDefinitions;
    expect(container.PortMappings[0].ContainerPort).toEqual({ Ref: 'Port' });
    expect(container.Environment).toContainEqual({ Name: 'PORT', Value: { Ref: 'Port' } });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: { Ref: 'Port' },
      HealthCheckPath: { Ref: 'Path' },
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBName: { Ref: 'Name' } });
  });

  test('a failed validation leaves nothing half-built in the stack', () => {
    const stack = newStack();
    expect(() => synth({ scaling: { minCapacity: 0 } }, stack)).toThrow();
    const api = stack.node.tryFindChild('Api');
    expect(api?.node.children ?? []).toHaveLength(0);
  });
});
