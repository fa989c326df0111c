// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import { BootstrapEvent, onEvent } from './bootstrap';

const sm = new SecretsManagerClient({});
const lambda = new LambdaClient({});

/** Provider framework onEvent handler: creates or repairs the app's database user. */
export async function handler(event: BootstrapEvent) {
  return onEvent(sm, lambda, event);
}
