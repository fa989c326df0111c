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
  return {
    strategy,
    rollback: {
      target5xxPercent: r.target5xxPercent ?? defaults['RollbackAlarmOptions.target5xxPercent'],
      minimumRequestsPerMinute: r.minimumRequestsPerMinute ?? defaults['RollbackAlarmOptions.minimumRequestsPerMinute'],
      unhealthyHostCount: r.unhealthyHostCount ?? defaults['RollbackAlarmOptions.unhealthyHostCount'],
    },
  };
}

function resolveStrategy(check: PropChecker, choice: RolloutStrategy, defaults: ProfileDefaults): ResolvedStrategy {
  const kind = choice._kind;
  if (kind === 'rolling') return { kind, shiftsTraffic: false };
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
      longest += Math.ceil(100 / linear.stepPercent) * linear.stepBakeTime.toMinutes();
    }
  }
  check.refuse(
    longest > LONGEST_SHIFT_MINUTES,
    `\`${prop}\` would take ${longest} minutes of bake time, more than the ${LONGEST_SHIFT_MINUTES} CloudFormation accepts for one deployment (33 hours); shorten the bake times or take larger steps.`,
  );
  return { kind, shiftsTraffic: true, bakeTime, canary, linear };
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
  const errorShare = new cloudwatch.MathExpression({
    expression: `IF(requests >= ${r.minimumRequestsPerMinute}, 100 * FILL(errors, 0) / requests, 0)`,
    usingMetrics: {
      errors: inputs.metrics.target5xx.with({ period: minute }),
      requests: inputs.metrics.targetRequests.with({ period: minute }),
    },
    label: 'Target 5xx share (%)',
    period: minute,
  });
  const definitions: AlarmDefinition[] = [
    {
      id: 'Rollout5xxShare',
      description: `More than ${r.target5xxPercent} % of the requests (at ${r.minimumRequestsPerMinute} or more a minute) got a 5xx from the tasks in 2 of 3 minutes: ECS rolls a running deployment back.`,
      metric: errorShare,
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
