import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { DeploymentAlarms, EnvironmentProfile, RolloutStrategy } from '../src';
import { synth, Synthesized } from './helpers';

const serviceOf = (s: Synthesized) => Object.values<any>(s.template.findResources('AWS::ECS::Service'))[0];
const migrations = { command: ['node', 'dist/migrate-cli.js', 'up'] };

describe.each([
  ['blue/green', RolloutStrategy.blueGreen(), { Strategy: 'BLUE_GREEN', BakeTimeInMinutes: 5 }],
  [
    'canary (defaults: 5 % for 10 minutes)',
    RolloutStrategy.canary(),
    {
      Strategy: 'CANARY',
      BakeTimeInMinutes: 5,
      CanaryConfiguration: { CanaryPercent: 5, CanaryBakeTimeInMinutes: 10 },
    },
  ],
  [
    'canary (10 % for 3 minutes, 2 minutes bake)',
    RolloutStrategy.canary({ percent: 10, canaryBakeTime: Duration.minutes(3), bakeTime: Duration.minutes(2) }),
    {
      Strategy: 'CANARY',
      BakeTimeInMinutes: 2,
      CanaryConfiguration: { CanaryPercent: 10, CanaryBakeTimeInMinutes: 3 },
    },
  ],
  [
    'linear (defaults: 10 % every 6 minutes)',
    RolloutStrategy.linear(),
    { Strategy: 'LINEAR', BakeTimeInMinutes: 5, LinearConfiguration: { StepPercent: 10, StepBakeTimeInMinutes: 6 } },
  ],
  [
    'linear (25 % every minute, no bake)',
    RolloutStrategy.linear({ stepPercent: 25, stepBakeTime: Duration.minutes(1), bakeTime: Duration.minutes(0) }),
    { Strategy: 'LINEAR', BakeTimeInMinutes: 0, LinearConfiguration: { StepPercent: 25, StepBakeTimeInMinutes: 1 } },
  ],
])('%s', (_, strategy, deployment) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ profile: EnvironmentProfile.PROD, service: { rolloutStrategy: strategy }, migrations });
  });

  test('the service uses the strategy with its settings, the circuit breaker and the deployment alarms', () => {
    expect(serviceOf(s).Properties.DeploymentConfiguration).toEqual({
      ...deployment,
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      Alarms: { Enable: true, Rollback: true, AlarmNames: [expect.anything(), expect.anything()] },
      MaximumPercent: 200,
      MinimumHealthyPercent: 100,
    });
  });

  test('a second target group, and a production rule on the serving listener whose weights ECS moves', () => {
    const { template, stack, construct } = s;
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    expect(construct.alternateTargetGroup).toBeDefined();
    const [rule] = Object.values<any>(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    expect(rule.Properties.ListenerArn).toEqual(stack.resolve(construct.listener.listenerArn));
    // The weights are the live ones, read by the production traffic custom resource (100/0 on the first deployment).
    const traffic = stack.getLogicalId(construct.productionTraffic!.node.defaultChild as any);
    expect(rule.Properties.Actions[0].ForwardConfig.TargetGroups).toEqual([
      {
        TargetGroupArn: stack.resolve(construct.targetGroup.targetGroupArn),
        Weight: { 'Fn::GetAtt': [traffic, 'BlueWeight'] },
      },
      {
        TargetGroupArn: stack.resolve(construct.alternateTargetGroup!.targetGroupArn),
        Weight: { 'Fn::GetAtt': [traffic, 'GreenWeight'] },
      },
    ]);
    const [lb] = serviceOf(s).Properties.LoadBalancers;
    expect(lb).toMatchObject({
      TargetGroupArn: stack.resolve(construct.targetGroup.targetGroupArn),
      AdvancedConfiguration: {
        AlternateTargetGroupArn: stack.resolve(construct.alternateTargetGroup!.targetGroupArn),
        ProductionListenerRule: { Ref: expect.stringMatching(/^ApiProductionRule/) },
      },
    });
  });

  test('the migration gate still runs once before the service is touched', () => {
    const [gateId] = Object.keys(s.template.findResources('Custom::MigrationGate'));
    expect(serviceOf(s).DependsOn).toContain(gateId);
  });

  test('the rollback alarms and the service alarms watch both target groups', () => {
    const { template, stack, construct } = s;
    const both = [construct.targetGroup, construct.alternateTargetGroup!].map((tg) =>
      JSON.stringify(stack.resolve(tg.targetGroupFullName)),
    );
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const id of ['Rollout5xxShare', 'RolloutUnhealthyHosts', 'Target5xx', 'UnhealthyHosts']) {
      const alarm = JSON.stringify(alarms.find((a) => JSON.stringify(a.AlarmName).includes(`-${id}`)));
      expect([id, both.every((tg) => alarm.includes(tg))]).toEqual([id, true]);
    }
    // p99 latency cannot be added up: the load balancer's own figure covers both target groups.
    const latency = alarms.find((a) => JSON.stringify(a.AlarmName).includes('-LatencyP99'));
    expect(latency.Dimensions.map((d: any) => d.Name)).toEqual(['LoadBalancer']);
  });

  test('the service scales on CPU only: request-count scaling would follow one target group', () => {
    const policies = Object.keys(s.template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    expect(policies.some((id) => id.includes('CpuScaling'))).toBe(true);
    expect(policies.some((id) => id.includes('RequestScaling'))).toBe(false);
  });
});

