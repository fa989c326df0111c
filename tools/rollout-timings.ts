/**
 * Rollout timings read from a synthesized template: how long a good rollout takes at least, how soon a bad one is
 * rolled back, how soon an unhealthy task leaves the load balancer, how soon scale-out reacts. Each figure is computed
 * from the template's own values, and the formula is printed beside it. scripts/readouts.ts prints them.
 *
 * What the template cannot say (how long the image takes to pull and the app to start, CloudWatch's publishing delay
 * of about a minute) is named in the formula rather than guessed.
 */

import { linearStepBakes } from '../src/service/rollout';

interface Resource {
  readonly Type: string;
  readonly Properties?: any;
}

export interface Timing {
  readonly name: string;
  /** Seconds the template's values add up to. */
  readonly seconds: number;
  /** How the figure is made, with the template's values in it. */
  readonly formula: string;
}

const ofType = (template: { Resources: Record<string, Resource> }, type: string) =>
  Object.values(template.Resources).filter((r) => r.Type === type);

const num = (value: unknown, fallback: number): number => (value === undefined ? fallback : Number(value));

export function rolloutTimings(template: { Resources: Record<string, Resource> }): Timing[] {
  const timings: Timing[] = [];
  const targetGroup = ofType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0]?.Properties ?? {};
  const service = ofType(template, 'AWS::ECS::Service')[0]?.Properties ?? {};
  const interval = num(targetGroup.HealthCheckIntervalSeconds, 30);
  const healthy = num(targetGroup.HealthyThresholdCount, 5);
  const unhealthy = num(targetGroup.UnhealthyThresholdCount, 2);
  const drain = num(
    (targetGroup.TargetGroupAttributes ?? []).find((a: any) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
    300,
  );
  const gate = ofType(template, 'Custom::MigrationGate').length > 0;

  // Traffic-shifting strategies wait at each step and keep the old version for the bake time.
  const config = service.DeploymentConfiguration ?? {};
  const bake = num(config.BakeTimeInMinutes, 0) * 60;
  let shift = { seconds: 0, formula: '' };
  if (config.Strategy === 'CANARY') {
    const c = config.CanaryConfiguration ?? {};
    const wait = num(c.CanaryBakeTimeInMinutes, 10) * 60;
    shift = { seconds: wait, formula: ` + canary ${num(c.CanaryPercent, 5)} % for ${wait} s` };
  } else if (config.Strategy === 'LINEAR') {
    const l = config.LinearConfiguration ?? {};
    const bakes = linearStepBakes(num(l.StepPercent, 10));
    const wait = num(l.StepBakeTimeInMinutes, 6) * 60;
    shift = {
      seconds: bakes * wait,
      formula: ` + ${bakes} step bakes of ${wait} s (steps of ${num(l.StepPercent, 10)} %, none after the last)`,
    };
  }
  const strategy =
    config.Strategy && config.Strategy !== 'ROLLING' ? config.Strategy.toLowerCase().replace('_', '/') : undefined;
  const rolloutSeconds = healthy * interval + shift.seconds + bake + drain;
  const rolloutFormula = `healthy threshold ${healthy} x interval ${interval} s${shift.formula}${strategy ? ` + ${strategy} bake time ${bake} s` : ''} + deregistration delay ${drain} s`;
  timings.push({
    name: 'a good rollout takes at least',
    seconds: rolloutSeconds,
    formula: `task start + ${gate ? 'migration task + ' : ''}${rolloutFormula}`,
  });

  const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map((a) => a.Properties);
  const deploymentAlarms = service.DeploymentConfiguration?.Alarms;
  if (deploymentAlarms?.Enable && deploymentAlarms?.Rollback) {
    const share = alarms.find((a) => /Rollout5xxShare$/.test(String(a.AlarmName)));
    if (share) {
      const period = num(share.Metrics?.find((m: any) => m.Expression)?.Period, 60);
      const points = num(share.DatapointsToAlarm, num(share.EvaluationPeriods, 1));
      timings.push({
        name: 'a version that serves 5xx is rolled back after',
        seconds: points * period,
        formula: `${points} of ${share.EvaluationPeriods} periods of ${period} s above ${share.Threshold} % + CloudWatch's publishing delay`,
      });
      const firstStep =
        config.Strategy === 'CANARY'
          ? { what: 'a canary', percent: num(config.CanaryConfiguration?.CanaryPercent, 5) }
          : config.Strategy === 'LINEAR'
            ? { what: 'a first linear step', percent: num(config.LinearConfiguration?.StepPercent, 10) }
            : undefined;
      const floor = /FILL\(requests\w+, 0\) >= (\d+)/.exec(
        (share.Metrics ?? []).map((m: any) => m.Expression ?? '').join(' '),
      );
      if (firstStep && floor) {
        const minimum = Number(floor[1]);
        const requests = Math.ceil((minimum * 100) / firstStep.percent);
        timings.push({
          name: `${firstStep.what} failing all its requests is rolled back after`,
          seconds: points * period,
          formula: `${points} of ${share.EvaluationPeriods} periods of ${period} s on its own target group, from ${requests} requests a minute (${minimum} a minute on its ${firstStep.percent} %) + CloudWatch's publishing delay`,
        });
      }
    }
    const hosts = alarms.find((a) => /RolloutUnhealthyHosts$/.test(String(a.AlarmName)));
    if (hosts) {
      const period = num(hosts.Period, 60);
      timings.push({
        name: 'a version that fails its health checks is rolled back after',
        seconds: unhealthy * interval + num(hosts.EvaluationPeriods, 1) * period,
        formula: `unhealthy threshold ${unhealthy} x interval ${interval} s + ${hosts.EvaluationPeriods} periods of ${period} s + CloudWatch's publishing delay`,
      });
    }
  }
  if (service.DeploymentConfiguration?.DeploymentCircuitBreaker?.Rollback) {
    const desired = num(service.DesiredCount, 1);
    const failures = Math.min(Math.max(Math.ceil(desired / 2), 3), 200);
    const grace = num(service.HealthCheckGracePeriodSeconds, 0);
    timings.push({
      name: 'tasks that never become healthy are rolled back after',
      seconds: failures * (grace + unhealthy * interval),
      formula: `circuit breaker threshold ${failures} failed tasks (half the desired ${desired}, at least 3) x (task start + grace period ${grace} s + unhealthy threshold ${unhealthy} x interval ${interval} s)`,
    });
  }
  timings.push({
    name: 'an unhealthy task stops receiving traffic after',
    seconds: unhealthy * interval,
    formula: `unhealthy threshold ${unhealthy} x interval ${interval} s; ECS then replaces it`,
  });

  const scaleOut = ofType(template, 'AWS::ApplicationAutoScaling::ScalingPolicy')
    .map((p) => p.Properties?.TargetTrackingScalingPolicyConfiguration)
    .filter(Boolean);
  if (scaleOut.length > 0) {
    const cooldown = Math.min(...scaleOut.map((c: any) => num(c.ScaleOutCooldown, 300)));
    timings.push({
      name: 'scale-out starts a task after',
      seconds: 3 * 60,
      formula: `target tracking's alarm: 3 periods of 60 s above the target + CloudWatch's publishing delay; the next step after the scale-out cooldown ${cooldown} s`,
    });
  }

  // Credential rotation: the redeploy after each rotation of the app's secret, and how long the previous login lasts.
  const redeployRule = ofType(template, 'AWS::Events::Rule').find(
    (r) => r.Properties?.EventPattern?.['detail-type']?.[0] === 'Secret Label Updated',
  );
  const appSecret = JSON.stringify(redeployRule?.Properties?.EventPattern?.resources?.[0]);
  const appRotation = ofType(template, 'AWS::SecretsManager::RotationSchedule').find(
    (r) => JSON.stringify(r.Properties?.SecretId) === appSecret,
  );
  const rate = /^rate\((\d+) days?\)$/.exec(String(appRotation?.Properties?.RotationRules?.ScheduleExpression));
  if (redeployRule && rate) {
    timings.push({
      name: 'after a rotation, every task has the new login after',
      seconds: rolloutSeconds,
      formula: `EventBridge delivery (seconds) + a forced deployment: task start + ${rolloutFormula}`,
    });
    timings.push({
      name: 'the previous login keeps working for',
      seconds: Number(rate[1]) * 86400,
      formula: `until the next rotation changes its password: ${rate[0]} (the alternating-users rotation)`,
    });
  }
  // Database failover (Multi-AZ): what AWS documents, per choice. Not computed from the template's values: the figures
  // are AWS's, and the template only says which choice applies.
  const instance = ofType(template, 'AWS::RDS::DBInstance').find((r) => !r.Properties?.DBClusterIdentifier)?.Properties;
  const cluster = ofType(template, 'AWS::RDS::DBCluster')[0]?.Properties;
  if (cluster) {
    const members = ofType(template, 'AWS::RDS::DBInstance').filter((r) => r.Properties?.DBClusterIdentifier);
    const proxied = ofType(template, 'AWS::RDS::DBProxy').length > 0;
    if (members.length > 1) {
      timings.push({
        name: `an Aurora failover to a reader${proxied ? ' behind RDS Proxy' : ''} interrupts the database for up to`,
        seconds: proxied
          ? Math.round(AURORA_FAILOVER_SECONDS * (1 - PROXY_FAILOVER_REDUCTION))
          : AURORA_FAILOVER_SECONDS,
        formula: `${AURORA_FAILOVER_SECONDS} s ("start-to-finish, failover typically completes within 30 seconds", Amazon Aurora FAQs)${proxied ? `, less up to ${PROXY_FAILOVER_REDUCTION * 100} % behind RDS Proxy ("Amazon RDS Proxy" product page)` : '; the writer endpoint moves to the promoted reader'}`,
      });
    } else {
      timings.push({
        name: 'an Aurora writer without a reader is replaced after up to',
        seconds: AURORA_REPLACE_SECONDS,
        formula: `about 10 minutes: Aurora creates a new writer in the same Availability Zone ("typically completes in under 10 minutes", Amazon Aurora FAQs); add a reader (\`readers\`) for a 30 s failover`,
      });
    }
    if (cluster.ServerlessV2ScalingConfiguration?.MinCapacity === 0) {
      timings.push({
        name: 'the first connection after a pause waits up to',
        seconds: AURORA_RESUME_SECONDS,
        formula: `Aurora Serverless v2 at 0 ACUs resumes in up to about ${AURORA_RESUME_SECONDS} s (Aurora User Guide, "Scaling to Zero ACUs with automatic pause and resume"); it pauses after ${cluster.ServerlessV2ScalingConfiguration.SecondsUntilAutoPause ?? 300} s without connections`,
      });
    }
  }
  if (instance?.MultiAZ === true) {
    const proxied = ofType(template, 'AWS::RDS::DBProxy').length > 0;
    timings.push(
      proxied
        ? {
            name: 'a Multi-AZ failover behind RDS Proxy interrupts new queries for up to',
            seconds: Math.round(MULTI_AZ_FAILOVER_SECONDS * (1 - PROXY_FAILOVER_REDUCTION)),
            formula: `the instance's ${MULTI_AZ_FAILOVER_SECONDS} s less up to ${PROXY_FAILOVER_REDUCTION * 100} % (RDS Proxy keeps the tasks' connections open and routes them to the new primary without waiting for DNS; "Amazon RDS Proxy" product page, up to 66 % faster failover)`,
          }
        : {
            name: 'a Multi-AZ failover interrupts the database for up to',
            seconds: MULTI_AZ_FAILOVER_SECONDS,
            formula: `60 to ${MULTI_AZ_FAILOVER_SECONDS} s ("typically complete within 60-120 seconds", RDS User Guide, Failover process for Amazon RDS); the tasks' pools reconnect to the same endpoint once DNS moves`,
          },
    );
  }
  return timings;
}

