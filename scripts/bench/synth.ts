/**
 * Synth benchmark: the construct's default (dev) stack against the same stack wired by hand from aws-ecs-patterns and
 * the L2s (scripts/bench/hand-wired-stack.ts; checked equivalent before anything is timed), alternating runs
 * after a warm-up, medians of construction plus synthesis. Also shown, for scale: a minimal hand-wired stack (the ALB
 * service pattern, an RDS instance and its generated secret, nothing else) and the prod profile.
 *
 * npx ts-node --project scripts/tsconfig.json scripts/bench/synth.ts [--runs 15]
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as patterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as rds from 'aws-cdk-lib/aws-rds';
import { buildHandWiredDevStack } from './hand-wired-stack';
import { EnvironmentProfile, FargateWebServiceWithDatabase, ServiceImage } from '../../src';
import { FIXTURE_APP as FIXTURE, fixtureImage, newStack, resourceCounts, withProdHttps } from '../../tools/stacks';
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

interface Run {
  readonly ms: number;
  readonly resources: number;
}

function timed(build: (stack: Stack) => void): () => Run {
  return () => {
    const started = process.hrtime.bigint();
    const app = new App();
    const stack = new Stack(app, 'Bench', { env: { account: '123456789012', region: 'us-east-1' } });
    build(stack);
    const resources = Object.keys(app.synth().getStackByName('Bench').template.Resources).length;
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, resources };
  };
}

function minimalHandWired(stack: Stack): void {
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
}

const construct = (profile: EnvironmentProfile) => (stack: Stack) =>
  new FargateWebServiceWithDatabase(stack, 'Api', {
    image: fixtureImage(profile),
    ...withProdHttps(stack, { profile }),
  });

/**
 * The comparison means something only while the reference builds what the construct builds: the same resources type
 * by type, as many outputs, encrypted log groups, a TLS-only database and alarm actions. Throws when it does not.
 */
function checkReferenceIsEquivalent(): void {
  const ownStack = newStack('Construct');
  new FargateWebServiceWithDatabase(ownStack, 'Api', { image: ServiceImage.fromDirectory(FIXTURE) });
  const handStack = newStack('HandWired');
  buildHandWiredDevStack(handStack, FIXTURE);
  const [own, hand] = [Template.fromStack(ownStack), Template.fromStack(handStack)];
  const [ownCounts, handCounts] = [resourceCounts(own), resourceCounts(hand)];
  if (JSON.stringify(ownCounts) !== JSON.stringify(handCounts)) {
    throw new Error(
      `the hand-wired reference is not equivalent to the construct; bring scripts/bench/hand-wired-stack.ts level:\n construct: ${JSON.stringify(ownCounts)}\n reference: ${JSON.stringify(handCounts)}`,
    );
  }
  const outputs = (t: Template) => Object.keys(t.toJSON().Outputs).length;
  if (outputs(own) !== outputs(hand)) throw new Error(`outputs: construct ${outputs(own)}, reference ${outputs(hand)}`);
  for (const template of [own, hand]) {
    template.allResourcesProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      RetentionInDays: 7,
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      if (alarm.Properties.AlarmActions?.length !== 1 || alarm.Properties.OKActions?.length !== 1) {
        throw new Error('every alarm must notify one topic on ALARM and OK, in both stacks');
      }
    }
  }
}

checkReferenceIsEquivalent();
console.log('reference check: the hand-wired stack builds the same resources as the construct');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const BASE = 'hand-wired equivalent of dev';
const DEFAULT = 'construct, dev profile (default)';
const cases: Record<string, () => Run> = {
  [BASE]: timed((stack) => buildHandWiredDevStack(stack, FIXTURE)),
  [DEFAULT]: timed(construct(EnvironmentProfile.DEV)),
  'minimal hand-wired (for scale)': timed(minimalHandWired),
  'construct, prod profile': timed(construct(EnvironmentProfile.PROD)),
};
const resources: Record<string, number> = {};
for (const [name, run] of Object.entries(cases)) {
  resources[name] = run().resources; // warm-up: module loading and JIT
}
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) samples[name].push(run().ms);
const base = median(samples[BASE]);
console.log(
  `synth benchmark: ${runs} alternating runs, medians of construction + synthesis; ratios against the ${BASE}`,
);
for (const [name, xs] of Object.entries(samples)) {
  const perResource = median(xs) / resources[name] / (base / resources[BASE]);
  console.log(
    `  ${name.padEnd(34)} ${median(xs).toFixed(1).padStart(6)} ms   ${(median(xs) / base).toFixed(2)}x   ${String(resources[name]).padStart(3)} resources   ${perResource.toFixed(2)}x per resource`,
  );
}
const ratio = median(samples[DEFAULT]) / base;
console.log(
  `\ngoal: default stack within 1.1x of its hand-wired equivalent: ${ratio <= 1.1 ? 'met' : 'MISSED'} (${ratio.toFixed(2)}x)`,
);
