import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ProfileDefaults } from './defaults';
import { isKnown, PropChecker, Resolved } from './internal/validation';
import { ScalingOptions } from './props';

/** The scaling settings; no `requestsPerTarget` when the rollout strategy moves traffic between two target groups. */
export type ResolvedScaling = Resolved<ScalingOptions, 'targetMemoryUtilizationPercent' | 'requestsPerTarget'>;

export function resolveScaling(
  check: PropChecker,
  props: ScalingOptions | undefined,
  defaults: ProfileDefaults,
  inputs: {
    /** The rollout strategy (as code) when it moves traffic between two target groups. */
    readonly trafficShiftingStrategy?: string;
  },
): ResolvedScaling {
  const s = props ?? {};
  const shifting = inputs.trafficShiftingStrategy;
  check.refuse(
    shifting !== undefined && s.requestsPerTarget !== undefined,
    `\`scaling.requestsPerTarget\` cannot be combined with \`service.rolloutStrategy\` ${shifting}: request-count scaling follows one target group, and this strategy moves traffic between two. Leave it unset (the service scales on CPU) or use RolloutStrategy.rolling().`,
  );
  check.integer('scaling.minCapacity', s.minCapacity, 1, 1000);
  check.integer('scaling.maxCapacity', s.maxCapacity, 1, 1000);
  const minCapacity = s.minCapacity ?? defaults['ScalingOptions.minCapacity'];
  const maxCapacity =
    s.maxCapacity ?? Math.max(defaults['ScalingOptions.maxCapacity'], isKnown(minCapacity) ? minCapacity : 0);
  check.refuse(
    isKnown(minCapacity) && isKnown(maxCapacity) && maxCapacity < minCapacity,
    `\`scaling.maxCapacity\` must be >= \`scaling.minCapacity\`, got ${maxCapacity} < ${minCapacity}.`,
  );
  check.integer('scaling.targetCpuUtilizationPercent', s.targetCpuUtilizationPercent, 1, 100);
  check.integer('scaling.targetMemoryUtilizationPercent', s.targetMemoryUtilizationPercent, 1, 100);
  check.integer('scaling.requestsPerTarget', s.requestsPerTarget, 1, 1_000_000);
  check.duration('scaling.scaleOutCooldown', s.scaleOutCooldown, 0, 3600);
  check.duration('scaling.scaleInCooldown', s.scaleInCooldown, 0, 3600);
  return {
    minCapacity,
    maxCapacity,
    targetCpuUtilizationPercent:
      s.targetCpuUtilizationPercent ?? defaults['ScalingOptions.targetCpuUtilizationPercent'],
    targetMemoryUtilizationPercent: s.targetMemoryUtilizationPercent,
    // Request-count scaling follows one target group: with two, the service scales on CPU.
    requestsPerTarget: shifting ? undefined : (s.requestsPerTarget ?? defaults['ScalingOptions.requestsPerTarget']),
    scaleOutCooldown: s.scaleOutCooldown ?? defaults['ScalingOptions.scaleOutCooldown'],
    scaleInCooldown: s.scaleInCooldown ?? defaults['ScalingOptions.scaleInCooldown'],
  };
}

/** Target tracking on CPU, on requests per task unless the strategy shifts traffic, and on memory when asked for. */
export function addScaling(
  service: ecs.FargateService,
  targetGroup: elbv2.ApplicationTargetGroup,
  sc: ResolvedScaling,
): ecs.ScalableTaskCount {
  const scaling = service.autoScaleTaskCount({ minCapacity: sc.minCapacity, maxCapacity: sc.maxCapacity });
  const cooldowns = { scaleOutCooldown: sc.scaleOutCooldown, scaleInCooldown: sc.scaleInCooldown };
  scaling.scaleOnCpuUtilization('CpuScaling', {
    targetUtilizationPercent: sc.targetCpuUtilizationPercent,
    ...cooldowns,
  });
  if (sc.requestsPerTarget !== undefined) {
    scaling.scaleOnRequestCount('RequestScaling', {
      requestsPerTarget: sc.requestsPerTarget,
      targetGroup,
      ...cooldowns,
    });
  }
  if (sc.targetMemoryUtilizationPercent !== undefined) {
    scaling.scaleOnMemoryUtilization('MemoryScaling', {
      targetUtilizationPercent: sc.targetMemoryUtilizationPercent,
      ...cooldowns,
    });
  }
  return scaling;
}
