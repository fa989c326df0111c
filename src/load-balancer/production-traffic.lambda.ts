// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
/* eslint-enable import/no-extraneous-dependencies */
import { onEvent, TrafficEvent } from './production-traffic';

const clients = { elb: new ElasticLoadBalancingV2Client({}), cfn: new CloudFormationClient({}) };

/** Provider framework onEvent handler: the production rule's live weights, for the template to write back. */
export async function handler(event: TrafficEvent) {
  return onEvent(clients, event);
}
