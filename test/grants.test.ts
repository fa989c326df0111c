import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { EnvironmentProfile, FargateWebServiceWithDatabase, RolloutStrategy } from '../src';
import { newStack, referencedIds } from './helpers';
import { fixtureImage, withProdHttps } from '../tools/stacks';

/**
 * Checks that follow a grant or a wire through every form it can take in the template, each shown to fail on the
 * defect it names (an injected fixture), so a test that passes here could not pass on that defect.
 */

interface Built {
  readonly stack: Stack;
  readonly construct: FargateWebServiceWithDatabase;
}

function build(profile = EnvironmentProfile.PROD, extra: object = {}): Built {
  const stack = newStack();
  const construct = new FargateWebServiceWithDatabase(stack, 'Api', {
    image: fixtureImage(profile),
    migrations: { command: ['migrate'] },
    ...withProdHttps(stack, { profile, ...extra }),
  });
  return { stack, construct };
}

const resourcesOf = (template: any, type: string) =>
  Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type);

/**
 * Roles (by logical id) whose IAM policies let them read `secretIds`: a secretsmanager read action on a resource that
 * refers to the secret or to its attachment (both resolve to the secret's ARN), or a wildcard resource.
 */
function secretReaders(template: any, secretIds: string[]): string[] {
  const readers = new Set<string>();
  for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      const actions = [statement.Action].flat().map((a: string) => a.toLowerCase());
      const reads = actions.some(
        (a: string) => a === '*' || a === 'secretsmanager:*' || a.startsWith('secretsmanager:getsecretvalue'),
      );
      const resources = [statement.Resource].flat();
      const onSecret = resources.some(
        (r: unknown) => r === '*' || referencedIds(r).some((id) => secretIds.includes(id)),
      );
      if (statement.Effect === 'Allow' && reads && onSecret) {
        for (const role of policy.Properties.Roles ?? []) readers.add(role.Ref);
      }
    }
  }
  return [...readers].sort();
}

function masterSecretIds(b: Built, template: any): string[] {
  const attachment = b.stack.resolve(b.construct.databaseMasterSecret.secretArn).Ref as string;
  const secret = template.Resources[attachment].Properties.SecretId.Ref as string;
  return [attachment, secret];
}

const taskRoles = (b: Built) =>
  [b.construct.taskDefinition.taskRole, b.construct.taskDefinition.obtainExecutionRole()].map(
    (r) => b.stack.resolve((r as iam.Role).roleArn)['Fn::GetAtt'][0] as string,
  );

describe('the task and execution roles never read the master secret', () => {
  const check = (b: Built) => {
    const template = Template.fromStack(b.stack).toJSON();
    return secretReaders(template, masterSecretIds(b, template)).filter((r) => taskRoles(b).includes(r));
  };

  test('as built', () => {
    expect(check(build())).toEqual([]);
  });

  test('fixture: a grant on the secret itself (not its attachment) is caught', () => {
    const b = build();
    // The secret behind the attachment, as an escape hatch reaches it.
    const secret = b.construct.databaseMasterSecret.node.scope as unknown as { grantRead(g: iam.IGrantable): void };
    secret.grantRead(b.construct.taskDefinition.taskRole);
    expect(check(b)).toHaveLength(1);
  });

  test('fixture: a grant on the attachment is caught', () => {
    const b = build();
    b.construct.databaseMasterSecret.grantRead(b.construct.taskDefinition.obtainExecutionRole());
    expect(check(b)).toHaveLength(1);
  });
});

describe('every IAM policy of the construct is attached to exactly one role', () => {
  const shared = (b: Built) =>
    resourcesOf(Template.fromStack(b.stack).toJSON(), 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles ?? []).length !== 1)
      .map(([id]) => id);

  test('as built', () => {
    expect(shared(build())).toEqual([]);
  });

  test('fixture: the execution role policy also attached to the task role is caught', () => {
    const b = build();
    const executionRole = b.construct.taskDefinition.obtainExecutionRole() as iam.Role;
    executionRole.node
      .findAll()
      .filter((c): c is iam.Policy => c instanceof iam.Policy)
      .forEach((p) => p.attachToRole(b.construct.taskDefinition.taskRole));
    expect(shared(b)).toHaveLength(1);
  });
});

describe('every function logs to a log group of the stack, encrypted and with a retention', () => {
  // The construct's own functions (the stack-level singletons of CDK, outside it, are not the construct's to configure).
  const unlinked = (b: Built) => {
    const template = Template.fromStack(b.stack).toJSON();
    const groups = Object.fromEntries(resourcesOf(template, 'AWS::Logs::LogGroup'));
    const own = new Set(
      b.construct.node
        .findAll()
        .filter((c): c is lambda.Function => c instanceof lambda.Function)
        .map((fn) => b.stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)),
    );
    expect(own.size).toBeGreaterThanOrEqual(6);
    return resourcesOf(template, 'AWS::Lambda::Function')
      .filter(([id]) => own.has(id))
      .filter(([, fn]) => {
        const [group] = referencedIds(fn.Properties.LoggingConfig?.LogGroup);
        const props = group ? groups[group]?.Properties : undefined;
        return !props?.KmsKeyId || !props?.RetentionInDays;
      })
      .map(([id]) => id);
  };

  test.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])('%s: as built', (profile) => {
    expect(unlinked(build(profile))).toEqual([]);
  });

  test('fixture: a function whose LoggingConfig is removed is caught', () => {
    const b = build();
    const fn = b.construct.node.findAll().find((c): c is lambda.Function => c instanceof lambda.Function)!;
    (fn.node.defaultChild as lambda.CfnFunction).addPropertyDeletionOverride('LoggingConfig');
    expect(unlinked(b)).toEqual([b.stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)]);
  });
});

describe('a traffic-shifting service never scales on request count, whatever the policy is called', () => {
  const requestScaling = (b: Built) =>
    resourcesOf(Template.fromStack(b.stack).toJSON(), 'AWS::ApplicationAutoScaling::ScalingPolicy').filter(
      ([, p]) =>
        p.Properties.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType ===
        'ALBRequestCountPerTarget',
    );

  test('as built (canary)', () => {
    expect(
      requestScaling(build(EnvironmentProfile.PROD, { service: { rolloutStrategy: RolloutStrategy.canary() } })),
    ).toEqual([]);
  });

  test('fixture: request-count scaling added under another id is caught (matched by its metric, not its id)', () => {
    const b = build(EnvironmentProfile.PROD, { service: { rolloutStrategy: RolloutStrategy.canary() } });
    b.construct.scaling.scaleOnRequestCount('Traffic', {
      requestsPerTarget: 100,
      targetGroup: b.construct.targetGroup,
    });
    expect(requestScaling(b)).toHaveLength(1);
  });

  test('rolling scales on request count, found by the same check', () => {
    expect(requestScaling(build())).toHaveLength(1);
  });
});
