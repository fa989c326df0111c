import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource } from 'aws-cdk-lib';
import { GUARD_BINARY, VALIDATOR_DIR } from '../../tools/policy-harness';
import { scenario, ScenarioName } from '../../tools/policy-scenarios';

/** The command a consumer runs (bin/fwsd-guard-check, the package's `fwsd-guard-check`). */
const BIN = path.join(__dirname, '..', '..', 'bin', 'fwsd-guard-check');

function synthesize(name: ScenarioName, tamper?: (s: ReturnType<typeof scenario>) => void): string {
  const s = scenario(name);
  tamper?.(s);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `guard-check-${name}-`));
  const assembly = (s.stack.node.root as App).synth({ force: true });
  const artifact = assembly.getStackByName(s.stack.stackName);
  fs.copyFileSync(artifact.templateFullPath, path.join(outdir, path.basename(artifact.templateFullPath)));
  return outdir;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { allControlTowerRuleFiles, controlTowerRuleFiles } = require('../../bin/fwsd-guard-check');

/** cfn-guard's own structured result for rule files over one template: the rules that passed, failed and skipped. */
function guardStatuses(rules: string[], template: object) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'guard-status-')), 'template.json');
  fs.writeFileSync(file, JSON.stringify(template));
  const args = ['validate', ...rules.flatMap((r) => ['--rules', r]), '--data', file, '--output-format', 'json'];
  const out = spawnSync(GUARD_BINARY, [...args, '--show-summary', 'none', '--structured'], { encoding: 'utf8' });
  const [result] = JSON.parse(out.stdout) as Array<{
    compliant: string[];
    not_compliant: unknown[];
    not_applicable: string[];
  }>;
  return result;
}

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('fwsd-guard-check: cfn-guard with the Control Tower rules and the library rules, honouring acknowledgements', () => {
  // prod-https's Control Tower result, split the same way, is checked in packs.test.ts.
  test.each(['dev'] as const)(
    '%s: every Control Tower finding is one the construct acknowledges, so the run passes',
    (name) => {
      const outdir = synthesize(name);
      const result = run(outdir);
      expect([result.status, result.stderr]).toEqual([0, '']);
      const [summary] = result.stdout.split('\n');
      expect(summary).toMatch(/^Policy-[a-z-]+\.template\.json: 0 open, [1-9]\d* acknowledged by the construct$/);
      expect(result.stdout).not.toContain('FAIL');
      // These findings are why the runner exists: cfn-guard alone reports them (the rules ignore the metadata).
      expect(result.stdout).toMatch(/\n {2}ack {2}[a-z0-9_]+_check on Api[A-Za-z0-9]+/);
    },
  );

  test('a finding whose acknowledgement was removed fails the run and is named with its resource', () => {
    const outdir = synthesize('dev', (s) => {
      const db = s.construct.database!.node.defaultChild as CfnResource;
      const guard = db.getMetadata('guard') as { SuppressedRules: string[] };
      db.addMetadata('guard', { SuppressedRules: guard.SuppressedRules.filter((r) => !r.includes('multi_az')) });
    });
    const result = run(outdir);
    expect(result.status).toBe(1);
    // Without the CDK CLI's path metadata the resource is named by its logical id.
    expect(result.stdout).toMatch(/\n {2}FAIL rds_instance_multi_az_support_check on ApiDatabase[0-9A-F]{8}\n/);
    expect(result.stdout.match(/FAIL/g)).toHaveLength(1);
  });

  test('prod serving plain HTTP behind an upstream terminator fails on the redirect rule, as the docs say', () => {
    const result = run(synthesize('prod'));
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/\n {2}FAIL alb_http_to_https_redirection_check on ApiLBHttpListener[0-9A-F]{8}\n/);
    expect(result.stdout.match(/FAIL/g)).toHaveLength(1);
  });

  test('the Control Tower rule files left out for a template only skip on resources of its types; the kept ones judge them', () => {
    const template = JSON.parse(fs.readFileSync(path.join(synthesize('dev'), 'Policy-dev.template.json'), 'utf8'));
    const typeless = controlTowerRuleFiles(VALIDATOR_DIR, { Resources: { X: { Type: 'AWS::None::None' } } }).length;
    const kept: string[] = controlTowerRuleFiles(VALIDATOR_DIR, template);
    const every: string[] = allControlTowerRuleFiles(VALIDATOR_DIR);
    const dropped = every.filter((f) => !kept.includes(f));
    // Files naming no resource type would be kept for every template: there are none today.
    expect(typeless).toBe(0);
    expect(kept.length).toBeGreaterThan(50);
    expect(dropped.length).toBeGreaterThan(50);
    expect(kept.some((f) => f.endsWith('ct-rds-pr-1.guard'))).toBe(true);
    expect(dropped.some((f) => f.endsWith('ct-redshift-pr-1.guard'))).toBe(true);
    // One real resource of each type the template holds, properties and all.
    const sample: Record<string, unknown> = {};
    for (const [id, r] of Object.entries<{ Type: string }>(template.Resources)) {
      if (!Object.values(sample).some((s) => (s as { Type: string }).Type === r.Type)) sample[id] = r;
    }
    const left = guardStatuses(dropped, { Resources: sample });
    expect([left.compliant, left.not_compliant]).toEqual([[], []]);
    expect(left.not_applicable.length).toBeGreaterThanOrEqual(dropped.length);
    const judged = guardStatuses(kept, { Resources: sample });
    expect(judged.compliant.length + judged.not_compliant.length).toBeGreaterThan(10);
  });

  test('usage errors exit 2 and say what is missing', () => {
    expect(run().status).toBe(2);
    const missing = run('/nonexistent/cdk.out');
    expect([missing.status, missing.stderr.trim()]).toEqual([2, 'fwsd-guard-check: not found: /nonexistent/cdk.out']);
    const empty = run(fs.mkdtempSync(path.join(os.tmpdir(), 'guard-check-empty-')));
    expect(empty.stderr).toMatch(/no \*\.template\.json in .*; run cdk synth first/);
  });

  test('the package ships the runner and its rules', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'fwsd-guard-check': 'bin/fwsd-guard-check' });
    expect(
      execFileSync('git', ['ls-files', 'policy'], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' }),
    ).toMatch(/\.guard/);
  });
});
