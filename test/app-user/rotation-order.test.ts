import { Duration } from 'aws-cdk-lib';
import { CredentialRotation, EnvironmentProfile } from '../../src';
import { defaultStack, synth, Synthesized } from '../helpers';

/**
 * Documented behaviour relied on (AWS::SecretsManager::RotationSchedule, RotateImmediatelyOnUpdate): "Specifies
 * whether to rotate the secret immediately or wait until the next scheduled rotation window ... If you don't
 * immediately rotate the secret, Secrets Manager tests the rotation configuration by running the testSecret step of
 * the Lambda rotation function." The default is true. CloudFormation orders resources only by references and
 * DependsOn, so a schedule that names neither the bootstrap nor the redeploy rule may be created before them.
 * Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-rotationschedule.html
 */

const dependsOn = (resource: any): string[] => [resource.DependsOn ?? []].flat();

function schedules(s: Synthesized) {
  const { template, stack, construct } = s;
  const all = Object.entries<any>(template.findResources('AWS::SecretsManager::RotationSchedule'));
  const bySecret = (arn: string) => {
    const wanted = JSON.stringify(stack.resolve(arn));
    const found = all.filter(([, r]) => JSON.stringify(r.Properties.SecretId) === wanted);
    expect(found).toHaveLength(1);
    return found[0][1];
  };
  return {
    app: bySecret(construct.databaseSecret!.secretArn),
    master: bySecret(construct.databaseMasterSecret.secretArn),
  };
}

const logicalIdsOf = (s: Synthesized, type: string) => Object.keys(s.template.findResources(type));

describe.each([
  ['prod defaults', () => defaultStack(EnvironmentProfile.PROD)],
  ['dev with rotation on', () => synth({ database: { rotation: CredentialRotation.every(Duration.days(7)) } })],
])('%s: no rotation can run before the app user and the redeploy exist', (_name, make) => {
  let s: Synthesized;
  beforeAll(() => {
    s = make();
  });

  test('neither schedule rotates on creation or update (RotateImmediatelyOnUpdate is false)', () => {
    const { app, master } = schedules(s);
    expect(app.Properties.RotateImmediatelyOnUpdate).toBe(false);
    expect(master.Properties.RotateImmediatelyOnUpdate).toBe(false);
  });

  test('both schedules are created after the app-user bootstrap', () => {
    const [bootstrap] = logicalIdsOf(s, 'Custom::AppDatabaseUser');
    const { app, master } = schedules(s);
    expect(dependsOn(app)).toContain(bootstrap);
    expect(dependsOn(master)).toContain(bootstrap);
  });

  test("the app secret's schedule is created after the redeploy rule and the permission that lets it invoke the redeploy", () => {
    const [rule] = logicalIdsOf(s, 'AWS::Events::Rule').filter((id) => id.includes('RedeployAfterRotation'));
    const ruleTarget = s.template.toJSON().Resources[rule].Properties.Targets[0].Arn['Fn::GetAtt'][0];
    const permissions = Object.entries<any>(s.template.findResources('AWS::Lambda::Permission'))
      .filter(([, p]) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === ruleTarget)
      .filter(([, p]) => p.Properties.SourceArn['Fn::GetAtt']?.[0] === rule)
      .map(([id]) => id);
    expect(permissions).toHaveLength(1);
    const { app } = schedules(s);
    expect(dependsOn(app)).toEqual(expect.arrayContaining([rule, permissions[0], ruleTarget]));
  });
});

test("the master secret's rotation failures raise an alarm of their own, watching the single-user function", () => {
  const { template } = defaultStack(EnvironmentProfile.PROD);
  const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const master = alarms.filter((a) => JSON.stringify(a.AlarmName).includes('MasterCredentialRotationFailed'));
  expect(master).toHaveLength(1);
  expect(master[0]).toMatchObject({
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Statistic: 'Sum',
    Period: 300,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
  expect(master[0].Dimensions).toHaveLength(1);
  expect(master[0].Dimensions[0].Name).toBe('FunctionName');
  // The function name is the seventh field of the single-user application's output ARN.
  const dimension = JSON.stringify(master[0].Dimensions[0].Value);
  expect(dimension).toMatch(/"ApiDatabaseRotationSingleUser[0-9A-F]*","Outputs.RotationLambdaARN"/);
  expect(dimension).toContain('"Fn::Select":[6');
  expect(master[0].AlarmActions).toHaveLength(1);
});
