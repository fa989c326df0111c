import { readFileSync } from 'fs';
import * as path from 'path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { DeploymentAlarms, EnvironmentProfile, RolloutStrategy } from '../src';
import { synth } from './helpers';
import { AlarmDefinition, firstAlarmPeriod, MetricDataQuery, Series } from '../tools/alarm-model';

/**
 * The rollback alarm of a traffic-shifting rollout, evaluated as CloudWatch evaluates it (tools/alarm-model.ts) on
 * traffic as the load balancer splits it.
 *
 * Documented behaviour relied on:
 * - A weighted forward action sends each target group a share of the requests in proportion to its weight; the model
 *   gives each target group exactly its share of a steady load.
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions
 * - The target group metrics RequestCount and HTTPCode_Target_5XX_Count carry the TargetGroup dimension and are
 *   published for the periods in which the target group served requests; with none, the period has no datapoint.
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 * - During a canary or linear step, ECS keeps the previous version in the production target group and the new one in
 *   the other; which of the two target groups is which alternates with every deployment.
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html
 */

interface VersionTraffic {
  /** Share of the requests the version gets, in percent. */
  readonly percent: number;
  /** Share of its requests it answers with a 5xx, 0 to 1. */
  readonly failing: number;
}

const MINUTES = 10;

/** Series for the alarm's metrics: the template's target group ids mapped to the version each one serves. */
function trafficSource(requestsPerMinute: number, byTargetGroup: Record<string, VersionTraffic>) {
  return (query: MetricDataQuery): Series => {
    const metric = query.MetricStat!.Metric;
    expect(metric.Namespace).toBe('AWS/ApplicationELB');
    const dimension = metric.Dimensions!.find((d: any) => d.Name === 'TargetGroup');
    const targetGroupId = dimension.Value['Fn::GetAtt'][0];
    const version = byTargetGroup[targetGroupId];
    if (!version) throw new Error(`the alarm watches a target group the test does not know: ${targetGroupId}`);
    const requests = (requestsPerMinute * version.percent) / 100;
    const value =
      metric.MetricName === 'RequestCount'
        ? requests
        : metric.MetricName === 'HTTPCode_Target_5XX_Count'
          ? requests * version.failing
          : undefined;
    if (value === undefined) throw new Error(`unexpected metric ${metric.MetricName}`);
    return Array(MINUTES).fill(value > 0 ? value : undefined);
  };
}

function rolloutOf(strategy: RolloutStrategy) {
  const { template } = synth({ profile: EnvironmentProfile.PROD, service: { rolloutStrategy: strategy } });
  const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const share = alarms.filter((a) => /-Rollout5xxShare$/.test(a.AlarmName));
  expect(share).toHaveLength(1);
  const groups = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')).sort();
  expect(groups).toEqual([expect.stringMatching(/AlternateTargetGroup/), expect.stringMatching(/^ApiTargetGroup/)]);
  const [alternate, primary] = groups;
  return { alarm: share[0] as AlarmDefinition, primary, alternate };
}

/** The first minute the alarm fires while the new version has `percent` of the traffic (ECS then rolls back). */
function firesAt(
  rollout: ReturnType<typeof rolloutOf>,
  requestsPerMinute: number,
  newVersion: VersionTraffic,
  oldFailing: number,
  newOn: 'alternate' | 'primary',
) {
  const oldVersion = { percent: 100 - newVersion.percent, failing: oldFailing };
  const [newGroup, oldGroup] =
    newOn === 'alternate' ? [rollout.alternate, rollout.primary] : [rollout.primary, rollout.alternate];
  return firstAlarmPeriod(
    rollout.alarm,
    trafficSource(requestsPerMinute, { [newGroup]: newVersion, [oldGroup]: oldVersion }),
    MINUTES,
  );
}

const strategies: [string, RolloutStrategy, number][] = [
  ['canary 1 %', RolloutStrategy.canary({ percent: 1 }), 1],
  ['canary 5 % (default)', RolloutStrategy.canary(), 5],
  ['canary 20 %', RolloutStrategy.canary({ percent: 20 }), 20],
  ['linear 3 % steps (first step)', RolloutStrategy.linear({ stepPercent: 3 }), 3],
  ['linear 10 % steps (first step)', RolloutStrategy.linear(), 10],
];

