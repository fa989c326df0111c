import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ProductionTrafficFunction } from './production-traffic-function';
import { Acknowledgements } from '../internal/acknowledge';
import { acknowledgeProviderFramework, acknowledgeSmallFunction, policiesOf } from '../internal/functions';
import { LogGroupFactory } from '../logging';

/**
 * The production rule's priority: the last one a listener allows, so rules a user adds to the listener (priorities 1
 * to 49999) are matched before the catch-all.
 */
export const PRODUCTION_RULE_PRIORITY = 50000;
const PRODUCTION_PATH = '/*';

/** The second target group and the production rule whose weights ECS moves. */
export interface TrafficShiftParts {
  readonly alternateTargetGroup: elbv2.ApplicationTargetGroup;
  readonly productionRule: elbv2.ApplicationListenerRule;
  /** Reads the rule's live weights on every update that rewrites the rule, so the template writes them back. */
  readonly productionTraffic: CustomResource;
}

export interface TrafficShiftInputs {
  readonly listener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly alternateTargetGroup: elbv2.ApplicationTargetGroup;
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
}

/**
 * The production rule for ECS's blue/green, canary and linear strategies. Its weights come from a custom resource that
 * reads the live rule (production-traffic.ts): CloudFormation owns the rule while ECS moves its weights, so a stack
 * update that rewrote the rule with fixed weights would send every request back to the first target group, whichever
 * holds the running tasks.
 */
export function addTrafficShift(scope: Construct, inputs: TrafficShiftInputs): TrafficShiftParts {
  const { acks } = inputs;
  const reader = new ProductionTrafficFunction(scope, 'ProductionTrafficReader', {
    description: "Reads the production listener rule's live weights for the stack update to keep them",
    timeout: Duration.minutes(1),
    memorySize: 128,
    architecture: lambda.Architecture.ARM_64,
    logGroup: inputs.logGroups.createLogGroup(scope, 'ProductionTrafficReaderLogs'),
  });
  // Neither action supports resource-level permissions (AWS's service authorization reference for ELB v2).
  reader.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'],
      resources: ['*'],
    }),
  );
  reader.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Stack.of(scope).stackId] }),
  );
  const provider = new cr.Provider(scope, 'ProductionTrafficProvider', {
    onEventHandler: reader,
    logGroup: inputs.logGroups.createLogGroup(scope, 'ProductionTrafficProviderLogs'),
  });
  // Every property of the rule but its weights: whatever rewrites the rule reruns this first.
  const productionTraffic = new CustomResource(scope, 'ProductionTraffic', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::ProductionTraffic',
    serviceTimeout: Duration.minutes(2),
    properties: {
      ListenerArn: inputs.listener.listenerArn,
      TargetGroupArns: [inputs.targetGroup.targetGroupArn, inputs.alternateTargetGroup.targetGroupArn],
      Priority: String(PRODUCTION_RULE_PRIORITY),
      PathPattern: PRODUCTION_PATH,
    },
  });
  const productionRule = new elbv2.ApplicationListenerRule(scope, 'ProductionRule', {
    listener: inputs.listener,
    priority: PRODUCTION_RULE_PRIORITY,
    conditions: [elbv2.ListenerCondition.pathPatterns([PRODUCTION_PATH])],
    action: elbv2.ListenerAction.weightedForward([
      { targetGroup: inputs.targetGroup, weight: Token.asNumber(productionTraffic.getAtt('BlueWeight')) },
      { targetGroup: inputs.alternateTargetGroup, weight: Token.asNumber(productionTraffic.getAtt('GreenWeight')) },
    ]),
  });

  const reason =
    "Production traffic reader: a deployment-time function that reads the production listener rule's weights and its target groups' health; it needs no VPC access.";
  acknowledgeSmallFunction(acks, reader, { outsideVpc: true, reason });
  acknowledgeProviderFramework(acks, provider, {
    reason,
    invokes: '.*ProductionTrafficReader.*',
    what: 'the production traffic reader',
  });
  for (const policy of policiesOf(reader.role!)) {
    acks.acknowledge(policy, {
      rules: ['AwsSolutions-IAM5'],
      appliesTo: ['Resource::*'],
      reason:
        'elasticloadbalancing:DescribeRules and DescribeTargetHealth support no resource-level permissions; both only read.',
    });
  }
  return { alternateTargetGroup: inputs.alternateTargetGroup, productionRule, productionTraffic };
}
