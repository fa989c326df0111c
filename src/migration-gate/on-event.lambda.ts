// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECSClient } from '@aws-sdk/client-ecs';
import { GateEvent, onEvent } from './gate';

const ecs = new ECSClient({});

/** Provider framework onEvent handler: starts the migration task. */
export async function handler(event: GateEvent) {
  return onEvent(ecs, event);
}
