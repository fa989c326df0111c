// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECSClient } from '@aws-sdk/client-ecs';
import { GateEvent, isComplete } from './gate';

const ecs = new ECSClient({});

/** Provider framework isComplete handler: polls the migration task until it stops. */
export async function handler(event: GateEvent) {
  return isComplete(ecs, event);
}
