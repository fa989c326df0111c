// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECSClient } from '@aws-sdk/client-ecs';
import { redeploy, SecretLabelEvent } from './redeploy';

const ecs = new ECSClient({});

/** EventBridge target: a new deployment of the service after each rotation of the app secret. */
export async function handler(event: SecretLabelEvent) {
  const result = await redeploy(
    ecs,
    { cluster: process.env.CLUSTER!, service: process.env.SERVICE!, secretArn: process.env.SECRET_ARN! },
    event,
  );
  console.log(JSON.stringify(result));
  return result;
}
