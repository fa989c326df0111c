import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Alarms, EnvironmentProfile, FargateWebServiceWithDatabase, ServiceImage } from '../src';
import { defaultStack, FIXTURE_APP, newStack, referencedIds, synth } from './helpers';
import { instanceMemoryBytes, maxConnections } from '../src/database/capacity';

const GIB = 1024 ** 3;

/** The notifying alarms by name; the two deployment alarms (`Rollout*`) are tested in rollout.test.ts. */
function alarmsByName(template: Template): Record<string, any> {
  const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties)
    .filter((a) => !/-Rollout[^-]*$/.test(String(a.AlarmName)));
  return Object.fromEntries(alarms.map((a) => [String(a.AlarmName).split('-').pop(), a]));
}

describe('monitoring', () => {
  test.each([
    [
      EnvironmentProfile.DEV,
      {
        Target5xx: 20,
        LoadBalancer5xx: 20,
        LatencyP99: 3,
        ServiceCpu: 90,
        ServiceMemory: 90,
        DatabaseCpu: 90,
        DatabaseConnections: 89,
      },
    ],
    [
      EnvironmentProfile.PROD,
      {
        Target5xx: 10,
        LoadBalancer5xx: 10,
        LatencyP99: 2,
        ServiceCpu: 85,
        ServiceMemory: 85,
        DatabaseCpu: 80,
        DatabaseConnections: 720,
      },
    ],
  ])(
    '%s has the eleven service alarms with the profile thresholds (and, with rotation on, the four rotation alarms)',
    (profile, thresholds) => {
      const alarms = alarmsByName(defaultStack(profile).template);
      expect(Object.keys(alarms).sort()).toEqual(
        [
          'Target5xx',
          'LoadBalancer5xx',
          'LatencyP99',
          'UnhealthyHosts',
          'ServiceCpu',
          'ServiceMemory',
          'RunningBelowDesired',
          'DatabaseCpu',
          'DatabaseFreeStorage',
          'DatabaseFreeableMemory',
          'DatabaseConnections',
          // Prod rotates the credentials by default; dev does not.
          ...(profile === EnvironmentProfile.PROD
            ? [
                'CredentialRotationFailed',
                'MasterCredentialRotationFailed',
                'RedeployAfterRotationFailed',
                'DeploymentFailed',
              ]
            : []),
        ].sort(),
      );
      for (const [name, threshold] of Object.entries(thresholds)) {
        expect([name, alarms[name].Threshold]).toEqual([name, threshold]);
      }
      expect(alarms.UnhealthyHosts.Threshold).toBe(1);
      expect(alarms.RunningBelowDesired.Threshold).toBe(1);
    },
  );

  test('storage and memory thresholds follow the allocated storage and the instance class', () => {
    const prod = alarmsByName(defaultStack(EnvironmentProfile.PROD).template);
    expect(prod.DatabaseFreeStorage).toMatchObject({
      Threshold: Math.round(100 * 0.1 * GIB),
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(prod.DatabaseFreeableMemory).toMatchObject({
      Threshold: Math.round(8 * GIB * 0.1),
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(prod.LatencyP99).toMatchObject({
      ExtendedStatistic: 'p99',
      MetricName: 'TargetResponseTime',
      EvaluationPeriods: 3,
    });
  });

  test('running below desired compares the Container Insights task counts', () => {
    const alarm = alarmsByName(defaultStack(EnvironmentProfile.PROD).template).RunningBelowDesired;
    expect(alarm.Metrics[0].Expression).toBe('FILL(desired, 0) - FILL(running, 0)');
    expect(
      alarm.Metrics.slice(1)
        .map((m: any) => m.MetricStat.Metric.MetricName)
        .sort(),
    ).toEqual(['DesiredTaskCount', 'RunningTaskCount']);
  });

  test('every alarm notifies the created topic on ALARM and OK; the topic is KMS-encrypted and TLS-only', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    for (const alarm of Object.values(alarmsByName(template))) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAlarmTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]),
      },
    });
  });

  test('an e-mail address is subscribed to the created topic', () => {
    const { template } = synth({ monitoring: { alarms: Alarms.toNewTopic({ email: 'oncall@example.com' }) } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  test('a given topic receives the alarms and no topic is created', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'OnCall');
    const { template, construct } = synth({ monitoring: { alarms: Alarms.toTopic(topic) } }, stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(construct.alarmTopic).toBe(topic);
    const onCallId = stack.getLogicalId(topic.node.defaultChild as any);
    for (const alarm of Object.values(alarmsByName(template))) expect(alarm.AlarmActions).toEqual([{ Ref: onCallId }]);
  });

  test('thresholds can be overridden one by one', () => {
    const { template } = synth({
      monitoring: {
        alarms: Alarms.toNewTopic({
          thresholds: {
            target5xxCount: 3,
            p99LatencySeconds: 0.5,
            databaseFreeStorageGiB: 5,
            databaseConnections: 50,
            databaseFreeableMemoryMiB: 64,
          },
        }),
      },
    });
    const alarms = alarmsByName(template);
    expect(alarms.Target5xx.Threshold).toBe(3);
    expect(alarms.LatencyP99.Threshold).toBe(0.5);
    expect(alarms.DatabaseFreeStorage.Threshold).toBe(5 * GIB);
    expect(alarms.DatabaseConnections.Threshold).toBe(50);
    expect(alarms.DatabaseFreeableMemory.Threshold).toBe(64 * 1024 ** 2);
    expect(alarms.LoadBalancer5xx.Threshold).toBe(20);
  });

  test('alarm names derive from the construct path, so two services in one stack never clash', () => {
    const stack = newStack();
    new FargateWebServiceWithDatabase(stack, 'Orders', { image: ServiceImage.fromDirectory(FIXTURE_APP) });
    new FargateWebServiceWithDatabase(stack, 'Billing', { image: ServiceImage.fromDirectory(FIXTURE_APP) });
    const names = Object.values<any>(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    // Eleven alarms and two deployment alarms each.
    expect(names).toHaveLength(26);
    expect(new Set(names).size).toBe(26);
    expect(names.filter((n) => n.includes('Orders'))).toHaveLength(13);
    expect(names.filter((n) => n.includes('Billing'))).toHaveLength(13);
  });

  test.each([
    [EnvironmentProfile.DEV, 0],
    [EnvironmentProfile.PROD, 1],
  ])('%s has %d dashboard(s) by default', (profile, dashboards) => {
    defaultStack(profile).template.resourceCountIs('AWS::CloudWatch::Dashboard', dashboards);
  });

  test('prod alarms and dashboard can be turned off (the deployment alarms stay, without actions)', () => {
    const { template, construct } = synth({
      profile: EnvironmentProfile.PROD,
      monitoring: { alarms: Alarms.none(), dashboard: false },
    });
    expect(Object.keys(alarmsByName(template))).toEqual([]);
    expect(construct.deploymentAlarms).toHaveLength(2);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(construct.alarms).toEqual([]);
  });

  test('the dashboard shows requests, latency percentiles, errors, hosts, tasks against capacity, CPU, memory and the database', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const dashboard = Object.values<any>(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of [
      'RequestCount',
      'p50',
      'p90',
      'p99',
      'HTTPCode_Target_5XX_Count',
      'HTTPCode_ELB_5XX_Count',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'RunningTaskCount',
      'DesiredTaskCount',
      '\\"value\\":2,\\"label\\":\\"Min capacity\\"',
      '\\"value\\":10,\\"label\\":\\"Max capacity\\"',
      'CPUUtilization',
      'MemoryUtilization',
      'DatabaseConnections',
      'FreeStorageSpace',
      'ReadIOPS',
      'WriteIOPS',
    ]) {
      expect([text, body.includes(text)]).toEqual([text, true]);
    }
  });

  test.each([
    ['t4g.micro', 1],
    ['m7g.large', 8],
    ['r7g.xlarge', 32],
    ['t3.medium', 4],
  ])('instance memory of %s is %d GiB', (type, gib) => {
    expect(instanceMemoryBytes(new ec2.InstanceType(type))).toBe(gib * GIB);
  });

  test('max_connections follows the RDS PostgreSQL formula and its cap', () => {
    expect(maxConnections(8 * GIB)).toBe(901);
    expect(maxConnections(512 * GIB)).toBe(5000);
  });
});

describe('what each alarm watches: namespace, metric, statistic, period and the resources in its dimensions', () => {
  const byName = () =>
    Object.fromEntries(
      Object.values<any>(defaultStack(EnvironmentProfile.PROD).template.findResources('AWS::CloudWatch::Alarm')).map(
        (a) => [String(a.Properties.AlarmName).replace(/^.*-/, ''), a.Properties],
      ),
    );
  const tg = { LoadBalancer: /^ApiLB/, TargetGroup: /^ApiTargetGroup/ };
  const service = { ClusterName: /^ApiCluster/, ServiceName: /^ApiService/ };
  const db = { DBInstanceIdentifier: /^ApiDatabase[0-9A-F]+$/ };
  test.each([
    ['Target5xx', 'AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 'Sum', 300, 1, tg],
    ['LoadBalancer5xx', 'AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', 'Sum', 300, 1, { LoadBalancer: /^ApiLB/ }],
    ['LatencyP99', 'AWS/ApplicationELB', 'TargetResponseTime', 'p99', 300, 3, tg],
    ['UnhealthyHosts', 'AWS/ApplicationELB', 'UnHealthyHostCount', 'Maximum', 60, 5, tg],
    ['ServiceCpu', 'AWS/ECS', 'CPUUtilization', 'Average', 300, 3, service],
    ['ServiceMemory', 'AWS/ECS', 'MemoryUtilization', 'Average', 300, 3, service],
    ['DatabaseCpu', 'AWS/RDS', 'CPUUtilization', 'Average', 300, 3, db],
    ['DatabaseFreeStorage', 'AWS/RDS', 'FreeStorageSpace', 'Minimum', 300, 1, db],
    ['DatabaseFreeableMemory', 'AWS/RDS', 'FreeableMemory', 'Minimum', 300, 3, db],
    ['DatabaseConnections', 'AWS/RDS', 'DatabaseConnections', 'Maximum', 300, 2, db],
    ['RolloutUnhealthyHosts', 'AWS/ApplicationELB', 'UnHealthyHostCount', 'Maximum', 60, 2, tg],
    [
      'CredentialRotationFailed',
      'AWS/Lambda',
      'Errors',
      'Sum',
      300,
      1,
      { FunctionName: /^ApiDatabaseAppUserRotation/ },
    ],
    [
      'MasterCredentialRotationFailed',
      'AWS/Lambda',
      'Errors',
      'Sum',
      300,
      1,
      { FunctionName: /^ApiDatabaseRotationSingleUser/ },
    ],
    ['DeploymentFailed', 'AWS/Events', 'TriggeredRules', 'Sum', 300, 1, { RuleName: /^ApiDeploymentFailedRule/ }],
  ] as const)('%s: %s %s (%s over %s s, %s periods)', (name, namespace, metric, statistic, period, periods, dims) => {
    const alarm = byName()[name];
    expect({
      namespace: alarm.Namespace,
      metric: alarm.MetricName,
      statistic: alarm.Statistic ?? alarm.ExtendedStatistic,
      period: alarm.Period,
      periods: alarm.EvaluationPeriods,
    }).toEqual({ namespace, metric, statistic, period, periods });
    const dimensions = Object.fromEntries(alarm.Dimensions.map((d: any) => [d.Name, referencedIds(d.Value)]));
    expect(Object.keys(dimensions).sort()).toEqual(Object.keys(dims).sort());
    for (const [dimension, pattern] of Object.entries(dims)) {
      expect([dimension, dimensions[dimension]]).toEqual([dimension, [expect.stringMatching(pattern as RegExp)]]);
    }
  });

  test('the math alarms read the metrics they name: running below desired, the redeploy, the rollout share', () => {
    const alarms = byName();
    const stats = (name: string) =>
      alarms[name].Metrics.filter((m: any) => m.MetricStat).map((m: any) => [
        m.Id,
        m.MetricStat.Metric.Namespace,
        m.MetricStat.Metric.MetricName,
        m.MetricStat.Stat,
        m.MetricStat.Period,
        m.MetricStat.Metric.Dimensions.map((d: any) => d.Name).sort(),
      ]);
    expect(stats('RunningBelowDesired').sort()).toEqual([
      ['desired', 'ECS/ContainerInsights', 'DesiredTaskCount', 'Average', 60, ['ClusterName', 'ServiceName']],
      ['running', 'ECS/ContainerInsights', 'RunningTaskCount', 'Average', 60, ['ClusterName', 'ServiceName']],
    ]);
    expect(stats('RedeployAfterRotationFailed').sort()).toEqual([
      ['errors', 'AWS/Lambda', 'Errors', 'Sum', 300, ['FunctionName']],
      ['failed', 'AWS/Events', 'FailedInvocations', 'Sum', 300, ['RuleName']],
    ]);
    expect(stats('Rollout5xxShare').sort()).toEqual([
      ['errors', 'AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 'Sum', 60, ['LoadBalancer', 'TargetGroup']],
      ['requests', 'AWS/ApplicationELB', 'RequestCount', 'Sum', 60, ['LoadBalancer', 'TargetGroup']],
    ]);
  });
});