describe('rolling (the default)', () => {
  test('one target group, no listener rule, no strategy settings, and request-count scaling', () => {
    const s = synth({ profile: EnvironmentProfile.PROD });
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    const config = serviceOf(s).Properties.DeploymentConfiguration;
    expect(config.Strategy).toBeUndefined();
    expect(config.BakeTimeInMinutes).toBeUndefined();
    expect(s.construct.alternateTargetGroup).toBeUndefined();
    const policies = Object.keys(s.template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    expect(policies.some((id) => id.includes('RequestScaling'))).toBe(true);
  });
});

describe('bad strategy settings are synth-time errors naming the prop', () => {
  test.each([
    [
      'a canary share that is not a tenth of a percent',
      RolloutStrategy.canary({ percent: 2.55 }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.canary())` percent must be a multiple of 0.1 from 0.1 to 100 (percent of production traffic), got 2.55.',
    ],
    [
      'a canary share of 0',
      RolloutStrategy.canary({ percent: 0 }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.canary())` percent must be a multiple of 0.1 from 0.1 to 100 (percent of production traffic), got 0.',
    ],
    [
      'a linear step under 3 %',
      RolloutStrategy.linear({ stepPercent: 2 }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.linear())` stepPercent must be a multiple of 0.1 from 3 to 100 (percent of production traffic), got 2.',
    ],
    [
      'a step bake time that is not whole minutes',
      RolloutStrategy.linear({ stepBakeTime: Duration.seconds(90) }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.linear())` stepBakeTime must be whole minutes from 0 to 1440, got 1 minute 30 seconds.',
    ],
    [
      'a bake time over a day',
      RolloutStrategy.blueGreen({ bakeTime: Duration.minutes(1441) }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.blueGreen())` bakeTime must be whole minutes from 0 to 1440, got 1 day 1 minute.',
    ],
    [
      'a linear rollout CloudFormation would refuse (over 33 hours)',
      RolloutStrategy.linear({ stepPercent: 5, stepBakeTime: Duration.minutes(120) }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.linear())` would take 2285 minutes of bake time, more than the 1980 CloudFormation accepts for one deployment (33 hours); shorten the bake times or take larger steps.',
    ],
    [
      'a linear rollout of 11 % steps one minute over 33 hours (9 step bakes: the floor of 100 / 11)',
      RolloutStrategy.linear({ stepPercent: 11, stepBakeTime: Duration.minutes(220) }),
      'Test/Api: `service.rolloutStrategy (RolloutStrategy.linear())` would take 1985 minutes of bake time, more than the 1980 CloudFormation accepts for one deployment (33 hours); shorten the bake times or take larger steps.',
    ],
  ])('%s', (_, rolloutStrategy, message) => {
    expect(() => synth({ service: { rolloutStrategy } })).toThrow(message);
  });

  // CloudFormation's formula (AWS::ECS::Service LinearConfiguration): BakeTimeInMinutes + StepBakeTimeInMinutes x
  // steps, where steps is 100 / StepPercent - 1 when it divides evenly, else the floor of 100 / StepPercent: no step
  // bake after the shift that reaches 100 %.
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html
  test.each([
    [10, 219, 9 * 219 + 5],
    [11, 219, 9 * 219 + 5],
    [33.4, 900, 2 * 900 + 5],
  ])(
    'a linear rollout of %s %% steps of %s minutes (%s minutes by the formula of CloudFormation) is accepted',
    (stepPercent, minutes, total) => {
      expect(total).toBeLessThanOrEqual(1980);
      expect(() =>
        synth({
          service: {
            rolloutStrategy: RolloutStrategy.linear({ stepPercent, stepBakeTime: Duration.minutes(minutes) }),
          },
        }),
      ).not.toThrow();
    },
  );

  test('request-count scaling with a traffic-shifting strategy names both props', () => {
    expect(() =>
      synth({ service: { rolloutStrategy: RolloutStrategy.canary() }, scaling: { requestsPerTarget: 500 } }),
    ).toThrow(
      'Test/Api: `scaling.requestsPerTarget` cannot be combined with `service.rolloutStrategy` RolloutStrategy.canary(): request-count scaling follows one target group, and this strategy moves traffic between two. Leave it unset (the service scales on CPU) or use RolloutStrategy.rolling().',
    );
  });

  test('a traffic-shifting strategy without deployment alarms warns: nothing watches the bake time', () => {
    const { stack } = synth({
      service: { rolloutStrategy: RolloutStrategy.blueGreen(), deploymentAlarms: DeploymentAlarms.none() },
    });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp('nothing rolls a version back during its bake time but the circuit breaker'),
    );
  });
});