/** RDS User Guide, "Failover process for Amazon RDS": Multi-AZ instance failovers typically complete within 60-120 s. */
const MULTI_AZ_FAILOVER_SECONDS = 120;
/** Amazon Aurora FAQs: with a replica, "start-to-finish, failover typically completes within 30 seconds". */
const AURORA_FAILOVER_SECONDS = 30;
/** Amazon Aurora FAQs: without a replica, a new writer "typically completes in under 10 minutes". */
const AURORA_REPLACE_SECONDS = 600;
/** Aurora User Guide, auto-pause: resuming from 0 ACUs takes up to about 15 seconds. */
const AURORA_RESUME_SECONDS = 15;
/** "Amazon RDS Proxy" product page: failover times for RDS and Aurora reduced by up to 66 %. */
const PROXY_FAILOVER_REDUCTION = 0.66;

function describe(seconds: number): string {
  if (seconds >= 2 * 86400) return `${Math.round((seconds / 86400) * 10) / 10} days`;
  return seconds >= 120 ? `${Math.round((seconds / 60) * 10) / 10} min` : `${seconds} s`;
}

export function formatTimings(stackName: string, timings: Timing[]): string {
  return [
    `${stackName}: rollout timings from the template`,
    ...timings.map((t) => `  ${t.name.padEnd(60)} ${describe(t.seconds).padStart(8)}   = ${t.formula}`),
  ].join('\n');
}
