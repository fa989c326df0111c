import { FunctionCalls } from '../internal/aws-calls';

/** The production-traffic reader's AWS calls (production-traffic.ts), proven allowed by the IAM simulation. */
export const PRODUCTION_TRAFFIC_CALLS: FunctionCalls = {
  functionId: 'ProductionTrafficReader',
  customResourceType: 'Custom::ProductionTraffic',
  sources: ['load-balancer/production-traffic.ts'],
  calls: [
    // Both Describe calls support only the "*" resource (service authorization reference, Elastic Load Balancing V2).
    { action: 'elasticloadbalancing:DescribeRules', resource: '*', why: 'the live weights of the production rule' },
    { action: 'elasticloadbalancing:DescribeTargetHealth', resource: '*', why: 'healthy targets before a shift' },
  ],
};
