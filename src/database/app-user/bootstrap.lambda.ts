// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import { BootstrapEvent, onEvent } from './bootstrap';

const clients = { sm: new SecretsManagerClient({}), lambda: new LambdaClient({}), cfn: new CloudFormationClient({}) };

/** Provider framework onEvent handler: creates or repairs the app's database user. */
export async function handler(event: BootstrapEvent) {
  return onEvent(clients, event);
}
