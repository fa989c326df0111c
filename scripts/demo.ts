/**
 * The main job: synthesize the example stacks (dev and prod profiles, the sample app's image) without AWS
 * credentials or a Docker engine, and print what each contains.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { EnvironmentProfile, FargateWebServiceWithDatabase, ServiceImage } from '../src';

const outdir = path.join(__dirname, '..', 'demo.out');
const app = new App({ outdir });
for (const profile of [EnvironmentProfile.DEV, EnvironmentProfile.PROD]) {
  const stack = new Stack(app, `UsersApi-${profile}`, {
    env: { account: '123456789012', region: 'us-east-1' },
    description: `Example: the sample users API with the ${profile} profile`,
  });
  new FargateWebServiceWithDatabase(stack, 'Api', {
    profile,
    image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  });
}

const started = Date.now();
const assembly = app.synth();
const elapsed = Date.now() - started;

for (const artifact of assembly.stacks) {
  const template = artifact.template as {
    Resources: Record<string, { Type: string }>;
    Outputs?: Record<string, { Description?: string }>;
  };
  const byType = new Map<string, number>();
  for (const resource of Object.values(template.Resources)) {
    byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
  }
  const total = Object.keys(template.Resources).length;
  console.log(`\n${artifact.stackName}: ${total} resources`);
  for (const [type, count] of [...byType.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${String(count).padStart(3)}  ${type}`);
  }
  console.log('  outputs:');
  for (const [id, output] of Object.entries(template.Outputs ?? {})) {
    console.log(`       ${id.replace(/[0-9A-F]{8}$/, '').padEnd(28)} ${output.Description ?? ''}`);
  }
  const warnings = artifact.messages.filter((m) => m.level === 'warning');
  console.log(`  synth warnings: ${warnings.length}`);
  for (const w of warnings) console.log(`    ${w.id}: ${String(w.entry.data).split('\n')[0]}`);
}
console.log(
  `\nSynthesized ${assembly.stacks.length} stacks into ${path.relative(process.cwd(), outdir)}/ in ${elapsed} ms.`,
);
