import * as fs from 'fs';
import * as path from 'path';
import { App, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CredentialRotation, RdsProxy } from '../src';
import { BOOTSTRAP_CALLS } from '../src/database/app-user/bootstrap.calls';
import { REDEPLOY_CALLS } from '../src/database/app-user/redeploy.calls';
import { FunctionCalls } from '../src/internal/aws-calls';
import { PRODUCTION_TRAFFIC_CALLS } from '../src/load-balancer/production-traffic.calls';
import { GATE_STARTER_CALLS, GATE_WAITER_CALLS } from '../src/migration-gate/gate.calls';
import { decide, decideCalls, TemplateResolver } from '../tools/iam-simulation';
import { scenario } from '../tools/policy-scenarios';

/**
 * The deploy-time functions' AWS calls, each listed beside its function (`*.calls.ts`), evaluated against the
 * synthesized template's own IAM with @cloud-copilot/iam-simulate: identity policies, the secrets' resource policies
 * and the KMS key policies, with ARNs resolved as CloudFormation would. The calls that must never be allowed (the
 * task and execution roles reading the master secret, the app changing its own service) are proven denied.
 */

const synthesized = (s: ReturnType<typeof scenario>) =>
  (s.stack.node.root as App).synth().getStackByName(s.stack.stackName).template;

// prod with HTTPS, the migration gate, a canary rollout and rotation: every deploy-time function the construct has.
const TEMPLATE = synthesized(scenario('prod-https-canary'));
// dev (no NAT: the functions reach AWS through endpoints) with rotation and the gate turned on.
const DEV_TEMPLATE = synthesized(
  scenario('dev', {
    database: { rotation: CredentialRotation.every(Duration.days(30)) },
    migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
  }),
);
// prod with the gate, a canary and RDS Proxy (end-to-end IAM): no app secret, no redeploy after rotation.
const PROXY_TEMPLATE = synthesized(scenario('prod-https-canary', { database: { proxy: RdsProxy.iamAuthenticated() } }));
// prod with Aurora provisioned and a reader, the gate and rotation: the secrets are attached to the cluster.
const AURORA_TEMPLATE = synthesized(
  scenario('prod-https-aurora', { migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] } }),
);
const copy = () => JSON.parse(JSON.stringify(TEMPLATE));

const SPECS: FunctionCalls[] = [
  BOOTSTRAP_CALLS,
  REDEPLOY_CALLS,
  GATE_STARTER_CALLS,
  GATE_WAITER_CALLS,
  PRODUCTION_TRAFFIC_CALLS,
];

describe('every AWS call of every deploy-time function is allowed by the template it is deployed with', () => {
  const cases = [
    ...SPECS.map((s) => ['prod-https-canary', s.functionId, TEMPLATE, s] as const),
    // dev has no production-traffic reader (rolling updates).
    ...SPECS.filter((s) => s !== PRODUCTION_TRAFFIC_CALLS).map((s) => ['dev', s.functionId, DEV_TEMPLATE, s] as const),
    // Behind the proxy the app has no password: no redeploy after rotation.
    ...SPECS.filter((s) => s !== REDEPLOY_CALLS).map((s) => ['prod-proxy', s.functionId, PROXY_TEMPLATE, s] as const),
    // Aurora: rolling updates, so no production-traffic reader.
    ...SPECS.filter((s) => s !== PRODUCTION_TRAFFIC_CALLS).map(
      (s) => ['prod-aurora', s.functionId, AURORA_TEMPLATE, s] as const,
    ),
  ];
  test.each(cases)('%s: %s', async (scenarioName, _id, template, spec) => {
    const { decisions } = await decideCalls(new TemplateResolver(template), spec);
    expect(decisions.map((d) => `${d.call.action} ${d.resource} ${d.decision}`)).toEqual(
      decisions.map((d) => `${d.call.action} ${d.resource} Allowed`),
    );
    // Behind the proxy the bootstrap reads no app secret (its two calls on it are skipped).
    const skipped = scenarioName === 'prod-proxy' ? spec.calls.filter((c) => c.onlyWithProperty).length : 0;
    expect(skipped).toBe(scenarioName === 'prod-proxy' && spec === BOOTSTRAP_CALLS ? 2 : 0);
    expect(decisions.length).toBe(spec.calls.length - skipped);
  });
});

