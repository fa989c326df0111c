import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { POLICY_DIR, runGuardRules } from '../../tools/policy-harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function templateFile(name: string, resources: Record<string, unknown>): string {
  const file = path.join(tmp, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ Resources: resources }));
  return file;
}

function failures(rule: string, resources: Record<string, unknown>): string[] {
  const report = runGuardRules(
    [path.join(POLICY_DIR, `${rule}.guard`)],
    [templateFile(`${rule}-${Math.random()}`, resources)],
  );
  return [...new Set(report.violations.map((v) => v.ruleName))];
}

const db = (props: object, tags: object[] = []) => ({
  Type: 'AWS::RDS::DBInstance',
  Properties: {
    Engine: 'postgres',
    PubliclyAccessible: false,
    StorageEncrypted: true,
    KmsKeyId: 'k',
    Tags: tags,
    ...props,
  },
});
const subnet = (type: string) => ({
  Type: 'AWS::EC2::Subnet',
  Properties: { Tags: [{ Key: 'aws-cdk:subnet-type', Value: type }] },
});
const container = (environment: object[]) => ({
  Type: 'AWS::ECS::TaskDefinition',
  Properties: { ContainerDefinitions: [{ Name: 'App', Environment: environment }] },
});
const listener = (protocol: string, action: object) => ({
  Type: 'AWS::ElasticLoadBalancingV2::Listener',
  Properties: { Protocol: protocol, DefaultActions: [action] },
});
const redirect = { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443' } };
const forward = { Type: 'forward', TargetGroupArn: 'tg' };
const prodTag = [{ Key: 'fargate-web-service:profile', Value: 'prod' }];

const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['rds_not_publicly_accessible', { Db: db({}) }, { Db: db({ PubliclyAccessible: true }) }],
  [
    'rds_in_isolated_subnets',
    {
      A: subnet('Isolated'),
      B: subnet('Isolated'),
      G: { Type: 'AWS::RDS::DBSubnetGroup', Properties: { SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] } },
    },
    {
      A: subnet('Isolated'),
      B: subnet('Private'),
      G: { Type: 'AWS::RDS::DBSubnetGroup', Properties: { SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] } },
    },
  ],
  ['rds_storage_encrypted', { Db: db({}) }, { Db: db({ StorageEncrypted: false }) }],
  [
    'rds_deletion_protection_in_prod',
    { Db: db({ DeletionProtection: true }, prodTag) },
    { Db: db({ DeletionProtection: false }, prodTag) },
  ],
  [
    'ecs_no_plaintext_secrets',
    { T: container([{ Name: 'PORT', Value: '3000' }]) },
    {
      T: container([
        { Name: 'PORT', Value: '3000' },
        { Name: 'DB_PASSWORD', Value: 'hunter2' },
      ]),
    },
  ],
  [
    'ecs_circuit_breaker',
    {
      S: {
        Type: 'AWS::ECS::Service',
        Properties: { DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true } } },
      },
    },
    {
      S: {
        Type: 'AWS::ECS::Service',
        Properties: { DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: false } } },
      },
    },
  ],
  [
    'alb_http_redirects_to_https',
    { Https: listener('HTTPS', forward), Http: listener('HTTP', redirect) },
    { Https: listener('HTTPS', forward), Http: listener('HTTP', forward) },
  ],
  [
    'ecr_scan_and_lifecycle',
    {
      R: {
        Type: 'AWS::ECR::Repository',
        Properties: {
          ImageScanningConfiguration: { ScanOnPush: true },
          LifecyclePolicy: { LifecyclePolicyText: '{}' },
        },
      },
    },
    { R: { Type: 'AWS::ECR::Repository', Properties: { ImageScanningConfiguration: { ScanOnPush: true } } } },
  ],
  [
    'log_group_retention',
    { L: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } } },
    { L: { Type: 'AWS::Logs::LogGroup', Properties: {} } },
  ],
];

describe('library guard rules', () => {
  test('every rule file in policy/ has a case here', () => {
    const files = fs
      .readdirSync(POLICY_DIR)
      .filter((f) => f.endsWith('.guard'))
      .map((f) => f.replace(/\.guard$/, ''));
    expect(files.sort()).toEqual(cases.map(([rule]) => rule).sort());
  });

  test.each(cases)('%s passes a compliant template and fails a non-compliant one', (rule, passing, failing) => {
    expect(failures(rule, passing)).toEqual([]);
    expect(failures(rule, failing)).toEqual([rule]);
  });

  const cluster = (props: object, tags: object[] = []) => ({
    Type: 'AWS::RDS::DBCluster',
    Properties: { Engine: 'aurora-postgresql', StorageEncrypted: true, KmsKeyId: 'k', Tags: tags, ...props },
  });
  // Aurora's member instances carry neither storage nor deletion protection: the cluster does.
  const member = db(
    {
      Engine: 'aurora-postgresql',
      DBClusterIdentifier: { Ref: 'C' },
      StorageEncrypted: undefined,
      KmsKeyId: undefined,
    },
    prodTag,
  );

  test.each([
    ['rds_storage_encrypted', { C: cluster({}), M: member }, { C: cluster({ StorageEncrypted: false }), M: member }],
    ['rds_storage_encrypted', { C: cluster({}), M: member }, { C: cluster({ KmsKeyId: undefined }), M: member }],
    [
      'rds_deletion_protection_in_prod',
      { C: cluster({ DeletionProtection: true }, prodTag), M: member },
      { C: cluster({ DeletionProtection: false }, prodTag), M: member },
    ],
  ])('%s judges an Aurora cluster, not its member instances', (rule, passing, failing) => {
    expect(failures(rule, JSON.parse(JSON.stringify(passing)))).toEqual([]);
    expect(failures(rule, JSON.parse(JSON.stringify(failing)))).toEqual([rule]);
  });

  test('rds_deletion_protection_in_prod leaves dev databases alone', () => {
    expect(
      failures('rds_deletion_protection_in_prod', {
        Db: db({ DeletionProtection: false }, [{ Key: 'fargate-web-service:profile', Value: 'dev' }]),
      }),
    ).toEqual([]);
  });

  test('alb_http_redirects_to_https allows plain HTTP when there is no HTTPS listener', () => {
    expect(failures('alb_http_redirects_to_https', { Http: listener('HTTP', forward) })).toEqual([]);
  });
});

describe('bad input to the guard runner', () => {
  test('a template path that does not exist is a clear error', () => {
    expect(() => runGuardRules([POLICY_DIR], [path.join(tmp, 'missing.json')])).toThrow(
      `template not found: ${path.join(tmp, 'missing.json')}`,
    );
  });

  test('a rule file that does not parse is a clear error naming the file', () => {
    const broken = path.join(tmp, 'broken.guard');
    fs.writeFileSync(broken, 'rule broken {\n  Resources.*.Type == \n');
    expect(() => runGuardRules([broken], [templateFile('any', {})])).toThrow(
      `guard rule file does not parse: ${broken}`,
    );
  });

  test('a rules path that does not exist is a clear error', () => {
    expect(() => runGuardRules([path.join(tmp, 'nope')], [templateFile('any2', {})])).toThrow(
      `guard rules not found: ${path.join(tmp, 'nope')}`,
    );
  });
});
