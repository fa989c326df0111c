import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

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
    if (r.Type === 'AWS::IAM::Role')
      return (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
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