describe.each(strategies)('%s at 2,000 requests a minute', (_name, strategy, percent) => {
  const rollout = rolloutOf(strategy);

  test.each(['alternate', 'primary'] as const)(
    'a new version on the %s target group that fails all its requests is rolled back in the step, after 2 minutes',
    (newOn) => {
      expect(firesAt(rollout, 2000, { percent, failing: 1 }, 0, newOn)).toBe(2);
    },
  );

  test('a healthy new version beside a healthy old one never is', () => {
    expect(firesAt(rollout, 2000, { percent, failing: 0 }, 0, 'alternate')).toBeUndefined();
    expect(firesAt(rollout, 2000, { percent, failing: 0 }, 0, 'primary')).toBeUndefined();
  });

  test('a new version with errors at the threshold share (5 %) is not rolled back; above it, it is', () => {
    expect(firesAt(rollout, 2000, { percent, failing: 0.05 }, 0, 'alternate')).toBeUndefined();
    expect(firesAt(rollout, 2000, { percent, failing: 0.06 }, 0, 'alternate')).toBe(2);
  });

  test('zero traffic never fires it', () => {
    expect(firesAt(rollout, 0, { percent, failing: 1 }, 1, 'alternate')).toBeUndefined();
  });
});

test('below the judging floor of the new version (20 requests a minute on its target group), the step is not judged', () => {
  const rollout = rolloutOf(RolloutStrategy.canary({ percent: 1 }));
  // 1 % of 1,900 is 19 requests a minute on the canary's target group.
  expect(firesAt(rollout, 1900, { percent: 1, failing: 1 }, 0, 'alternate')).toBeUndefined();
  // Once all traffic moved, the same version is judged on its own target group's 1,900 requests.
  expect(firesAt(rollout, 1900, { percent: 100, failing: 1 }, 0, 'alternate')).toBe(2);
});

test('the floor is a prop: minimumRequestsPerMinute 5 judges a 1 % canary from 500 requests a minute', () => {
  const { template } = synth({
    profile: EnvironmentProfile.PROD,
    service: {
      rolloutStrategy: RolloutStrategy.canary({ percent: 1 }),
      deploymentAlarms: DeploymentAlarms.rollbackOnErrors({ minimumRequestsPerMinute: 5 }),
    },
  });
  const [alarm] = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties)
    .filter((a) => /-Rollout5xxShare$/.test(a.AlarmName));
  const groups = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')).sort();
  const source = trafficSource(500, {
    [groups[0]]: { percent: 1, failing: 1 },
    [groups[1]]: { percent: 99, failing: 0 },
  });
  expect(firstAlarmPeriod(alarm, source, MINUTES)).toBe(2);
});

describe('the traffic a step needs to be judged is said at synth time', () => {
  test.each([
    [RolloutStrategy.canary({ percent: 1 }), 'canary of 1 %', 2000],
    [RolloutStrategy.canary(), 'canary of 5 %', 400],
    [RolloutStrategy.linear({ stepPercent: 4 }), 'first linear step of 4 %', 500],
  ])('%s warns with the numbers', (strategy, what, requests) => {
    const { stack } = synth({ profile: EnvironmentProfile.PROD, service: { rolloutStrategy: strategy } });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp(
        `^A ${what} is judged on its own requests from ${requests.toLocaleString('en-US')} requests a minute \\(20 a minute on its target group\\); below that, a failing version is rolled back only after all traffic moved to it\\. .*\\[ack: cdk-fargate-web-service-with-database:stepJudgedFrom\\]$`,
      ),
    );
  });

  test('rolling and blue/green (all traffic at once) do not warn', () => {
    for (const rolloutStrategy of [RolloutStrategy.rolling(), RolloutStrategy.blueGreen()]) {
      const { stack } = synth({ profile: EnvironmentProfile.PROD, service: { rolloutStrategy } });
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('stepJudgedFrom'));
      expect(warnings).toEqual([]);
    }
  });
});

test("docs/rollouts.md's table of the traffic each first step is judged from is the construct's own figure", () => {
  const doc = readFileSync(path.join(__dirname, '..', 'docs', 'rollouts.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| (canary|linear) ([\d.]+) %(?: \(default\))? \| ([\d,]+) requests a minute \|/gm)];
  expect(rows.length).toBe(5);
  for (const [, kind, percent, requests] of rows) {
    const strategy =
      kind === 'canary'
        ? RolloutStrategy.canary({ percent: Number(percent) })
        : RolloutStrategy.linear({ stepPercent: Number(percent) });
    const { stack } = synth({ profile: EnvironmentProfile.PROD, service: { rolloutStrategy: strategy } });
    const [warning] = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('stepJudgedFrom'));
    expect([kind, percent, JSON.stringify(warning.entry.data)]).toEqual([
      kind,
      percent,
      expect.stringContaining(`from ${requests} requests a minute`),
    ]);
  }
});
