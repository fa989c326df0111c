import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { DeploymentAlarms } from './deployment-alarms';
import { RolloutKind, RolloutStrategy } from './rollout-strategy';
import { ProfileDefaults } from '../defaults';
import { isKnown, PropChecker } from '../internal/validation';
import { AlarmDefinition, createAlarm } from '../monitoring/alarm';
import { ServiceMetrics } from '../monitoring/metrics';

/** ECS's strategy with its settings; traffic-shifting strategies need a second target group. */
export interface ResolvedStrategy {
  readonly kind: RolloutKind;
  readonly shiftsTraffic: boolean;
  readonly bakeTime?: Duration;
  readonly canary?: { readonly percent: number; readonly bakeTime: Duration };
  readonly linear?: { readonly stepPercent: number; readonly stepBakeTime: Duration };
  /** Minutes of bake time one deployment waits at most, by CloudFormation's formula (0 for rolling). */
  readonly bakeMinutes: number;
}

/** The rollout: the strategy, and the rollback alarms' settings (undefined when the circuit breaker alone rolls back). */
export interface ResolvedRollout {
  readonly strategy: ResolvedStrategy;
  readonly rollback?: {
    readonly target5xxPercent: number;
    readonly minimumRequestsPerMinute: number;
    readonly unhealthyHostCount: number;
  };
}

/** CloudFormation refuses a traffic-shifting deployment it computes to last over 33 hours. */
const LONGEST_SHIFT_MINUTES = 33 * 60;

/**
 * How many step bake times a linear rollout waits, by CloudFormation's formula: 100 / stepPercent - 1 when the step
 * divides 100 evenly, else the floor of 100 / stepPercent (no step bake after the shift that reaches 100 %).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html
 */
export function linearStepBakes(stepPercent: number): number {
  // Steps are tenths of a percent: compare in tenths so 100 / 3.3 is not taken for a whole number by rounding.
  const tenths = Math.round(stepPercent * 10);
  return 1000 % tenths === 0 ? 1000 / tenths - 1 : Math.floor(1000 / tenths);
}

export function resolveRollout(
  check: PropChecker,
  scope: Construct,
  choice: DeploymentAlarms | undefined,
  strategyChoice: RolloutStrategy | undefined,
  defaults: ProfileDefaults,
): ResolvedRollout {
  const strategyChosen = strategyChoice ?? defaults['ServiceOptions.rolloutStrategy'];
  const strategy = resolveStrategy(check, strategyChosen, defaults);
  const alarms = choice ?? defaults['ServiceOptions.deploymentAlarms'];
  const r = alarms._rollback;
  if (!r) {
    if (strategy.shiftsTraffic) {
      Annotations.of(scope).addWarningV2(
        'cdk-fargate-web-service-with-database:rolloutWithoutAlarms',
        `\`service.rolloutStrategy\` ${strategyChosen} with \`service.deploymentAlarms\` ${alarms}: nothing rolls a version back during its bake time but the circuit breaker; keep DeploymentAlarms.rollbackOnErrors().`,
      );
    }
    return { strategy };
  }
  check.integer('service.deploymentAlarms.target5xxPercent', r.target5xxPercent, 1, 100);
  check.integer('service.deploymentAlarms.minimumRequestsPerMinute', r.minimumRequestsPerMinute, 1, 1_000_000);
  check.integer('service.deploymentAlarms.unhealthyHostCount', r.unhealthyHostCount, 1, 1000);
  const rollback = {
    target5xxPercent: r.target5xxPercent ?? defaults['RollbackAlarmOptions.target5xxPercent'],
    minimumRequestsPerMinute: r.minimumRequestsPerMinute ?? defaults['RollbackAlarmOptions.minimumRequestsPerMinute'],
    unhealthyHostCount: r.unhealthyHostCount ?? defaults['RollbackAlarmOptions.unhealthyHostCount'],
  };
  warnWhereAStepIsJudgedFrom(scope, strategy, rollback.minimumRequestsPerMinute);
  return { strategy, rollback };
}

