// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { DescribeTasksCommand, ECSClient, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  CancelRotateSecretCommand,
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */

/**
 * After each rotation of the app secret (its AWSCURRENT label moves), a new deployment of the service, so every task
 * reads the current login at start, long before the rotation after next changes the previous login's password.
 *
 * The redeploy's outcome is followed: when a deployment of the service fails or is rolled back while running tasks
 * still hold the previous login (they were created before the last rotation), the next rotation would change that
 * login's password under them. So the function holds the rotation (CancelRotateSecret turns automatic rotation off),
 * marks the secret with a tag, and forces one more deployment. When a later deployment completes and no running task
 * holds the previous login, it turns rotation back on (RotateSecret with RotateImmediately false: the next rotation
 * waits for its window) and removes the tag. Errors are thrown: the function's Errors metric is alarmed.
 *
 * Documented behaviour relied on (Secrets Manager API reference): CancelRotateSecret "turns off automatic rotation";
 * "to turn on automatic rotation again, call RotateSecret"; RotateSecret with RotateImmediately false "waits until the
 * next scheduled rotation window"; DescribeSecret's LastRotatedDate is the last time Secrets Manager rotated the
 * secret. ECS sends "ECS Deployment State Change" events with eventName SERVICE_DEPLOYMENT_COMPLETED or
 * SERVICE_DEPLOYMENT_FAILED for the service in `resources`, and injects secrets only when a task starts.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
 */

/** The tag that marks a rotation this function held, with the rotation time the running tasks must postdate. */
export const HOLD_TAG = 'fwsd:rotation-held-for-tasks-before';

/** The `Secret Label Updated` event Secrets Manager sends to EventBridge. */
export interface SecretLabelEvent {
  readonly 'detail-type'?: 'Secret Label Updated';
  readonly resources?: string[];
  readonly detail?: { readonly labelUpdated?: string; readonly versionId?: string };
}

/** The `ECS Deployment State Change` event ECS sends to EventBridge. */
export interface DeploymentStateEvent {
  readonly 'detail-type': 'ECS Deployment State Change';
  readonly resources?: string[];
  readonly detail?: { readonly eventName?: string; readonly deploymentId?: string; readonly reason?: string };
}

export type RedeployEvent = SecretLabelEvent | DeploymentStateEvent;

export interface RedeployTarget {
  readonly cluster: string;
  readonly service: string;
  readonly secretArn: string;
  /** The rotation function and schedule to turn back on after a hold. */
  readonly rotationLambdaArn: string;
  readonly rotationSchedule: string;
}

export interface RedeployClients {
  readonly ecs: ECSClient;
  readonly sm: SecretsManagerClient;
}

export interface RedeployResult {
  readonly redeployed: boolean;
  readonly deploymentId?: string;
  readonly reason?: string;
  /** Running tasks created before the last rotation (they hold the previous login). */
  readonly tasksOnPreviousLogin?: number;
  readonly rotationHeld?: boolean;
  readonly rotationReleased?: boolean;
}

async function forceNewDeployment(ecs: ECSClient, target: RedeployTarget): Promise<string> {
  const { service } = await ecs.send(
    new UpdateServiceCommand({ cluster: target.cluster, service: target.service, forceNewDeployment: true }),
  );
  const primary = service?.deployments?.find((d) => d.status === 'PRIMARY');
  if (!primary?.id) throw new Error(`ECS started no new deployment of ${target.service}`);
  return primary.id;
}

/** How many running tasks were created before `since` (a task reads its secrets once, when it starts). */
async function tasksCreatedBefore(ecs: ECSClient, target: RedeployTarget, since: Date): Promise<number> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({
        cluster: target.cluster,
        serviceName: target.service,
        desiredStatus: 'RUNNING',
        nextToken,
      }),
    );
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  let count = 0;
  for (let i = 0; i < arns.length; i += 100) {
    const { tasks } = await ecs.send(
      new DescribeTasksCommand({ cluster: target.cluster, tasks: arns.slice(i, i + 100) }),
    );
    count += (tasks ?? []).filter((t) => t.createdAt && t.createdAt.getTime() < since.getTime()).length;
  }
  return count;
}

async function afterDeployment(
  clients: RedeployClients,
  target: RedeployTarget,
  event: DeploymentStateEvent,
): Promise<RedeployResult> {
  const secret = await clients.sm.send(new DescribeSecretCommand({ SecretId: target.secretArn }));
  const held = secret.Tags?.find((t) => t.Key === HOLD_TAG)?.Value;
  const name = event.detail?.eventName;
  if (name === 'SERVICE_DEPLOYMENT_COMPLETED') {
    if (!held) return { redeployed: false, reason: 'a deployment completed; no rotation is held' };
    const stale = await tasksCreatedBefore(clients.ecs, target, new Date(held));
    if (stale > 0) return { redeployed: false, tasksOnPreviousLogin: stale, reason: 'the rotation stays held' };
    await clients.sm.send(
      new RotateSecretCommand({
        SecretId: target.secretArn,
        RotationLambdaARN: target.rotationLambdaArn,
        RotationRules: { ScheduleExpression: target.rotationSchedule },
        RotateImmediately: false,
      }),
    );
    await clients.sm.send(new UntagResourceCommand({ SecretId: target.secretArn, TagKeys: [HOLD_TAG] }));
    return { redeployed: false, tasksOnPreviousLogin: 0, rotationReleased: true };
  }
  // SERVICE_DEPLOYMENT_FAILED: a deployment failed or was rolled back.
  const rotated = secret.LastRotatedDate ?? (held ? new Date(held) : undefined);
  if (!rotated) return { redeployed: false, reason: 'the secret was never rotated' };
  const stale = await tasksCreatedBefore(clients.ecs, target, rotated);
  if (stale === 0) {
    return { redeployed: false, tasksOnPreviousLogin: 0, reason: 'every running task has the current login' };
  }
  if (held) {
    // Held already, and the retry failed too: the alarm on failed deployments asks a person to look.
    return { redeployed: false, tasksOnPreviousLogin: stale, rotationHeld: true, reason: 'held; retried once already' };
  }
  if (secret.RotationEnabled) await clients.sm.send(new CancelRotateSecretCommand({ SecretId: target.secretArn }));
  await clients.sm.send(
    new TagResourceCommand({ SecretId: target.secretArn, Tags: [{ Key: HOLD_TAG, Value: rotated.toISOString() }] }),
  );
  const deploymentId = await forceNewDeployment(clients.ecs, target);
  return { redeployed: true, deploymentId, tasksOnPreviousLogin: stale, rotationHeld: true };
}

export async function redeploy(
  clients: RedeployClients,
  target: RedeployTarget,
  event: RedeployEvent,
): Promise<RedeployResult> {
  if (event['detail-type'] === 'ECS Deployment State Change') {
    if (!(event.resources ?? []).some((arn) => arn.endsWith(`/${target.service}`))) {
      return { redeployed: false, reason: 'not a deployment of the service' };
    }
    return afterDeployment(clients, target, event);
  }
  const label = event as SecretLabelEvent;
  if (label.detail?.labelUpdated !== 'AWSCURRENT' || !(label.resources ?? []).includes(target.secretArn)) {
    return { redeployed: false, reason: 'not an AWSCURRENT change of the app secret' };
  }
  return { redeployed: true, deploymentId: await forceNewDeployment(clients.ecs, target) };
}
