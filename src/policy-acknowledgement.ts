/**
 * A policy finding the construct acknowledges on purpose, with the reason a reviewer can check.
 *
 * Acknowledgements travel with the synthesized template as resource metadata: `cdk_nag.rules_to_suppress` (read by
 * cdk-nag 2.x aspects and 3.x validation plugins) and `guard.SuppressedRules` (read by cfn-guard rules). The
 * library itself does not depend on cdk-nag.
 */
export interface PolicyAcknowledgement {
  /** The rule: a cdk-nag rule id (`AwsSolutions-IAM5`, `NIST.800.53.R5-IAMNoInlinePolicy`) or a cfn-guard rule name. */
  readonly rule: string;
  /** Construct path of the resource the acknowledgement is attached to. */
  readonly resourcePath: string;
  /**
   * For wildcard findings: the exact finding the acknowledgement covers, e.g. `Resource::*`.
   *
   * @default - the whole rule on this resource
   */
  readonly appliesTo?: string[];
  /** Why the finding does not fit the design. */
  readonly reason: string;
}
