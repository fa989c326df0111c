import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  Deployment,
  DeploymentRolloutState,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { planBuildAndPush } from '../ops/build-and-push';
import { Io, main } from '../ops/cli';
import { parseSince } from '../ops/logs';

const cfn = mockClient(CloudFormationClient);
const ecs = mockClient(ECSClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const rds = mockClient(RDSClient);
const logs = mockClient(CloudWatchLogsClient);
const ecr = mockClient(ECRClient);

const OUTPUTS = {
  ApiServiceUrlFCE1DF7C: 'http://api-123.us-east-1.elb.amazonaws.com',
  ApiClusterNameFFA80E9D: 'UsersApi-dev-ApiCluster',
  ApiServiceName4BB4223C: 'UsersApi-dev-ApiService',
  ApiRepositoryUri20B12BB9: '123456789012.dkr.ecr.us-east-1.amazonaws.com/usersapi-dev',
  ApiLogGroupName73BE00E2: 'UsersApi-dev-ApiLogGroup',
  ApiDatabaseInstanceId11111111: 'usersapi-dev-db',
};
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/abc';

function fakeIo() {
  const io = {
    stdout: [] as string[],
    stderr: [] as string[],
    commands: [] as { command: string[]; input?: string; cwd?: string }[],
    sleeps: 0,
    infraInstalled: true,
    exists: (file: string) => io.infraInstalled && file.endsWith('infra/node_modules'),
    out: (t: string) => io.stdout.push(t),
    err: (t: string) => io.stderr.push(t),
    run: (command: string[], options: { cwd?: string; input?: string } = {}) => {
      io.commands.push({ command, ...options });
      return 0;
    },
    sleep: async (_ms: number) => {
      io.sleeps++;
    },
    clients: () => ({
      cloudFormation: new CloudFormationClient({ region: 'us-east-1' }),
      ecs: new ECSClient({ region: 'us-east-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      rds: new RDSClient({ region: 'us-east-1' }),
      logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
      ecr: new ECRClient({ region: 'us-east-1' }),
    }),
  };
  return io as typeof io & Io;
}

function deployedStack() {
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'UsersApi-dev',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        status: 'ACTIVE',
        desiredCount: 2,
        runningCount: 1,
        pendingCount: 1,
        taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:8',
        loadBalancers: [{ targetGroupArn: TG }],
        deployments: [
          {
            status: 'PRIMARY',
            rolloutState: 'IN_PROGRESS',
            taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:8',
            runningCount: 1,
            desiredCount: 2,
          },
          {
            status: 'ACTIVE',
            rolloutState: 'COMPLETED',
            taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:7',
            runningCount: 0,
            desiredCount: 0,
          },
        ],
      },
    ],
  });
  elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: TG }).resolves({
    TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }, { TargetHealth: { State: 'initial' } }],
  });
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'usersapi-dev-db' }).resolves({
    DBInstances: [
      { DBInstanceStatus: 'available', MultiAZ: false, DBInstanceClass: 'db.t4g.micro', EngineVersion: '17.6' },
    ],
  });
}

beforeEach(() => {
  for (const m of [cfn, ecs, elbv2, rds, logs, ecr]) m.reset();
});

describe('ops status', () => {
  test('prints tasks, rollouts, target health, database and URL of the deployed stack', async () => {
    deployedStack();
    const io = fakeIo();
    expect(await main(['status'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('url          http://api-123.us-east-1.elb.amazonaws.com');
    expect(text).toContain('service      ACTIVE: 1 running, 1 pending, 2 desired');
    expect(text).toContain('deployment   PRIMARY IN_PROGRESS api:8 (1/2 running)');
    expect(text).toContain('deployment   ACTIVE COMPLETED api:7 (0/0 running)');
    expect(text).toContain('targets      1 healthy, 1 initial');
    expect(text).toContain('database     available db.t4g.micro PostgreSQL 17.6');
    expect(cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'UsersApi-dev' });
  });

  test('a stack that is not deployed gives a clear error and exit 1', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id UsersApi-prod does not exist'), { name: 'ValidationError' }));
    const io = fakeIo();
    expect(await main(['status', '--profile', 'prod'], io)).toBe(1);
    expect(io.stderr.join('')).toBe(
      'Stack UsersApi-prod is not deployed in this account and region. Deploy it first: npm run ops -- deploy --profile <dev|prod>.',
    );
  });

  test('missing credentials give a clear error and exit 1', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    const io = fakeIo();
    expect(await main(['status'], io)).toBe(1);
    expect(io.stderr.join('')).toMatch(/^No AWS credentials found\. Set AWS_PROFILE/);
  });

  test('live refreshes the status a bounded number of times', async () => {
    deployedStack();
    const io = fakeIo();
    expect(await main(['live', '--interval', '1', '--count', '3'], io)).toBe(0);
    expect(io.stdout).toHaveLength(3);
    expect(io.sleeps).toBe(2);
    expect(io.stdout[2]).toContain('refresh 3/3 every 1s');
  });
});

