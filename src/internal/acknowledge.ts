import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { PolicyAcknowledgement } from '../policy-acknowledgement';

/** One acknowledgement to attach: the rules, why, and (for wildcard findings) which findings exactly. */
export interface Acknowledgement {
  readonly rules: string[];
  readonly reason: string;
  /** Exact findings; one written /like this/ is a regular expression (for findings that contain logical ids). */
  readonly appliesTo?: string[];
}

const COMPLIANCE_PACKS = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];

/** `rule` in every compliance pack that has it (NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1 by default). */
export const inCompliancePacks = (rule: string, packs = COMPLIANCE_PACKS) => packs.map((pack) => `${pack}-${rule}`);

/** The reason shared by the inline policies CDK generates from grants. */
export const INLINE_POLICY_REASON =
  'A least-privilege policy that CDK generates from grants for this one role; a managed policy would add nothing but indirection.';

const isGuardRule = (rule: string) => /^[a-z0-9_]+$/.test(rule);

/**
 * Records policy acknowledgements for one construct and attaches them, as metadata, to the resources it creates.
 * Each part calls `acknowledge` where it creates the resource, with the condition beside it.
 */
export class Acknowledgements {
  private readonly recorded: PolicyAcknowledgement[] = [];

  constructor(private readonly owner: IConstruct) {}

  /**
   * Attaches `ack` to the CloudFormation resource of `target` (the construct itself, or its default child). Throws
   * when `target` holds no CloudFormation resource: a renamed or moved resource must never drop an acknowledgement
   * silently.
   */
  public acknowledge(target: IConstruct, ack: Acknowledgement): void {
    const resource = cfnResourceOf(target);
    if (!resource) {
      throw new Error(
        `${this.owner.node.path}: no CloudFormation resource at ${target.node.path} to acknowledge ${ack.rules.join(', ')} on.`,
      );
    }
    attachMetadata(resource, ack);
    for (const rule of ack.rules) {
      this.recorded.push({
        rule,
        resourcePath: resource.node.path,
        reason: ack.reason,
        ...(ack.appliesTo ? { appliesTo: ack.appliesTo } : {}),
      });
    }
  }

  /** Every acknowledgement recorded so far, in the order the parts made them. */
  public get all(): PolicyAcknowledgement[] {
    return [...this.recorded];
  }
}

function cfnResourceOf(target: IConstruct): CfnResource | undefined {
  if (target instanceof CfnResource) return target;
  const child = target.node.defaultChild;
  return child instanceof CfnResource ? child : undefined;
}

function attachMetadata(resource: CfnResource, ack: Acknowledgement): void {
  const nagRules = ack.rules.filter((r) => !isGuardRule(r));
  const guardRules = ack.rules.filter(isGuardRule);
  if (nagRules.length > 0) {
    const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: object[] } | undefined) ?? {};
    const findings = ack.appliesTo?.map((f) => (/^\/.*\/$/.test(f) ? { regex: `${f}g` } : f));
    const additions = nagRules.map((id) => ({ id, reason: ack.reason, ...(findings ? { applies_to: findings } : {}) }));
    resource.addMetadata('cdk_nag', {
      ...existing,
      rules_to_suppress: [...(existing.rules_to_suppress ?? []), ...additions],
    });
  }
  if (guardRules.length > 0) {
    const existing = (resource.getMetadata('guard') as { SuppressedRules?: string[] } | undefined) ?? {};
    const merged = [...new Set([...(existing.SuppressedRules ?? []), ...guardRules])];
    resource.addMetadata('guard', { ...existing, SuppressedRules: merged });
  }
}

/**
 * The Lambda function that serves a custom resource, found through the resource's `ServiceToken`
 * (`Fn::GetAtt [<function>, Arn]`) rather than through CDK's internal construct ids. Used for the functions CDK
 * creates once per stack (log retention, the default security group restriction).
 */
export function providerFunctionOf(customResource: CfnResource): CfnResource {
  const stack = Stack.of(customResource);
  // cfnProperties is protected but stable since CDK v1; a failure to find the function throws below, never passes.
  const token = stack.resolve(
    (customResource as unknown as { cfnProperties: Record<string, unknown> }).cfnProperties.ServiceToken,
  );
  const logicalId = token?.['Fn::GetAtt']?.[0];
  const found = stack.node
    .findAll()
    .find((c): c is CfnResource => c instanceof CfnResource && stack.resolve(c.logicalId) === logicalId);
  if (!found) {
    throw new Error(`no provider function found for the custom resource at ${customResource.node.path}`);
  }
  return found;
}
