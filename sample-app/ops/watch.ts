import { DescribeServicesCommand, Deployment, ECSClient, Service } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StackOutputs } from './stack';

/** How a watched deployment ended. */
export type Outcome = 'completed' | 'failed' | 'rolled back' | 'timed out';

export interface WatchResult {
  readonly outcome: Outcome;
  /** Why, in ECS's words where it gave them. */
  readonly reason: string;
  /** The deployment that was followed. */
  readonly deploymentId: string;
}

export interface WatchOptions {
  /** Print a line (state changes and new service events). */
  readonly out: (text: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Service events older than this are history, not news. */
  readonly since: Date;
  /** The clock; the tests drive it. */
  readonly now?: () => number;
}

/**
 * Follows the service's newest deployment to its end: completed (every task of the new task definition running and
 * no other deployment left), failed, or rolled back (the circuit breaker or a deployment alarm sent the service back
 * to the previous task definition). Prints the rollout state, task counts, target health and the service's events as
 * they come.
 */
export async function watchDeployment(
  ecs: ECSClient,
  elbv2: ElasticLoadBalancingV2Client,
  outputs: StackOutputs,
  options: WatchOptions,
): Promise<WatchResult> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const seenEvents = new Set<string>();
  let watched: Deployment | undefined;
  let lastLine = '';
  for (;;) {
    const service = await describeService(ecs, outputs);
    const deployments = service.deployments ?? [];
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    // The newest deployment when the watch starts is the one being rolled out.
    watched ??= [...deployments].sort((a, b) => time(b.createdAt) - time(a.createdAt))[0];
    if (!watched || !primary) {
      return { outcome: 'failed', reason: 'the service has no deployment to follow', deploymentId: '' };
    }
    const current = deployments.find((d) => d.id === watched!.id);

    for (const event of [...(service.events ?? [])].reverse()) {
      if (!event.id || seenEvents.has(event.id) || time(event.createdAt) < options.since.getTime()) continue;
      seenEvents.add(event.id);
      options.out(`  event ${event.createdAt?.toISOString() ?? ''} ${event.message ?? ''}`);
    }
    const line = `${current?.rolloutState ?? 'GONE'}: ${current?.runningCount ?? 0}/${current?.desiredCount ?? 0} running, ${current?.pendingCount ?? 0} pending, ${current?.failedTasks ?? 0} failed; targets ${await targetHealth(elbv2, service)}`;
    if (line !== lastLine) options.out(line);
    lastLine = line;

    if (current?.rolloutState === 'FAILED') {
      const back = primary.id !== watched.id ? ` ECS rolled back to ${taskDefinitionName(primary)}.` : '';
      return {
        outcome: back ? 'rolled back' : 'failed',
        reason: `${current.rolloutStateReason ?? 'the deployment failed'}.${back}`.replace('..', '.'),
        deploymentId: watched.id ?? '',
      };
    }
    if (!current || primary.id !== watched.id) {
      return {
        outcome: 'rolled back',
        reason: `the service went back to ${taskDefinitionName(primary)} (${primary.rolloutStateReason ?? 'no reason given'}).`,
        deploymentId: watched.id ?? '',
      };
    }
    if (current.rolloutState === 'COMPLETED' && deployments.length === 1) {
      return {
        outcome: 'completed',
        reason: `${taskDefinitionName(current)} runs ${current.runningCount}/${current.desiredCount} tasks.`,
        deploymentId: watched.id ?? '',
      };
    }
    if (now() >= deadline) {
      return {
        outcome: 'timed out',
        reason: `still ${current.rolloutState ?? 'IN_PROGRESS'} after ${Math.round(options.timeoutMs / 60000)} minutes; last state: ${line}`,
        deploymentId: watched.id ?? '',
      };
    }
    await options.sleep(options.intervalMs);
  }
}

async function describeService(ecs: ECSClient, outputs: StackOutputs): Promise<Service> {
  const answer = await ecs.send(
    new DescribeServicesCommand({ cluster: outputs.ClusterName, services: [outputs.ServiceName] }),
  );
  const service = answer.services?.[0];
  if (!service) throw new Error(`Service ${outputs.ServiceName} was not found in cluster ${outputs.ClusterName}.`);
  return service;
}

async function targetHealth(elbv2: ElasticLoadBalancingV2Client, service: Service): Promise<string> {
  const targetGroupArn = service.loadBalancers?.[0]?.targetGroupArn;
  if (!targetGroupArn) return 'none';
  const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const counts: Record<string, number> = {};
  for (const target of health.TargetHealthDescriptions ?? []) {
    const state = target.TargetHealth?.State ?? 'unknown';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  return (
    Object.entries(counts)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ') || 'none registered'
  );
}

const time = (date: Date | undefined) => date?.getTime() ?? 0;
const taskDefinitionName = (d: Deployment) =>
  (d.taskDefinition ?? '').split('/').pop() ?? 'the previous task definition';
