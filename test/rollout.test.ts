import { Alarms, DeploymentAlarms, EnvironmentProfile } from '../src';
import { defaultStack, onlyResource, synth } from './helpers';

const rolloutAlarms = (template: any) =>
  Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties)
    .filter((a) => /-Rollout/.test(a.AlarmName));

describe('deployment alarms: a version that serves errors is rolled back', () => {
  test.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])(
    '%s: ECS watches the 5xx share and unhealthy hosts during a deployment and rolls back on ALARM',
    (profile) => {
      const { template, construct, stack } = defaultStack(profile);
      const service = onlyResource(template, 'AWS::ECS::Service');
      expect(construct.deploymentAlarms).toHaveLength(2);
      const alarmIds = construct.deploymentAlarms.map((a) => stack.getLogicalId(a.node.defaultChild as any));
      expect(service.props.DeploymentConfiguration.Alarms).toEqual({
        AlarmNames: alarmIds.map((id) => ({ Ref: id })),
        Enable: true,
        Rollback: true,
      });
      expect(
        rolloutAlarms(template)
          .map((a) => a.AlarmName)
          .sort(),
      ).toEqual([expect.stringMatching(/-Rollout5xxShare$/), expect.stringMatching(/-RolloutUnhealthyHosts$/)]);
    },
  );

  test('the 5xx share is judged only from 20 requests a minute, so zero traffic can never fire it', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    const share = rolloutAlarms(template).find((a) => /5xxShare$/.test(a.AlarmName));
    const expression = share.Metrics.find((m: any) => m.Expression).Expression;
    expect(expression).toBe('IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)');
    expect(share).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    const ids = share.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat.Metric.MetricName]);
    expect(ids.sort()).toEqual([
      ['errors', 'HTTPCode_Target_5XX_Count'],
      ['requests', 'RequestCount'],
    ]);
  });

  test('thresholds are props', () => {
    const { template } = synth({
      service: {
        deploymentAlarms: DeploymentAlarms.rollbackOnErrors({
          target5xxPercent: 2,
          minimumRequestsPerMinute: 100,
          unhealthyHostCount: 2,
        }),
      },
    });
    const [share, hosts] = rolloutAlarms(template).sort((a, b) => a.AlarmName.localeCompare(b.AlarmName));
    expect(share.Threshold).toBe(2);
    expect(share.Metrics.find((m: any) => m.Expression).Expression).toContain('requests >= 100');
    expect(hosts).toMatchObject({ Threshold: 2, EvaluationPeriods: 2 });
  });

  test('they notify the alarm topic, and with Alarms.none() nothing but ECS', () => {
    const withTopic = rolloutAlarms(defaultStack(EnvironmentProfile.DEV).template);
    for (const alarm of withTopic) expect(alarm.AlarmActions).toHaveLength(1);
    const silent = rolloutAlarms(synth({ monitoring: { alarms: Alarms.none() } }).template);
    expect(silent).toHaveLength(2);
    for (const alarm of silent) expect(alarm.AlarmActions).toBeUndefined();
  });

  test('DeploymentAlarms.none() leaves the circuit breaker alone', () => {
    const { template, construct } = synth({ service: { deploymentAlarms: DeploymentAlarms.none() } });
    expect(construct.deploymentAlarms).toEqual([]);
    expect(rolloutAlarms(template)).toEqual([]);
    expect(onlyResource(template, 'AWS::ECS::Service').props.DeploymentConfiguration.Alarms).toEqual({
      AlarmNames: [],
      Enable: false,
      Rollback: false,
    });
  });
});