/** The traffic from which the first step of a canary or linear rollout is judged on its own requests. */
export function trafficToJudgeFirstStep(
  strategy: ResolvedStrategy,
  minimumRequestsPerMinute: number,
): { readonly what: string; readonly percent: number; readonly requestsPerMinute: number } | undefined {
  const first = strategy.canary
    ? { what: 'canary', percent: strategy.canary.percent }
    : strategy.linear
      ? { what: 'first linear step', percent: strategy.linear.stepPercent }
      : undefined;
  if (!first || !isKnown(first.percent) || !isKnown(minimumRequestsPerMinute)) return undefined;
  return { ...first, requestsPerMinute: Math.ceil((minimumRequestsPerMinute * 100) / first.percent) };
}

function warnWhereAStepIsJudgedFrom(scope: Construct, strategy: ResolvedStrategy, minimum: number): void {
  const judged = trafficToJudgeFirstStep(strategy, minimum);
  if (!judged) return;
  Annotations.of(scope).addWarningV2(
    'cdk-fargate-web-service-with-database:stepJudgedFrom',
    `A ${judged.what} of ${judged.percent} % is judged on its own requests from ${judged.requestsPerMinute.toLocaleString('en-US')} requests a minute (${minimum} a minute on its target group); below that, a failing version is rolled back only after all traffic moved to it. Lower \`service.deploymentAlarms\` minimumRequestsPerMinute or take a larger first step to judge it sooner.`,
  );
}

function resolveStrategy(check: PropChecker, choice: RolloutStrategy, defaults: ProfileDefaults): ResolvedStrategy {
  const kind = choice._kind;
  if (kind === 'rolling') return { kind, shiftsTraffic: false, bakeMinutes: 0 };
  const o = choice._options;
  const prop = `service.rolloutStrategy (${choice})`;
  const wholeMinutes = (name: string, value: Duration | undefined) => {
    if (value === undefined || value.isUnresolved()) return;
    const seconds = value.toSeconds();
    check.refuse(
      seconds % 60 !== 0 || seconds < 0 || seconds > 1440 * 60,
      `\`${prop}\` ${name} must be whole minutes from 0 to 1440, got ${value.toHumanString()}.`,
    );
  };
  const tenths = (name: string, value: number | undefined, min: number) => {
    if (!isKnown(value)) return;
    check.refuse(
      typeof value !== 'number' ||
        value! < min ||
        value! > 100 ||
        Math.abs(Math.round(value! * 10) - value! * 10) > 1e-9,
      `\`${prop}\` ${name} must be a multiple of 0.1 from ${min} to 100 (percent of production traffic), got ${value}.`,
    );
  };
  wholeMinutes('bakeTime', o.bakeTime);
  const bakeTime = o.bakeTime ?? defaults['TrafficShiftBakeOptions.bakeTime'];
  let canary: ResolvedStrategy['canary'];
  let linear: ResolvedStrategy['linear'];
  let longest = bakeTime.isUnresolved() ? 0 : bakeTime.toMinutes();
  if (kind === 'canary') {
    tenths('percent', o.percent, 0.1);
    wholeMinutes('canaryBakeTime', o.canaryBakeTime);
    canary = {
      percent: o.percent ?? defaults['CanaryOptions.percent'],
      bakeTime: o.canaryBakeTime ?? defaults['CanaryOptions.canaryBakeTime'],
    };
    if (!canary.bakeTime.isUnresolved()) longest += canary.bakeTime.toMinutes();
  } else if (kind === 'linear') {
    tenths('stepPercent', o.stepPercent, 3);
    wholeMinutes('stepBakeTime', o.stepBakeTime);
    linear = {
      stepPercent: o.stepPercent ?? defaults['LinearOptions.stepPercent'],
      stepBakeTime: o.stepBakeTime ?? defaults['LinearOptions.stepBakeTime'],
    };
    if (!linear.stepBakeTime.isUnresolved() && isKnown(linear.stepPercent)) {
      longest += linearStepBakes(linear.stepPercent) * linear.stepBakeTime.toMinutes();
    }
  }
  check.refuse(
    longest > LONGEST_SHIFT_MINUTES,
    `\`${prop}\` would take ${longest} minutes of bake time, more than the ${LONGEST_SHIFT_MINUTES} CloudFormation accepts for one deployment (33 hours); shorten the bake times or take larger steps.`,
  );
  return { kind, shiftsTraffic: true, bakeTime, canary, linear, bakeMinutes: longest };
}

