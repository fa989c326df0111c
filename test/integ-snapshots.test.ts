import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CredentialRotation, EnvironmentProfile, FargateWebServiceWithDatabase, RolloutStrategy } from '../src';
import { newStack } from './helpers';
import { fixtureImage } from '../tools/stacks';

/**
 * What the committed integration snapshots (integ/*.snapshot, written offline by `npx projen integ:update`) grant,
 * read as CloudFormation will: an assertion that calls an API needs the real IAM action for it.
 */

const INTEG = path.join(__dirname, '..', 'integ');

function templates(snapshot: string): Record<string, any> {
  const dir = path.join(INTEG, snapshot);
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f, JSON.parse(readFileSync(path.join(dir, f), 'utf8'))]),
  );
}

/** Every statement of every IAM policy (inline role policies included) in a template. */
function statements(template: any): { Action: string | string[] }[] {
  return Object.values<any>(template.Resources ?? {}).flatMap((r) => {
    if (r.Type === 'AWS::IAM::Policy') return r.Properties.PolicyDocument.Statement;
    if (r.Type === 'AWS::IAM::Role') {
      return (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
    }
    return [];
  });
}

test('the canary integ test may call DescribeRules: its assertions provider holds elasticloadbalancing:DescribeRules', () => {
  const actions = Object.values(templates('integ.canary-rollout.ts.snapshot'))
    .flatMap(statements)
    .flatMap((s) => [s.Action].flat());
  // integ-tests-alpha derives `elasticloadbalancingv2:DescribeRules` from the SDK client's name (aws-cdk #32417);
  // IAM knows the action only as `elasticloadbalancing:DescribeRules`.
  expect(actions).toContain('elasticloadbalancing:DescribeRules');
});

test('the snapshots hold the current handler bundles: a changed handler must update them (npx projen integ:update)', () => {
  // The integ-runner's verify run ignores asset hashes; this compares each of the construct's functions in each
  // snapshot with the same function synthesized from the bundles of this build (every handler appears here).
  const stack = newStack();
  new FargateWebServiceWithDatabase(stack, 'Api', {
    image: fixtureImage(EnvironmentProfile.DEV),
    database: { rotation: CredentialRotation.every(Duration.days(30)) },
    service: { rolloutStrategy: RolloutStrategy.canary() },
    migrations: { command: ['migrate'] },
  });
  const current = Object.fromEntries(
    Object.entries<any>(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(([id, fn]) => [
      id,
      fn.Properties.Code.S3Key,
    ]),
  );
  let compared = 0;
  for (const snapshot of readdirSync(INTEG).filter((d) => d.endsWith('.snapshot'))) {
    for (const [file, template] of Object.entries(templates(snapshot))) {
      for (const [id, fn] of Object.entries<any>(template.Resources ?? {})) {
        if (fn.Type !== 'AWS::Lambda::Function' || !id.startsWith('Api') || !(id in current)) continue;
        expect([file, id, fn.Properties.Code.S3Key]).toEqual([file, id, current[id]]);
        compared += 1;
      }
    }
  }
  expect(compared).toBeGreaterThanOrEqual(15);
});
