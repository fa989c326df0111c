/**
 * Evaluates a synthesized template's IAM with @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency of this test
 * harness only, never bundled or shipped; scripts/check-package.js proves the tarball holds none of it).
 *
 * The template is read as CloudFormation would deploy it into one account and region: `TemplateResolver` gives every
 * `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select` and pseudo parameter the value CloudFormation documents for
 * it (a secret's Ref is its ARN, a cluster's Ref its name, a task definition's Ref its ARN with a revision...), with
 * made-up but well-formed physical names. A role's identity policies are its inline policies, the AWS::IAM::Policy
 * resources attached to it and the AWS managed policies it names; the resource policy is the secret's
 * AWS::SecretsManager::ResourcePolicy or the key's KeyPolicy.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { AwsCall, FunctionCalls } from '../src/internal/aws-calls';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const PARTITION = 'aws';

type Template = { Resources: Record<string, { Type: string; Properties?: any; Metadata?: any }> };

/**
 * AWS managed policies the simulated roles carry, as AWS publishes them (AWS Managed Policy Reference Guide:
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html and
 * .../AWSLambdaVPCAccessExecutionRole.html). A role with any other managed policy is refused by `policiesOf`.
 */
const MANAGED_POLICIES: Record<string, object> = {
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '*',
      },
    ],
  },
  'service-role/AWSLambdaVPCAccessExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSLambdaVPCAccessExecutionPermissions',
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: '*',
      },
    ],
  },
};

export class TemplateResolver {
  public readonly stackId = `arn:${PARTITION}:cloudformation:${REGION}:${ACCOUNT}:stack/Stack/11111111-2222-3333-4444-555555555555`;

  constructor(public readonly template: Template) {}