/**
 * The deployment alarms: a 5xx share that is judged only above a minimum of requests (so zero traffic can never fire
 * it) and unhealthy targets. ECS watches them during every deployment and rolls back on ALARM; they also notify the
 * alarm topic, when there is one.
 */
export function addDeploymentAlarms(
  scope: Construct,
  rollout: ResolvedRollout,
  inputs: {
    readonly service: ecs.FargateService;
    readonly metrics: ServiceMetrics;
    readonly action?: cloudwatch.IAlarmAction;
  },
): cloudwatch.Alarm[] {
  const r = rollout.rollback;
  if (!r) return [];
  const minute = Duration.minutes(1);
  const definitions: AlarmDefinition[] = [
    {
      id: 'Rollout5xxShare',
      description: `More than ${r.target5xxPercent} % of a version's requests got a 5xx from its tasks in 2 of 3 minutes, judged on each target group's own requests from ${r.minimumRequestsPerMinute} a minute: ECS rolls a running deployment back.`,
      metric: errorShareOfWorstTargetGroup(inputs.metrics, r.minimumRequestsPerMinute, minute),
      threshold: r.target5xxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    },
    {
      id: 'RolloutUnhealthyHosts',
      description: `${r.unhealthyHostCount} or more targets failed the health check for 2 minutes: ECS rolls a running deployment back.`,
      metric: inputs.metrics.unhealthyHosts.with({ period: minute }),
      threshold: r.unhealthyHostCount,
      evaluationPeriods: 2,
    },
  ];
  const alarms = definitions.map((definition) => createAlarm(scope, definition, inputs.action));
  inputs.service.enableDeploymentAlarms(
    alarms.map((a) => a.alarmName),
    { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
  );
  return alarms;
}

/**
 * The 5xx share of the target group that does worst. With one target group, its share. With two (a canary or linear
 * step), each version is judged on its own target group's requests: summed over both, a canary that fails every
 * request at 5 % of the traffic would be exactly 5 % of the total and never exceed a 5 % threshold. A target group is
 * judged only from `minimum` requests a minute, so a handful of requests (or none, between deployments) never fires.
 */
function errorShareOfWorstTargetGroup(
  metrics: ServiceMetrics,
  minimum: number,
  period: Duration,
): cloudwatch.MathExpression {
  const [only, ...others] = metrics.targetGroups;
  if (others.length === 0) {
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minimum}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: { errors: only.target5xx.with({ period }), requests: only.requests.with({ period }) },
      label: 'Target 5xx share (%)',
      period,
    });
  }
  // FILL keeps a target group without requests (the idle one between steps) at 0 instead of a missing point, which
  // would make the comparison below missing too.
  const shares = Object.fromEntries(
    metrics.targetGroups.map((tg) => [
      `share${tg.name}`,
      new cloudwatch.MathExpression({
        expression: `IF(FILL(requests${tg.name}, 0) >= ${minimum}, 100 * FILL(errors${tg.name}, 0) / FILL(requests${tg.name}, 0), 0)`,
        usingMetrics: {
          [`errors${tg.name}`]: tg.target5xx.with({ period }),
          [`requests${tg.name}`]: tg.requests.with({ period }),
        },
        label: `Target 5xx share, ${tg.name} (%)`,
        period,
      }),
    ]),
  );
  const [a, b] = Object.keys(shares);
  return new cloudwatch.MathExpression({
    expression: `IF(${a} > ${b}, ${a}, ${b})`,
    usingMetrics: shares,
    label: 'Target 5xx share of the worse target group (%)',
    period,
  });
}
