/**
 * The AWS calls a deploy-time function makes, written beside each function (`*.calls.ts`) and proven allowed, against
 * the synthesized template's own policies, by test/iam-simulation.test.ts. Not used at run time.
 */
export interface AwsCall {
  /** The IAM action the call is authorized as (AWS's service authorization reference), e.g. `ecs:RunTask`. */
  readonly action: string;
  /**
   * The resource ARN the call is authorized on, with placeholders the test fills in from the template:
   * `${Partition}`, `${Region}`, `${Account}`, `${StackId}`; `${env:NAME}` (the function's environment variable);
   * `${prop:NAME}` (the custom resource's property; `${prop:NAME[0]}` for a list); `${prop:NAME>Property}` or
   * `${env:NAME>Property}` (a property of the resource that value points at, e.g. a secret's `KmsKeyId`);
   * `${name:...}` (the last path segment of an ARN, e.g. a cluster's name).
   */
  readonly resource: string;
  /** Request context keys (same placeholders), e.g. `ecs:cluster` or `kms:ViaService`. */
  readonly context?: Record<string, string>;
  /** Why the function makes the call. */
  readonly why: string;
  /**
   * The call is made only when the custom resource has this property (e.g. `AppSecretArn`, absent behind RDS Proxy
   * where the app has no secret); the simulation then skips it.
   */
  readonly onlyWithProperty?: string;
}

/**
 * An ECS call authorized on a task or container instance of one cluster (with the `ecs:cluster` condition key), the
 * cluster's ARN read from `clusterArn` (a placeholder source such as `prop:Cluster` or `env:CLUSTER`).
 */
export function clusterCall(
  action: string,
  resourceType: 'task' | 'container-instance',
  clusterArn: string,
  why: string,
): AwsCall {
  return {
    action,
    resource: `arn:\${Partition}:ecs:\${Region}:\${Account}:${resourceType}/\${name:${clusterArn}}/0123456789abcdef`,
    context: { 'ecs:cluster': `\${${clusterArn}}` },
    why,
  };
}

/** One deploy-time function's calls. */
export interface FunctionCalls {
  /** The function's construct id inside the construct (the template's `aws:cdk:path` ends with `/<id>/Resource`). */
  readonly functionId: string;
  /** The custom resource type whose properties `${prop:...}` reads, when the function serves one. */
  readonly customResourceType?: string;
  /** The modules (relative to src/) whose `new XxxCommand(...)` calls this list must cover. */
  readonly sources: string[];
  readonly calls: AwsCall[];
}
