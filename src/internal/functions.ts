import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { Acknowledgements, inCompliancePacks, INLINE_POLICY_REASON } from './acknowledge';

/** The functions CDK's provider framework creates under `provider`, found by type, never by CDK's internal ids. */
export function frameworkFunctions(provider: cr.Provider): lambda.Function[] {
  return provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
}

/** The inline policies under a role (or any construct). */
export function policiesOf(scope: Construct | iam.IRole): iam.CfnPolicy[] {
  return scope.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy);
}

/** CDK's grant policies under a role (or any construct), acknowledged for the packs' no-inline-policy rule. */
export function acknowledgeInlinePolicies(acks: Acknowledgements, scope: Construct | iam.IRole): void {
  for (const policy of policiesOf(scope)) {
    acks.acknowledge(policy, { rules: inCompliancePacks('IAMNoInlinePolicy'), reason: INLINE_POLICY_REASON });
  }
}

/**
 * The findings every small deployment-time function of the construct shares (no reserved concurrency, no dead-letter
 * queue: each is invoked synchronously or retried by its caller; outside the VPC when it needs no VPC access; the
 * managed policy that lets it write its logs; CDK's inline grant policy), with the function's own reason.
 */
export function acknowledgeSmallFunction(
  acks: Acknowledgements,
  fn: lambda.Function,
  options: { readonly outsideVpc: boolean; readonly reason: string },
): void {
  acks.acknowledge(fn, {
    rules: [
      ...(options.outsideVpc ? inCompliancePacks('LambdaInsideVPC') : []),
      ...inCompliancePacks('LambdaConcurrency', ['NIST.800.53.R5', 'HIPAA.Security']),
      ...inCompliancePacks('LambdaDLQ', ['NIST.800.53.R5', 'HIPAA.Security']),
      ...(options.outsideVpc ? ['lambda_inside_vpc_check'] : []),
    ],
    reason: options.reason,
  });
  acks.acknowledge(fn.role!, {
    rules: ['AwsSolutions-IAM4'],
    appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    reason: 'The AWS managed policy only lets the function write its own logs.',
  });
  acknowledgeInlinePolicies(acks, fn.role!);
}

/**
 * The functions of a CDK provider framework: the small-function findings with `reason`, lambda:InvokeFunction on the
 * versions of the handlers it calls (`invokes`: a pattern of their logical ids, `what`: them in words), and the
 * runtime aws-cdk-lib chooses.
 */
export function acknowledgeProviderFramework(
  acks: Acknowledgements,
  provider: cr.Provider,
  options: { readonly reason: string; readonly invokes: string; readonly what: string },
): void {
  for (const fn of frameworkFunctions(provider)) {
    acknowledgeSmallFunction(acks, fn, { outsideVpc: true, reason: options.reason });
    for (const policy of policiesOf(fn.role!)) {
      acks.acknowledge(policy, {
        rules: ['AwsSolutions-IAM5'],
        appliesTo: [`/^Resource::<${options.invokes}\\.Arn>:\\*$/`],
        reason: `CDK provider framework: lambda:InvokeFunction on the versions of ${options.what} only.`,
      });
    }
    acks.acknowledge(fn, {
      rules: ['AwsSolutions-L1'],
      reason: 'CDK provider framework function: aws-cdk-lib chooses and updates its runtime.',
    });
  }
}
