// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECSClient } from '@aws-sdk/client-ecs';
/* eslint-enable import/no-extraneous-dependencies */
import { GateEvent, onEvent } from './gate';

const clients = { ecs: new ECSClient({}), cfn: new CloudFormationClient({}) };

/** Provider framework onEvent handler: starts the migration task. */
export async function handler(event: GateEvent) {
  return onEvent(clients, event);
}
