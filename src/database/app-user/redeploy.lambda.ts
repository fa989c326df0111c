// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import { redeploy, RedeployEvent } from './redeploy';

const clients = { ecs: new ECSClient({}), sm: new SecretsManagerClient({}) };

/**
 * EventBridge target: a new deployment of the service after each rotation of the app secret, and the follow-up of
 * the service's deployments (hold the rotation while tasks keep the previous login, release it once none does).
 */
export async function handler(event: RedeployEvent) {
  const result = await redeploy(
    clients,
    {
      cluster: process.env.CLUSTER!,
      service: process.env.SERVICE!,
      secretArn: process.env.SECRET_ARN!,
      rotationLambdaArn: process.env.ROTATION_LAMBDA_ARN!,
      rotationSchedule: process.env.ROTATION_SCHEDULE!,
    },
    event,
  );
  console.log(JSON.stringify(result));
  return result;
}
