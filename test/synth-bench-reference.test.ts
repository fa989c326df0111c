import { Match, Template } from 'aws-cdk-lib/assertions';
import { FIXTURE_APP, newStack, resourceCounts, synth } from './helpers';
import { buildHandWiredDevStack } from '../scripts/hand-wired-stack';

// The synth benchmark compares the construct's default stack with scripts/hand-wired-stack.ts. The comparison means
// something only while the two build the same thing: these tests fail when either side gains or loses a resource.
describe('synth benchmark reference', () => {
  const construct = synth().template;
  const stack = newStack('HandWired');
  buildHandWiredDevStack(stack, FIXTURE_APP);
  const handWired = Template.fromStack(stack);

  test('the hand-wired stack has exactly the resources of the default stack, type by type', () => {
    expect(resourceCounts(handWired)).toEqual(resourceCounts(construct));
  });

  test('and as many outputs', () => {
    expect(Object.keys(handWired.toJSON().Outputs)).toHaveLength(Object.keys(construct.toJSON().Outputs).length);
  });

  test('with the same encrypted log groups, TLS-only database and alarm actions', () => {
    for (const template of [construct, handWired]) {
      template.allResourcesProperties('AWS::Logs::LogGroup', {
        KmsKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        RetentionInDays: 7,
      });
      template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toHaveLength(1);
        expect(alarm.Properties.OKActions).toHaveLength(1);
      }
    }
  });
});
