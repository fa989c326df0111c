// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
/* eslint-enable import/no-extraneous-dependencies */
import { isRollingBack } from '../internal/rollback';

/**
 * The weights of the production listener rule, as they are now, for the template to write back.
 *
 * With ECS's blue/green, canary and linear strategies, ECS moves the production rule's weights at every deployment,
 * but CloudFormation owns the rule: a stack update that rewrites it (a new listener, a new priority) would write the
 * template's weights back, whichever target group holds the running tasks (aws-cdk #36649, containers-roadmap #2853).
 * So the template takes the weights from this custom resource, which runs before the rule on every update that
 * changes the rule, reads the live rule and returns its weights for the same target groups. It refuses an update
 * that would send production traffic to a target group without healthy targets while the other one has them.
 *
 * Documented behaviour relied on: ECS "updates the production listener rule to shift traffic" between the two target
 * groups during a deployment, and the rule's forward action lists each target group with its weight
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html); DescribeRules
 * and DescribeTargetHealth describe the live state; on a failed update CloudFormation sends the previous properties
 * back while the stack is UPDATE_ROLLBACK_IN_PROGRESS.
 */

/** The custom resource's properties (CloudFormation passes strings). */
export interface TrafficProperties {
  readonly ListenerArn: string;
  /** The target group that starts as production, then the alternate one. */
  readonly TargetGroupArns: string[];
  readonly Priority: string;
  readonly PathPattern: string;
}

export interface TrafficEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId?: string;
  readonly ResourceProperties: TrafficProperties;
  readonly OldResourceProperties?: TrafficProperties;
  readonly PhysicalResourceId?: string;
}

export interface TrafficResult {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly BlueWeight: number; readonly GreenWeight: number; readonly Source: string };
}

export interface TrafficClients {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cfn: CloudFormationClient;
}

const PHYSICAL_ID = 'production-traffic';

const weightsOf = (blue: number, green: number, source: string): TrafficResult => ({
  PhysicalResourceId: PHYSICAL_ID,
  Data: { BlueWeight: blue, GreenWeight: green, Source: source },
});

/** The live weights of the rule on `listenerArn` that forwards to both target groups, by target group ARN. */
async function liveWeights(
  elb: ElasticLoadBalancingV2Client,
  props: TrafficProperties,
): Promise<Map<string, number> | undefined> {
  const { Rules } = await elb.send(new DescribeRulesCommand({ ListenerArn: props.ListenerArn }));
  for (const rule of Rules ?? []) {
    for (const action of rule.Actions ?? []) {
      const groups = action.ForwardConfig?.TargetGroups ?? [];
      const arns = groups.map((g) => g.TargetGroupArn);
      if (props.TargetGroupArns.every((arn) => arns.includes(arn))) {
        return new Map(groups.map((g) => [g.TargetGroupArn!, g.Weight ?? 1]));
      }
    }
  }
  return undefined;
}

async function healthyTargets(elb: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<number> {
  const { TargetHealthDescriptions } = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  return (TargetHealthDescriptions ?? []).filter((t) => t.TargetHealth?.State === 'healthy').length;
}

/** The weights to write, computed from the live rule; throws when they would send traffic to an empty group. */
async function weightsForUpdate(elb: ElasticLoadBalancingV2Client, event: TrafficEvent): Promise<TrafficResult> {
  const [blue, green] = event.ResourceProperties.TargetGroupArns;
  const old = event.OldResourceProperties;
  const live = old ? await liveWeights(elb, old) : undefined;
  const [b, g] = [live?.get(blue), live?.get(green)];
  const healthy = new Map<string, number>();
  for (const arn of [blue, green]) healthy.set(arn, await healthyTargets(elb, arn));
  let weights: [number, number];
  let source: string;
  if (b !== undefined && g !== undefined) {
    [weights, source] = [[b, g], 'the live production rule'];
  } else if (b !== undefined || g !== undefined) {
    // One target group was replaced: the kept one keeps its weight, the new one gets the rest.
    weights = b !== undefined ? [b, 100 - b] : [100 - g!, g!];
    source = 'the live production rule (one target group replaced)';
  } else {
    // Both replaced, or the rule was not found: whichever has healthy targets (blue when both or neither has).
    weights = healthy.get(blue)! === 0 && healthy.get(green)! > 0 ? [0, 100] : [100, 0];
    source = 'the target groups health (no live rule forwards to them)';
  }
  // Where the tasks are now: the new groups, and the groups the live rule serves (replaced ones included).
  for (const [arn, weight] of live ?? []) {
    if (weight > 0 && !healthy.has(arn)) healthy.set(arn, await healthyTargets(elb, arn));
  }
  const serving = [...healthy].find(([, count]) => count > 0);
  for (const [arn, weight] of [
    [blue, weights[0]],
    [green, weights[1]],
  ] as const) {
    if (weight > 0 && healthy.get(arn) === 0 && serving) {
      throw new Error(
        `this update would send ${weight} % of production traffic to target group ${arn}, which has no healthy targets, while ${serving[0]} has ${serving[1]} healthy: it replaces the target group that serves (a change of container.port does). Nothing was changed; see "Updates that replace the target groups" in docs/rollouts.md.`,
      );
    }
  }
  return weightsOf(weights[0], weights[1], source);
}

export async function onEvent(clients: TrafficClients, event: TrafficEvent): Promise<TrafficResult> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID };
  // The first deployment: nothing serves yet, ECS registers the first tasks in the blue target group.
  if (event.RequestType === 'Create') return weightsOf(100, 0, 'the first deployment');
  try {
    return await weightsForUpdate(clients.elb, event);
  } catch (err) {
    if (!event.StackId || !(await isRollingBack(clients.cfn, event.StackId).catch(() => false))) throw err;
    // Never fail a rollback (UPDATE_ROLLBACK_FAILED blocks every later deployment): the live weights, if readable.
    const live = event.OldResourceProperties
      ? await liveWeights(clients.elb, event.OldResourceProperties).catch(() => undefined)
      : undefined;
    const [blue, green] = event.ResourceProperties.TargetGroupArns;
    const [b, g] = [live?.get(blue), live?.get(green)];
    if (b !== undefined && g !== undefined) return weightsOf(b, g, 'the live production rule (rollback)');
    console.log(JSON.stringify({ level: 'warn', message: `rollback without live weights: ${(err as Error).message}` }));
    return weightsOf(100, 0, 'the rollback (live weights unreadable)');
  }
}
