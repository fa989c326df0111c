/**
 * Synth benchmark: the construct's default stack against an equivalent hand-wired stack (aws-ecs-patterns
 * ApplicationLoadBalancedFargateService, rds.DatabaseInstance, generated secret injected as ECS secrets), alternating
 * runs after a warm-up, medians. npx ts-node --project scripts/tsconfig.json scripts/synth-bench.ts [--runs 10]
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as patterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as rds from 'aws-cdk-lib/aws-rds';
import { EnvironmentProfile, FargateWebServiceWithDatabase, ServiceImage } from '../src';

const FIXTURE = path.join(__dirname, '..', 'test', 'fixtures', 'app');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;

function handWired(): number {
  const app = new App();
  const stack = new Stack(app, 'HandWired', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const db = new rds.DatabaseInstance(stack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    credentials: rds.Credentials.fromGeneratedSecret('app_admin'),
    databaseName: 'app',
  });
  const secret = db.secret!;
  const service = new patterns.ApplicationLoadBalancedFargateService(stack, 'Web', {
    vpc,
    taskImageOptions: {
      image: ecs.ContainerImage.fromAsset(FIXTURE),
      containerPort: 3000,
      secrets: Object.fromEntries(
        [
          ['DB_HOST', 'host'],
          ['DB_PORT', 'port'],
          ['DB_USER', 'username'],
          ['DB_PASSWORD', 'password'],
        ].map(([k, f]) => [k, ecs.Secret.fromSecretsManager(secret, f)]),
      ),
    },
    circuitBreaker: { rollback: true },
  });
  db.connections.allowDefaultPortFrom(service.service);
  service.service.autoScaleTaskCount({ maxCapacity: 4 }).scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 70 });
  const started = process.hrtime.bigint();
  const assembly = app.synth();
  lastResources = Object.keys(assembly.getStackByName('HandWired').template.Resources).length;
  return Number(process.hrtime.bigint() - started) / 1e6;
}

let lastResources = 0;

function construct(profile: EnvironmentProfile): () => number {
  return () => {
    const app = new App();
    const stack = new Stack(app, 'Construct', { env: { account: '123456789012', region: 'us-east-1' } });
    const started = process.hrtime.bigint();
    new FargateWebServiceWithDatabase(stack, 'Api', { profile, image: ServiceImage.fromDirectory(FIXTURE) });
    lastResources = Object.keys(app.synth().getStackByName('Construct').template.Resources).length;
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
}

/** Construction plus synthesis for the construct (it builds inside the timer); the same for the hand-wired one. */
function handWiredTotal(): number {
  const started = process.hrtime.bigint();
  handWired();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases: Record<string, () => number> = {
  'hand-wired (ecs-patterns + rds)': handWiredTotal,
  'construct, dev profile': construct(EnvironmentProfile.DEV),
  'construct, prod profile': construct(EnvironmentProfile.PROD),
};
const resources: Record<string, number> = {};
for (const [name, run] of Object.entries(cases)) {
  run(); // warm-up: module loading and JIT
  resources[name] = lastResources;
}
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) samples[name].push(run());
const base = median(samples['hand-wired (ecs-patterns + rds)']);
console.log(`synth benchmark: ${runs} alternating runs, medians (construction + synthesis, in ms)`);
for (const [name, xs] of Object.entries(samples)) {
  const perResource = median(xs) / resources[name] / (base / resources['hand-wired (ecs-patterns + rds)']);
  console.log(
    `  ${name.padEnd(34)} ${median(xs).toFixed(0).padStart(6)} ms   ${(median(xs) / base).toFixed(2)}x   ${String(resources[name]).padStart(3)} resources   ${perResource.toFixed(2)}x per resource`,
  );
}
