import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FargateWebServiceWithDatabase } from '../src';
import { newStack, synth } from './helpers';
import { fixtureImage } from '../tools/stacks';

describe('alarm(name): each alarm by the name the docs give it', () => {
  test('finds an alarm and a deployment alarm, and names the alarms there are when the name is unknown', () => {
    const { construct } = synth();
    expect(construct.alarm('Target5xx')).toBe(construct.alarms.find((a) => a.node.id === 'Target5xxAlarm'));
    expect(construct.alarm('Rollout5xxShare')).toBe(
      construct.deploymentAlarms.find((a) => a.node.id === 'Rollout5xxShareAlarm'),
    );
    expect(() => construct.alarm('Target5XX')).toThrow(
      /^Test\/Api: no alarm named "Target5XX"; this configuration has: Target5xx, LoadBalancer5xx, .*Rollout5xxShare, RolloutUnhealthyHosts\.$/,
    );
  });
});

describe('grantConnect: IAM database authentication for a login of your own', () => {
  test('grants rds-db:connect on that login of this instance only', () => {
    const stack = newStack();
    const construct = new FargateWebServiceWithDatabase(stack, 'Api', { image: fixtureImage() });
    const role = new iam.Role(stack, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantConnect(role, 'reporting');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Reporting') }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'rds-db:connect',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  ':rds-db:us-east-1:123456789012:dbuser:',
                  { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiDatabase'), 'DbiResourceId'] },
                  '/reporting',
                ]),
              ],
            },
          },
        ],
      },
    });
  });

  test.each(['app_admin', 'app_user', 'app_user_clone'])(
    'refuses %s, a login the construct manages with a password',
    (login) => {
      const stack = newStack();
      const { construct } = synth({}, stack);
      const role = new iam.Role(stack, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
      expect(() => construct.grantConnect(role, login)).toThrow(
        `Test/Api: grantConnect: "${login}" is a login the construct manages with a password (app_admin, app_user, app_user_clone); name a login of your own that has rds_iam.`,
      );
    },
  );

  test('refuses a login name PostgreSQL would not take, and IAM authentication turned off', () => {
    const stack = newStack();
    const { construct } = synth({}, stack);
    const role = new iam.Role(stack, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => construct.grantConnect(role, 'report-ing')).toThrow(
      'Test/Api: grantConnect: dbUser must start with a letter and contain only letters, digits and underscores (at most 63), got "report-ing".',
    );
    const other = newStack();
    const off = synth({ database: { iamAuthentication: false } }, other);
    const otherRole = new iam.Role(other, 'Reporting', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => off.construct.grantConnect(otherRole, 'reporting')).toThrow(
      'Test/Api: grantConnect needs `database.iamAuthentication` on; it is off.',
    );
  });
});