describe('behind RDS Proxy, IAM database authentication is allowed for the app user only, on the right leg', () => {
  const resolver = new TemplateResolver(PROXY_TEMPLATE);
  const taskDefinition = resolver.ofType('AWS::ECS::TaskDefinition')[0];
  const taskRole = resolver.target(resolver.resource(taskDefinition).Properties.TaskRoleArn);
  const executionRole = resolver.target(resolver.resource(taskDefinition).Properties.ExecutionRoleArn);
  const proxy = resolver.ofType('AWS::RDS::DBProxy')[0];
  const proxyRole = resolver.target(resolver.resource(proxy).Properties.RoleArn);
  const instance = resolver.ofType('AWS::RDS::DBInstance')[0];
  const masterSecretId = resolver.target(
    resolver.resource(resolver.ofType('Custom::AppDatabaseUser')[0]).Properties.MasterSecretArn,
  );
  // The master login, as the master secret's template names it.
  const master: string = JSON.parse(
    resolver.resource(masterSecretId).Properties.GenerateSecretString.SecretStringTemplate,
  ).username;
  // rds-db ARNs: the proxy's resource id (prx-...) for the client leg, the instance's DbiResourceId for the proxy's.
  const viaProxy = (login: string) =>
    `arn:aws:rds-db:us-east-1:123456789012:dbuser:${resolver.getAtt(proxy, 'DBProxyArn').split(':').pop()}/${login}`;
  const direct = (login: string) =>
    `arn:aws:rds-db:us-east-1:123456789012:dbuser:${resolver.getAtt(instance, 'DbiResourceId')}/${login}`;
  const masterSecret = resolver.value(
    resolver.resource(resolver.ofType('Custom::AppDatabaseUser')[0]).Properties.MasterSecretArn,
  );

  test.each([
    [
      'the task role connects to the proxy as the app user',
      taskRole,
      'rds-db:connect',
      viaProxy('app_user'),
      'Allowed',
    ],
    ['the proxy connects to the instance as the app user', proxyRole, 'rds-db:connect', direct('app_user'), 'Allowed'],
    ['the task role may not connect to the proxy as the master', taskRole, 'rds-db:connect', viaProxy(master), 'no'],
    ['the task role may not bypass the proxy', taskRole, 'rds-db:connect', direct('app_user'), 'no'],
    ['the execution role may not connect at all', executionRole, 'rds-db:connect', viaProxy('app_user'), 'no'],
    ['the proxy may not connect as the master', proxyRole, 'rds-db:connect', direct(master), 'no'],
    ['the proxy may not read the master secret', proxyRole, 'secretsmanager:GetSecretValue', masterSecret, 'no'],
    ['the task role may not read the master secret', taskRole, 'secretsmanager:GetSecretValue', masterSecret, 'no'],
  ])('%s', async (_title, role, action, resource, expected) => {
    const decision = await decide(resolver, role, action, resource);
    if (expected === 'Allowed') expect(decision).toBe('Allowed');
    else expect(decision).not.toBe('Allowed');
  });

  test('the master login the deny checks use is a real one, not the app user', () => {
    expect(master).toMatch(/^[a-z_]+$/);
    expect(master).not.toBe('app_user');
  });
});

/** The SDK package each client comes from, and the IAM service prefix its commands are authorized under. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
};
/** SDK commands whose IAM action has another name. */
const ACTION_OF_COMMAND: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