  public resource(id: string) {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`no resource ${id} in the template`);
    return r;
  }

  /** The value CloudFormation gives an expression, as a string (lists are resolved by `list`). */
  public value(expr: unknown): string {
    const v = this.resolve(expr);
    if (typeof v !== 'string') throw new Error(`not a string: ${JSON.stringify(expr)}`);
    return v;
  }

  public resolve(expr: unknown): unknown {
    if (typeof expr === 'string' || typeof expr === 'number' || typeof expr === 'boolean') return String(expr);
    if (Array.isArray(expr)) return expr.map((e) => this.resolve(e));
    if (!expr || typeof expr !== 'object') throw new Error(`cannot resolve ${JSON.stringify(expr)}`);
    const entries = Object.entries(expr as Record<string, any>);
    const intrinsic = entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'));
    if (!intrinsic) return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
    const [fn, arg] = entries[0];
    switch (fn) {
      case 'Ref':
        return this.ref(arg);
      case 'Fn::GetAtt':
        return this.getAtt(arg[0], arg[1]);
      case 'Fn::Join':
        return (arg[1] as unknown[]).map((p) => this.value(p)).join(arg[0]);
      case 'Fn::Select':
        return (this.resolve(arg[1]) as string[])[Number(this.value(arg[0]))];
      case 'Fn::Split':
        return this.value(arg[1]).split(arg[0]);
      case 'Fn::Sub': {
        const [text, vars] = typeof arg === 'string' ? [arg, {}] : arg;
        return (text as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (vars[name] !== undefined) return this.value(vars[name]);
          const [id, attr] = name.split('.');
          return attr ? this.getAtt(id, attr) : this.ref(id);
        });
      }
      default:
        throw new Error(`intrinsic ${fn} is not modelled`);
    }
  }

  /** A regional ARN in the simulated account. */
  private arn(service: string, rest: string): string {
    return `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${rest}`;
  }

  public ref(id: string): string {
    switch (id) {
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackId':
        return this.stackId;
      case 'AWS::StackName':
        return 'Stack';
    }
    const r = this.resource(id);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::SecretsManager::Secret':
        return this.arn('secretsmanager', `secret:${p.Name ?? id}-AbCdEf`);
      case 'AWS::SecretsManager::SecretTargetAttachment':
        return this.value(p.SecretId);
      case 'AWS::ECS::Cluster':
        return p.ClusterName ?? id;
      case 'AWS::ECS::Service':
        return this.arn('ecs', `service/${this.nameOf(this.value(p.Cluster))}/${p.ServiceName ?? id}`);
      case 'AWS::ECS::TaskDefinition':
        return this.arn('ecs', `task-definition/${p.Family ?? id}:1`);
      case 'AWS::KMS::Key':
        return `${id.toLowerCase()}-key`;
      case 'AWS::Lambda::Function':
        return p.FunctionName ?? id;
      case 'AWS::IAM::Role':
        return p.RoleName ?? id;
      case 'AWS::ElasticLoadBalancingV2::Listener':
        return this.arn('elasticloadbalancing', `listener/app/lb/0123456789abcdef/${id.toLowerCase()}`);
      case 'AWS::ElasticLoadBalancingV2::TargetGroup':
        return this.arn('elasticloadbalancing', `targetgroup/${id.slice(0, 32)}/0123456789abcdef`);
      case 'AWS::StepFunctions::StateMachine':
        return this.arn('states', `stateMachine:${id}`);
      default:
        return id;
    }
  }

  public getAtt(id: string, attr: string): string {
    const r = this.resource(id);
    switch (`${r.Type}.${attr}`) {
      case 'AWS::IAM::Role.Arn':
        return `arn:${PARTITION}:iam::${ACCOUNT}:role/${this.ref(id)}`;
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${this.ref(id)}`);
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${this.ref(id)}`);
      case 'AWS::ECS::Cluster.Arn':
        return this.arn('ecs', `cluster/${this.ref(id)}`);
      case 'AWS::ECS::Service.Name':
        return r.Properties?.ServiceName ?? id;
      case 'AWS::ECS::Service.ServiceArn':
        return this.ref(id);
      case 'AWS::RDS::DBProxy.DBProxyArn':
        return this.arn('rds', `db-proxy:prx-${id.toLowerCase()}`);
      case 'AWS::RDS::DBInstance.DbiResourceId':
        return `db-${id.toUpperCase()}`;
      case 'AWS::Serverless::Application.Outputs.RotationLambdaARN':
        return this.arn('lambda', `function:${id}-rotation`);
      default:
        return `${id}.${attr}`;
    }
  }

  /** The logical id an expression points at (a Ref or GetAtt, followed through a secret's target attachment). */
  public target(expr: any): string {
    const id: string | undefined = expr?.Ref ?? expr?.['Fn::GetAtt']?.[0];
    if (!id || !this.template.Resources[id]) throw new Error(`not a reference to a resource: ${JSON.stringify(expr)}`);
    const r = this.resource(id);
    return r.Type === 'AWS::SecretsManager::SecretTargetAttachment' ? this.target(r.Properties.SecretId) : id;
  }

  public nameOf(arn: string): string {
    return arn.split('/').pop()!;
  }

  /**
   * The logical id of the resource of this type whose construct id is `constructId` (CDK makes a logical id of the
   * construct path's ids, `Resource` left out, and an 8-digit hash).
   */
  public byConstructId(constructId: string, type: string): string {
    const pattern = new RegExp(`${constructId}[0-9A-F]{8}$`);
    const found = Object.entries(this.template.Resources).filter(([id, r]) => r.Type === type && pattern.test(id));
    if (found.length !== 1) throw new Error(`${found.length} ${type} with construct id ${constructId}`);
    return found[0][0];
  }

  public ofType(type: string): string[] {
    return Object.keys(this.template.Resources).filter((id) => this.template.Resources[id].Type === type);
  }

  /** The identity policies of a role, resolved. */
  public policiesOf(roleId: string): Array<{ name: string; policy: any }> {
    const role = this.resource(roleId);
    const policies: Array<{ name: string; policy: any }> = [];
    for (const p of role.Properties?.Policies ?? []) {
      policies.push({ name: p.PolicyName, policy: this.resolve(p.PolicyDocument) });
    }
    for (const id of this.ofType('AWS::IAM::Policy')) {
      const p = this.resource(id).Properties;
      if ((p.Roles ?? []).some((r: any) => r.Ref === roleId)) {
        policies.push({ name: id, policy: this.resolve(p.PolicyDocument) });
      }
    }
    for (const managed of role.Properties?.ManagedPolicyArns ?? []) {
      const name = this.value(managed).replace(/^arn:aws:iam::aws:policy\//, '');
      const policy = MANAGED_POLICIES[name];
      if (!policy) throw new Error(`role ${roleId}: the managed policy ${name} is not modelled`);
      policies.push({ name, policy });
    }
    return policies;
  }

  /** The resource policy that governs a call on this ARN: the secret's or the key's. */
  public resourcePolicyFor(action: string, resourceArn: string): any | undefined {
    if (action.startsWith('secretsmanager:')) {
      const policy = this.ofType('AWS::SecretsManager::ResourcePolicy').find(
        (id) => this.value(this.resource(id).Properties.SecretId) === resourceArn,
      );
      return policy ? this.resolve(this.resource(policy).Properties.ResourcePolicy) : undefined;
    }
    if (action.startsWith('kms:')) {
      const key = this.ofType('AWS::KMS::Key').find((id) => this.getAtt(id, 'Arn') === resourceArn);
      if (!key) throw new Error(`no key with ARN ${resourceArn} in the template`);
      return this.resolve(this.resource(key).Properties.KeyPolicy);
    }
    return undefined;
  }

  /** Fills a call's placeholders for a function and, when it serves one, its custom resource. */
  public fill(text: string, fn: { functionId: string; customResourceId?: string }): string {
    const env = this.resource(fn.functionId).Properties?.Environment?.Variables ?? {};
    const props = fn.customResourceId ? this.resource(fn.customResourceId).Properties : {};
    const source = (ref: string): any => {
      const m = /^(env|prop):([A-Za-z_]+)(?:\[(\d+)\])?$/.exec(ref);
      if (!m) throw new Error(`unknown placeholder ${ref}`);
      const raw = m[1] === 'env' ? env[m[2]] : props[m[2]];
      if (raw === undefined) throw new Error(`${fn.functionId}: no ${m[1]} ${m[2]}`);
      return m[3] === undefined ? raw : raw[Number(m[3])];
    };
    return text.replace(/\$\{([^}]+)\}/g, (_m, placeholder: string) => {
      switch (placeholder) {
        case 'Partition':
          return PARTITION;
        case 'Region':
          return REGION;
        case 'Account':
          return ACCOUNT;
        case 'StackId':
          return this.stackId;
      }
      if (placeholder.startsWith('name:')) return this.nameOf(this.value(source(placeholder.slice(5))));
      const [ref, property] = placeholder.split('>');
      if (property) return this.value(this.resource(this.target(source(ref))).Properties[property]);
      return this.value(source(ref));
    });
  }
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** Whether a role may make a call, with its identity policies and the resource's policy. */
export async function decide(
  resolver: TemplateResolver,
  roleId: string,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: resolver.getAtt(roleId, 'Arn'),
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: context,
      },
      identityPolicies: resolver.policiesOf(roleId),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resolver.resourcePolicyFor(action, resource),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`${action} on ${resource}: the simulation refused the request: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}

/** Every call of a function, filled from the template, with the simulator's decision. */
export async function decideCalls(resolver: TemplateResolver, spec: FunctionCalls) {
  const functionId = resolver.byConstructId(spec.functionId, 'AWS::Lambda::Function');
  const roleId = resolver.target(resolver.resource(functionId).Properties.Role);
  const customResourceId = spec.customResourceType ? resolver.ofType(spec.customResourceType)[0] : undefined;
  if (spec.customResourceType && !customResourceId) throw new Error(`no ${spec.customResourceType} in the template`);
  const ids = { functionId, customResourceId };
  const out: Array<{ call: AwsCall; resource: string; decision: Decision }> = [];
  const properties = customResourceId ? resolver.resource(customResourceId).Properties : {};
  for (const call of spec.calls) {
    if (call.onlyWithProperty && properties[call.onlyWithProperty] === undefined) continue;
    const resource = resolver.fill(call.resource, ids);
    const context = Object.fromEntries(Object.entries(call.context ?? {}).map(([k, v]) => [k, resolver.fill(v, ids)]));
    out.push({ call, resource, decision: await decide(resolver, roleId, call.action, resource, context) });
  }
  return { roleId, decisions: out };
}