describe('ops logs', () => {
  test('reads every page of the service log group since the given time, with the filter', async () => {
    deployedStack();
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [{ timestamp: 2000, logStreamName: 'app/App/abc', message: '{"msg":"second"}\n' }],
        nextToken: 'n1',
      })
      .resolvesOnce({ events: [{ timestamp: 1000, logStreamName: 'app/App/abc', message: '{"msg":"first"}' }] });
    const io = fakeIo();
    expect(await main(['logs', '--since', '1h', '--filter', 'msg'], io)).toBe(0);
    expect(io.stdout).toEqual([
      '1970-01-01T00:00:01.000Z abc {"msg":"first"}',
      '1970-01-01T00:00:02.000Z abc {"msg":"second"}',
    ]);
    const first = logs.commandCalls(FilterLogEventsCommand)[0].args[0].input;
    expect(first).toMatchObject({ logGroupName: 'UsersApi-dev-ApiLogGroup', filterPattern: 'msg' });
    expect(Date.now() - first.startTime!).toBeGreaterThanOrEqual(3_600_000);
    expect(logs.commandCalls(FilterLogEventsCommand)[1].args[0].input.nextToken).toBe('n1');
  });

  test.each(['abc', '0m', '15', '5 minutes'])('--since %j is refused naming the option', async (since) => {
    deployedStack();
    const io = fakeIo();
    expect(await main(['logs', '--since', since], io)).toBe(1);
    expect(io.stderr.join('')).toContain(
      `--since must be a positive number with a unit s, m, h or d (for example 15m or 2h), got "${since}".`,
    );
  });

  test('parseSince understands s, m, h and d', () => {
    expect(parseSince('30s', 100_000)).toBe(70_000);
    expect(parseSince('2h', 10_000_000)).toBe(10_000_000 - 7_200_000);
    expect(parseSince('1d', 100_000_000)).toBe(100_000_000 - 86_400_000);
  });
});

describe('ops build-and-push', () => {
  test('builds for the task architecture, logs in to the registry, pushes the tag, and says how to deploy it', async () => {
    deployedStack();
    ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: { runtimePlatform: { cpuArchitecture: 'ARM64' } } });
    ecr
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:secret-token').toString('base64') }] });
    const io = fakeIo();
    expect(await main(['build-and-push', '--tag', 'abc123'], io)).toBe(0);
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/usersapi-dev:abc123';
    expect(io.commands.map((c) => c.command)).toEqual([
      ['docker', 'login', '--username', 'AWS', '--password-stdin', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
      ['docker', 'build', '--platform', 'linux/arm64', '--tag', image, expect.stringMatching(/sample-app$/)],
      ['docker', 'push', image],
    ]);
    expect(io.commands[0].input).toBe('secret-token');
    expect(io.stdout.join('\n')).toContain('npm run ops -- deploy-app --profile dev --tag abc123');
  });

  test('a failed docker step stops the command with its exit code', async () => {
    deployedStack();
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: {} });
    ecr
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:t').toString('base64') }] });
    const io = fakeIo();
    io.run = (command: string[]) => (command[1] === 'build' ? 17 : 0);
    expect(await main(['build-and-push', '--tag', 'x1'], io)).toBe(17);
    expect(io.stderr.join('')).toBe('docker build failed with exit code 17');
  });

  test('the plan defaults to linux/amd64 and refuses a malformed tag', () => {
    expect(planBuildAndPush('r.example/app', 'X86_64', 'v1', '.').platform).toBe('linux/amd64');
    expect(() => planBuildAndPush('r.example/app', 'X86_64', '-bad', '.')).toThrow(
      `--tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-', got "-bad".`,
    );
  });
});