/** The IAM actions of the `new XxxCommand(...)` calls in a source file, from the packages its commands come from. */
function actionsIn(file: string): string[] {
  const source = fs.readFileSync(path.join(__dirname, '..', 'src', file), 'utf8');
  const serviceOfCommand = new Map<string, string>();
  for (const m of source.matchAll(/import\s*\{([^}]+)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
    const service = SERVICE_OF_PACKAGE[m[2]];
    if (!service) throw new Error(`${file}: ${m[2]} has no IAM service prefix here`);
    for (const name of m[1].split(',').map((n) => n.trim())) serviceOfCommand.set(name, service);
  }
  return [...source.matchAll(/new (\w+)Command\(/g)].map((m) => {
    const service = serviceOfCommand.get(`${m[1]}Command`);
    if (!service) throw new Error(`${file}: ${m[1]}Command is not imported from an @aws-sdk client`);
    const action = `${service}:${m[1]}`;
    return ACTION_OF_COMMAND[action] ?? action;
  });
}

/** The actions a function's sources make that its lists leave out. */
function unlisted(specs: readonly FunctionCalls[]): string[] {
  const sources = [...new Set(specs.flatMap((s) => s.sources))];
  const listed = new Set(specs.flatMap((s) => s.calls.map((c) => c.action)));
  return [...new Set(sources.flatMap(actionsIn))].filter((a) => !listed.has(a));
}

describe('the lists are complete: every SDK command in a function’s source is a listed call', () => {
  test.each([
    ['app-user bootstrap', [BOOTSTRAP_CALLS]],
    ['redeploy', [REDEPLOY_CALLS]],
    ['migration gate (starter and waiter)', [GATE_STARTER_CALLS, GATE_WAITER_CALLS]],
    ['production traffic', [PRODUCTION_TRAFFIC_CALLS]],
  ] as const)('%s', (_name, specs) => {
    expect(specs.flatMap((s) => s.sources).length).toBeGreaterThan(0);
    expect(unlisted(specs)).toEqual([]);
  });

  test('a call left out of a list is found in the source and named', () => {
    const partial = { ...REDEPLOY_CALLS, calls: REDEPLOY_CALLS.calls.filter((c) => c.action !== 'ecs:UpdateService') };
    expect(unlisted([partial])).toEqual(['ecs:UpdateService']);
  });
});

describe('the calls that must never be allowed are denied', () => {
  const resolver = new TemplateResolver(TEMPLATE);
  const taskDefinition = resolver.ofType('AWS::ECS::TaskDefinition')[0];
  const taskRole = resolver.target(resolver.resource(taskDefinition).Properties.TaskRoleArn);
  const executionRole = resolver.target(resolver.resource(taskDefinition).Properties.ExecutionRoleArn);
  const appUser = resolver.resource(resolver.ofType('Custom::AppDatabaseUser')[0]).Properties;
  const masterSecret = resolver.value(appUser.MasterSecretArn);
  const appSecret = resolver.value(appUser.AppSecretArn);
  const service = resolver.ref(resolver.ofType('AWS::ECS::Service')[0]);

  test.each([
    ['the task role', taskRole, 'secretsmanager:GetSecretValue', masterSecret],
    ['the execution role', executionRole, 'secretsmanager:GetSecretValue', masterSecret],
    ['the task role', taskRole, 'secretsmanager:GetSecretValue', appSecret],
    ['the task role', taskRole, 'ecs:UpdateService', service],
    ['the execution role', executionRole, 'ecs:UpdateService', service],
  ])('%s (%s) may not %s on %s', async (_who, role, action, resource) => {
    expect(await decide(resolver, role, action, resource)).not.toBe('Allowed');
  });

  test('while the execution role reads the app secret, to inject it into the container (the control)', async () => {
    expect(await decide(resolver, executionRole, 'secretsmanager:GetSecretValue', appSecret)).toBe('Allowed');
  });
});

describe('the simulation fails on injected defects', () => {
  test('a missing permission: the bootstrap without its statement on the master secret is denied', async () => {
    const tampered = copy();
    const resolver = new TemplateResolver(tampered);
    const masterRef = JSON.stringify(
      resolver.resource(resolver.ofType('Custom::AppDatabaseUser')[0]).Properties.MasterSecretArn,
    );
    for (const id of resolver.ofType('AWS::IAM::Policy')) {
      const doc = tampered.Resources[id].Properties.PolicyDocument;
      doc.Statement = doc.Statement.filter((s: any) => JSON.stringify(s.Resource) !== masterRef);
    }
    const { decisions } = await decideCalls(resolver, BOOTSTRAP_CALLS);
    expect(decisions.filter((d) => d.decision !== 'Allowed').map((d) => d.call.action)).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
  });

  test('a policy granting the task role the master secret is caught by the deny check', async () => {
    const tampered = copy();
    const resolver = new TemplateResolver(tampered);
    const taskDefinition = resolver.ofType('AWS::ECS::TaskDefinition')[0];
    const taskRole = resolver.target(tampered.Resources[taskDefinition].Properties.TaskRoleArn);
    const masterRef = resolver.resource(resolver.ofType('Custom::AppDatabaseUser')[0]).Properties.MasterSecretArn;
    tampered.Resources.Injected = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'injected',
        Roles: [{ Ref: taskRole }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: masterRef }],
        },
      },
    };
    expect(await decide(resolver, taskRole, 'secretsmanager:GetSecretValue', resolver.value(masterRef))).toBe(
      'Allowed',
    );
  });

  test('a key policy without the bootstrap denies the decryption of the secrets', async () => {
    const tampered = copy();
    const resolver = new TemplateResolver(tampered);
    const bootstrapRole = resolver.target(
      resolver.resource(resolver.byConstructId('AppUserBootstrap', 'AWS::Lambda::Function')).Properties.Role,
    );
    for (const id of resolver.ofType('AWS::KMS::Key')) {
      const policy = tampered.Resources[id].Properties.KeyPolicy;
      policy.Statement = policy.Statement.filter(
        (s: any) => JSON.stringify(s.Principal?.AWS) !== JSON.stringify({ 'Fn::GetAtt': [bootstrapRole, 'Arn'] }),
      );
    }
    const { decisions } = await decideCalls(resolver, BOOTSTRAP_CALLS);
    expect(decisions.filter((d) => d.decision !== 'Allowed').map((d) => d.call.action)).toEqual([
      'kms:Decrypt',
      'kms:Decrypt',
    ]);
  });

  test('an action AWS does not have is an error, not a denial', async () => {
    const resolver = new TemplateResolver(TEMPLATE);
    const role = resolver.ofType('AWS::IAM::Role')[0];
    await expect(decide(resolver, role, 'secretsmanager:GetSecretValues', '*')).rejects.toThrow(/refused the request/);
  });
});

describe('grantConnect, simulated: IAM database authentication for the one login it names', () => {
  test('the grantee may connect as that login to this instance, and not as the app user', async () => {
    const s = scenario('dev');
    const role = new iam.Role(s.stack, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
    s.construct.grantConnect(role, 'reporting');
    const resolver = new TemplateResolver(synthesized(s));
    const roleId = resolver.byConstructId('Reporting', 'AWS::IAM::Role');
    const instance = resolver.ofType('AWS::RDS::DBInstance')[0];
    const dbuser = (login: string) =>
      `arn:aws:rds-db:us-east-1:123456789012:dbuser:${resolver.getAtt(instance, 'DbiResourceId')}/${login}`;
    expect(await decide(resolver, roleId, 'rds-db:connect', dbuser('reporting'))).toBe('Allowed');
    expect(await decide(resolver, roleId, 'rds-db:connect', dbuser('app_user'))).not.toBe('Allowed');
    expect(await decide(resolver, roleId, 'rds-db:connect', dbuser('app_admin'))).not.toBe('Allowed');
  });
});
