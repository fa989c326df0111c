// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';

/**
 * Starts a new deployment of the service when the app secret's AWSCURRENT label moves (a rotation finished), so
 * every task reads the current login at start, long before the rotation after next changes the previous login's
 * password. Errors are thrown: the function's Errors metric is alarmed.
 */

/** The `Secret Label Updated` event Secrets Manager sends to EventBridge. */
export interface SecretLabelEvent {
  readonly resources?: string[];
  readonly detail?: { readonly labelUpdated?: string; readonly versionId?: string };
}

export interface RedeployTarget {
  readonly cluster: string;
  readonly service: string;
  readonly secretArn: string;
}

export interface RedeployResult {
  readonly redeployed: boolean;
  readonly deploymentId?: string;
  readonly reason?: string;
}

export async function redeploy(
  ecs: ECSClient,
  target: RedeployTarget,
  event: SecretLabelEvent,
): Promise<RedeployResult> {
  if (event.detail?.labelUpdated !== 'AWSCURRENT' || !(event.resources ?? []).includes(target.secretArn)) {
    return { redeployed: false, reason: 'not an AWSCURRENT change of the app secret' };
  }
  const { service } = await ecs.send(
    new UpdateServiceCommand({ cluster: target.cluster, service: target.service, forceNewDeployment: true }),
  );
  const primary = service?.deployments?.find((d) => d.status === 'PRIMARY');
  if (!primary?.id) throw new Error(`ECS started no new deployment of ${target.service}`);
  return { redeployed: true, deploymentId: primary.id };
}
