import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { DatabaseEngine, EnvironmentProfile, FargateWebServiceWithDatabase, RdsProxy, RolloutStrategy } from '../src';
import { newStack, onlyResource, synth } from './helpers';
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
    const construct = new FargateWebServiceWithDatabase(stack, 'Api', { image: fixtureImage(EnvironmentProfile.DEV) });
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

describe('metricXxx(): the metrics the alarms and the dashboard watch, for your own alarms and widgets', () => {
  test('each is the metric its alarm watches, with the caller’s period', () => {
    const { construct, stack } = synth();
    const target5xx = construct.metricTarget5xx({ period: Duration.minutes(1) }) as cloudwatch.Metric;
    const alarmed = construct.alarm('Target5xx').metric as cloudwatch.Metric;
    expect([target5xx.namespace, target5xx.metricName, target5xx.statistic]).toEqual([
      alarmed.namespace,
      alarmed.metricName,
      alarmed.statistic,
    ]);
    expect(stack.resolve(target5xx.dimensions)).toEqual(stack.resolve(alarmed.dimensions));
    expect(target5xx.period.toSeconds()).toBe(60);
    const connections = construct.metricDatabaseConnections();
    const alarmedConnections = construct.alarm('DatabaseConnections').metric as cloudwatch.Metric;
    expect([connections.metricName, connections.statistic]).toEqual(['DatabaseConnections', 'Maximum']);
    expect(stack.resolve(connections.dimensions)).toEqual(stack.resolve(alarmedConnections.dimensions));
    expect(construct.metricLatency().statistic).toBe('p99');
    expect(construct.metricLatency({ statistic: 'p50' }).statistic).toBe('p50');
    expect(construct.metricServiceCpu().metricName).toBe('CPUUtilization');
  });

  test('the database choices: Aurora Serverless capacity is what DatabaseCapacity watches; the proxy has its connections; each fails where it does not apply', () => {
    const serverless = synth({ database: { engine: DatabaseEngine.auroraServerless() } });
    const capacity = serverless.construct.metricDatabaseCapacity({ period: Duration.minutes(1) });
    const alarmed = serverless.construct.alarm('DatabaseCapacity').metric as cloudwatch.Metric;
    expect([capacity.metricName, capacity.statistic, capacity.period.toSeconds()]).toEqual([
      'ACUUtilization',
      'Maximum',
      60,
    ]);
    expect(serverless.stack.resolve(capacity.dimensions)).toEqual(serverless.stack.resolve(alarmed.dimensions));
    expect(() => serverless.construct.metricProxyClientConnections()).toThrow(
      /^Test\/Api: metricProxyClientConnections: there is no RDS Proxy/,
    );

    const proxied = synth({ database: { proxy: RdsProxy.iamAuthenticated() } });
    const clients = proxied.construct.metricProxyClientConnections();
    const database = proxied.construct.metricProxyDatabaseConnections();
    expect([clients.namespace, clients.metricName, clients.statistic]).toEqual([
      'AWS/RDS',
      'ClientConnections',
      'Maximum',
    ]);
    expect(database.metricName).toBe('DatabaseConnections');
    expect(proxied.stack.resolve(clients.dimensions)).toEqual({
      ProxyName: proxied.stack.resolve(proxied.construct.databaseProxy!.dbProxyName),
    });
    expect(() => proxied.construct.metricDatabaseCapacity()).toThrow(
      /^Test\/Api: metricDatabaseCapacity: only DatabaseEngine.auroraServerless\(\) has a capacity metric/,
    );
  });

  test('under a canary, target metrics add both target groups up; the period still follows the caller', () => {
    const { construct } = synth({ service: { rolloutStrategy: RolloutStrategy.canary() } });
    const requests = construct.metricTargetRequests({ period: Duration.minutes(2) }) as cloudwatch.MathExpression;
    expect(requests.expression).toBe('FILL(targetRequestsBlue, 0) + FILL(targetRequestsGreen, 0)');
    expect(requests.period.toSeconds()).toBe(120);
  });
});

describe('the parts users reach for are members', () => {
  test('the parameter group, the flow log (unless turned off) and, in prod, the backup plan', () => {
    const prod = synth({ profile: EnvironmentProfile.PROD });
    expect(prod.construct.databaseParameterGroup).toBeInstanceOf(rds.ParameterGroup);
    expect(prod.construct.backupPlan).toBeInstanceOf(backup.BackupPlan);
    expect(prod.construct.flowLog).toBeInstanceOf(ec2.FlowLog);
    const parameters = onlyResource(prod.template, 'AWS::RDS::DBParameterGroup');
    expect(
      prod.stack.resolve(
        (prod.construct.databaseParameterGroup.node.defaultChild as rds.CfnDBParameterGroup).logicalId,
      ),
    ).toBe(parameters.id);
    const dev = synth();
    expect(dev.construct.databaseParameterGroup).toBeInstanceOf(rds.ParameterGroup);
    expect(dev.construct.backupPlan === undefined).toBe(true);
    expect(dev.construct.flowLog).toBeInstanceOf(ec2.FlowLog);
    expect(synth({ network: { flowLogs: false } }).construct.flowLog === undefined).toBe(true);
  });
});

describe('outputs', () => {
  test('ten stack outputs by default, none with outputs: false', () => {
    expect(Object.keys(synth().template.findOutputs('*'))).toHaveLength(10);
    expect(synth({ outputs: false }).template.findOutputs('*')).toEqual({});
  });
});