describe('ops CLI', () => {
  test.each(['deploy', 'destroy', 'build-and-push', 'deploy-app', 'watch', 'status', 'live', 'logs'])(
    '%s --help prints its usage and exits 0',
    async (command) => {
      const io = fakeIo();
      expect(await main([command, '--help'], io)).toBe(0);
      expect(io.stdout.join('')).toContain(`usage: npm run ops -- ${command}`);
      expect(io.commands).toEqual([]);
    },
  );

  test('an unknown command or option exits 2 with the usage', async () => {
    const io = fakeIo();
    expect(await main(['explode'], io)).toBe(2);
    expect(io.stderr.join('')).toContain('unknown command "explode"');
    expect(await main(['status', '--bogus'], io)).toBe(2);
    expect(await main(['status', '--profile', 'staging'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--profile must be dev or prod, got "staging"');
  });

  test('deploy, destroy and deploy-app run cdk for the selected stack in sample-app/infra', async () => {
    deployedStack();
    serviceSequence([deployment('new', 'PRIMARY', DeploymentRolloutState.COMPLETED, 2, 2, 8)]);
    const io = fakeIo();
    expect(await main(['deploy', '--profile', 'prod'], io)).toBe(0);
    expect(await main(['destroy'], io)).toBe(0);
    expect(await main(['deploy-app', '--tag', 'abc123'], io)).toBe(0);
    expect(io.commands.map((c) => c.command)).toEqual([
      ['npx', 'cdk', 'deploy', '-c', 'profile=prod', 'UsersApi-prod'],
      ['npx', 'cdk', 'destroy', '-c', 'profile=dev', 'UsersApi-dev'],
      ['npx', 'cdk', 'deploy', '-c', 'profile=dev', '-c', 'imageTag=abc123', 'UsersApi-dev'],
    ]);
    expect(io.commands.every((c) => /sample-app\/infra$/.test(c.cwd!))).toBe(true);
  });

  test('deploy without the infra app installed says how to install it', async () => {
    const io = fakeIo();
    io.infraInstalled = false;
    expect(await main(['deploy'], io)).toBe(1);
    expect(io.stderr.join('')).toBe(
      'sample-app/infra is not installed: run `npx projen pack-library` at the repository root, then `npm install` in sample-app/infra.',
    );
  });
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60000);

function deployment(
  id: string,
  status: string,
  rolloutState: DeploymentRolloutState,
  running: number,
  desired: number,
  revision: number,
  reason?: string,
): Deployment {
  return {
    id,
    status,
    rolloutState,
    rolloutStateReason: reason,
    runningCount: running,
    desiredCount: desired,
    pendingCount: desired - running,
    failedTasks: 0,
    createdAt: id === 'new' ? minutesAgo(1) : minutesAgo(60),
    taskDefinition: `arn:aws:ecs:us-east-1:123456789012:task-definition/api:${revision}`,
  };
}

/** DescribeServices answers these deployment lists one after the other (the last one from then on). */
function serviceSequence(...looks: Deployment[][]) {
  let call = ecs.on(DescribeServicesCommand);
  looks.forEach((deployments, i) => {
    const answer = {
      services: [
        {
          loadBalancers: [{ targetGroupArn: TG }],
          deployments,
          events: [{ id: `e${i}`, createdAt: new Date(Date.now() + 60000), message: `(service api) look ${i + 1}` }],
        },
      ],
    };
    call = i === looks.length - 1 ? (call.resolves(answer) as any) : (call.resolvesOnce(answer) as any);
  });
  elbv2
    .on(DescribeTargetHealthCommand)
    .resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] });
}

describe('ops watch: follows one deployment to its end', () => {
  test('a rollout that completes exits 0 and says so', async () => {
    deployedStack();
    serviceSequence(
      [
        deployment('new', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 0, 2, 8),
        deployment('old', 'ACTIVE', DeploymentRolloutState.COMPLETED, 2, 2, 7),
      ],
      [
        deployment('new', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 2, 2, 8),
        deployment('old', 'ACTIVE', DeploymentRolloutState.COMPLETED, 0, 0, 7),
      ],
      [deployment('new', 'PRIMARY', DeploymentRolloutState.COMPLETED, 2, 2, 8)],
    );
    const io = fakeIo();
    expect(await main(['watch'], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain('IN_PROGRESS: 0/2 running, 2 pending, 0 failed; targets 1 healthy');
    expect(out).toMatch(/event \S+ \(service api\) look 1\n.*\n {2}event \S+ \(service api\) look 2/);
    expect(out).toContain('deployment new completed: api:8 runs 2/2 tasks.');
    expect(io.sleeps).toBe(2);
  });

  test("a rollout the circuit breaker stops exits 1 with ECS's reason and the version it went back to", async () => {
    deployedStack();
    serviceSequence(
      [
        deployment('new', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 0, 2, 8),
        deployment('old', 'ACTIVE', DeploymentRolloutState.COMPLETED, 2, 2, 7),
      ],
      [
        deployment(
          'new',
          'ACTIVE',
          DeploymentRolloutState.FAILED,
          0,
          0,
          8,
          'ECS deployment circuit breaker: tasks failed to start.',
        ),
        deployment('old', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 2, 2, 7),
      ],
    );
    const io = fakeIo();
    expect(await main(['watch'], io)).toBe(1);
    expect(io.stderr.join('\n')).toBe(
      'deployment new rolled back: ECS deployment circuit breaker: tasks failed to start. ECS rolled back to api:7.',
    );
  });

  test('a rollout replaced by the previous version (a deployment alarm) exits 1 as rolled back', async () => {
    deployedStack();
    serviceSequence(
      [
        deployment('new', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 1, 2, 8),
        deployment('old', 'ACTIVE', DeploymentRolloutState.COMPLETED, 2, 2, 7),
      ],
      [
        deployment(
          'old',
          'PRIMARY',
          DeploymentRolloutState.IN_PROGRESS,
          2,
          2,
          7,
          'Rolling back: alarm Api-Target5xx in ALARM.',
        ),
      ],
    );
    const io = fakeIo();
    expect(await main(['watch'], io)).toBe(1);
    expect(io.stderr.join('\n')).toBe(
      'deployment new rolled back: the service went back to api:7 (Rolling back: alarm Api-Target5xx in ALARM.).',
    );
  });

  test('a rollout that does not finish in time exits 1 with its last state', async () => {
    deployedStack();
    serviceSequence([
      deployment('new', 'PRIMARY', DeploymentRolloutState.IN_PROGRESS, 1, 2, 8),
      deployment('old', 'ACTIVE', DeploymentRolloutState.COMPLETED, 1, 1, 7),
    ]);
    const io = fakeIo();
    let clock = Date.now();
    io.sleep = async (ms: number) => {
      io.sleeps++;
      clock += ms;
    };
    const realNow = Date.now;
    Date.now = () => clock;
    try {
      expect(await main(['watch', '--interval', '60', '--timeout', '5'], io)).toBe(1);
    } finally {
      Date.now = realNow;
    }
    expect(io.sleeps).toBe(5);
    expect(io.stderr.join('\n')).toBe(
      'deployment new timed out: still IN_PROGRESS after 5 minutes; last state: IN_PROGRESS: 1/2 running, 1 pending, 0 failed; targets 1 healthy',
    );
  });

  test('deploy-app exits 1 when cdk succeeded but ECS rolled the new version back', async () => {
    deployedStack();
    serviceSequence([
      deployment(
        'new',
        'ACTIVE',
        DeploymentRolloutState.FAILED,
        0,
        0,
        8,
        'ECS deployment circuit breaker: tasks failed to start.',
      ),
      deployment('old', 'PRIMARY', DeploymentRolloutState.COMPLETED, 2, 2, 7),
    ]);
    const io = fakeIo();
    expect(await main(['deploy-app', '--tag', 'abc123'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('rolled back: ECS deployment circuit breaker: tasks failed to start.');
  });

  test("deploy-app keeps cdk's exit code when cdk failed, after saying what ECS reports", async () => {
    deployedStack();
    serviceSequence([deployment('new', 'PRIMARY', DeploymentRolloutState.COMPLETED, 2, 2, 8)]);
    const io = fakeIo();
    io.run = () => 3;
    expect(await main(['deploy-app', '--tag', 'abc123'], io)).toBe(3);
    expect(io.stdout.join('\n')).toContain('cdk deploy failed; what ECS says:');
  });
});
