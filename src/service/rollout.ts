import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { DeploymentAlarms } from './deployment-alarms';
import { ProfileDefaults } from '../defaults';
import { PropChecker } from '../internal/validation';
import { AlarmDefinition, createAlarm } from '../monitoring/alarm';
import { ServiceMetrics } from '../monitoring/metrics';

/** The rollback alarms' settings, or undefined when the circuit breaker alone rolls back. */
export interface ResolvedRollout {
  readonly rollback?: {
    readonly target5xxPercent: number;
    readonly minimumRequestsPerMinute: number;
    readonly unhealthyHostCount: number;
  };
}

export function resolveRollout(
  check: PropChecker,
  choice: DeploymentAlarms | undefined,
  defaults: ProfileDefaults,
): ResolvedRollout {
  const alarms = choice ?? defaults['ServiceOptions.deploymentAlarms'];
  const r = alarms._rollback;
  if (!r) return {};
  check.integer('service.deploymentAlarms.target5xxPercent', r.target5xxPercent, 1, 100);
  check.integer('service.deploymentAlarms.minimumRequestsPerMinute', r.minimumRequestsPerMinute, 1, 1_000_000);
  check.integer('service.deploymentAlarms.unhealthyHostCount', r.unhealthyHostCount, 1, 1000);
  return {
    rollback: {
      target5xxPercent: r.target5xxPercent ?? defaults['RollbackAlarmOptions.target5xxPercent'],
      minimumRequestsPerMinute: r.minimumRequestsPerMinute ?? defaults['RollbackAlarmOptions.minimumRequestsPerMinute'],
      unhealthyHostCount: r.unhealthyHostCount ?? defaults['RollbackAlarmOptions.unhealthyHostCount'],
    },
  };
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
