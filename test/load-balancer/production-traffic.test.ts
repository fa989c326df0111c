import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { mockClient } from 'aws-sdk-client-mock';
import { EnvironmentProfile, FargateWebServiceWithDatabase, Https, RolloutStrategy } from '../../src';
import { onEvent, TrafficEvent, TrafficProperties } from '../../src/load-balancer/production-traffic';
import { PRODUCTION_RULE_PRIORITY } from '../../src/load-balancer/traffic-shift';
import { fixtureImage } from '../../tools/stacks';
import { newStack, synth, Synthesized } from '../helpers';

/**
 * CloudFormation owns the production listener rule while ECS moves its weights (aws-cdk #36649, containers-roadmap
 * #2853). These tests play the sequence on a model of the load balancer: a first deployment, ECS's swap of the
 * target groups, then a stack update that rewrites the rule, and check where production traffic goes.
 *
 * Documented behaviour relied on:
 * - ECS blue/green (and canary, linear): the new tasks register in the target group that is not serving, ECS moves
 *   the production rule's weights to it, and after the bake time it stops the previous tasks.
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html
 * - A listener rule's forward action sends each target group its weight's share; with a weight of 0 none.
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions
 * - Fn::GetAtt of a custom resource gives the Data of its last response; a resource that references it is updated
 *   after it. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cfnMock = mockClient(CloudFormationClient);
const clients = {
  elb: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  cfn: new CloudFormationClient({ region: 'us-east-1' }),
};
const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Api/1';

/** The load balancer as it is: rules by listener, healthy targets by target group. */
interface World {
  rules: Map<string, { arn: string; priority: string; weights: Map<string, number> }[]>;
  healthy: Map<string, number>;
}

function serve(world: World) {
  elbMock.reset();
  cfnMock.reset();
  cfnMock.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: 'Api', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }],
  });
  elbMock.on(DescribeRulesCommand).callsFake(({ ListenerArn }) => ({
    Rules: (world.rules.get(ListenerArn) ?? []).map((r) => ({
      RuleArn: r.arn,
      Priority: r.priority,
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [...r.weights].map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
          },
        },
      ],
    })),
  }));
  elbMock.on(DescribeTargetHealthCommand).callsFake(({ TargetGroupArn }) => ({
    TargetHealthDescriptions: Array.from({ length: world.healthy.get(TargetGroupArn) ?? 0 }, (_, i) => ({
      Target: { Id: `10.0.0.${i}` },
      TargetHealth: { State: 'healthy' },
    })),
  }));
}

/** The production rule of a synthesized template, with its weights as the template gives them. */
function productionRuleOf(s: Synthesized) {
  const rules = Object.values<any>(s.template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
  expect(rules).toHaveLength(1);
  const groups = rules[0].Properties.Actions[0].ForwardConfig.TargetGroups;
  return { rule: rules[0].Properties, groups };
}

/**
 * What CloudFormation writes as the rule's weights: a literal, or the custom resource's answer to the event it sends.
 */
async function weightsCloudFormationWrites(s: Synthesized, event: TrafficEvent): Promise<[number, number]> {
  const { groups } = productionRuleOf(s);
  const needsAnswer = groups.some((g: any) => typeof g.Weight === 'object');
  const answer = needsAnswer ? await onEvent(clients, event) : undefined;
  return groups.map((g: any) => {
    if (typeof g.Weight === 'number') return g.Weight;
    const [, attribute] = g.Weight['Fn::GetAtt'];
    return Number((answer!.Data as any)[attribute]);
  }) as [number, number];
}

const canary = (https?: Https) =>
  synth({
    profile: EnvironmentProfile.DEV,
    service: { rolloutStrategy: RolloutStrategy.canary() },
    ...(https ? { loadBalancer: { https } } : {}),
  });

const properties = (listener: string, blue = 'tg-blue', green = 'tg-green'): TrafficProperties => ({
  ListenerArn: listener,
  TargetGroupArns: [blue, green],
  Priority: String(PRODUCTION_RULE_PRIORITY),
  PathPattern: '/*',
});

describe('a stack update that rewrites the production rule after ECS swapped the target groups', () => {
  test('keeps production traffic on the target group that holds the tasks (deploy, swap, add HTTPS)', async () => {
    const world: World = { rules: new Map(), healthy: new Map() };
    serve(world);
    const before = canary();
    // 1. First deployment: the rule is created, ECS registers the first tasks in blue.
    const created = await weightsCloudFormationWrites(before, {
      RequestType: 'Create',
      StackId: STACK,
      ResourceProperties: properties('listener-http'),
    });
    world.rules.set('listener-http', [
      {
        arn: 'rule-1',
        priority: '50000',
        weights: new Map([
          ['tg-blue', created[0]],
          ['tg-green', created[1]],
        ]),
      },
    ]);
    world.healthy.set('tg-blue', 2);
    expect(created).toEqual([100, 0]);
    // 2. A deployment: ECS starts the new tasks in green, moves all traffic there, stops the blue tasks.
    world.healthy.set('tg-green', 2);
    world.rules.get('listener-http')![0].weights = new Map([
      ['tg-blue', 0],
      ['tg-green', 100],
    ]);
    world.healthy.set('tg-blue', 0);
    // 3. A stack update that adds HTTPS: a new listener, so a new production rule on it.
    const after = canary(
      Https.fromCertificate(
        Certificate.fromCertificateArn(newStack(), 'C', 'arn:aws:acm:us-east-1:123456789012:certificate/x'),
      ),
    );
    const written = await weightsCloudFormationWrites(after, {
      RequestType: 'Update',
      StackId: STACK,
      ResourceProperties: properties('listener-https'),
      OldResourceProperties: properties('listener-http'),
      PhysicalResourceId: 'production-traffic',
    });
    // Production traffic goes where the tasks are.
    expect(written).toEqual([0, 100]);
    const served = (['tg-blue', 'tg-green'] as const).filter((_tg, i) => written[i] > 0);
    expect(served.map((tg) => world.healthy.get(tg))).toEqual([2]);
  });

  test("the template's weights are the custom resource's answer, never literals (a literal 100/0 would send every request to the empty group)", () => {
    const s = canary();
    const { groups } = productionRuleOf(s);
    const [traffic] = Object.keys(s.template.findResources('Custom::ProductionTraffic'));
    expect(groups.map((g: any) => g.Weight)).toEqual([
      { 'Fn::GetAtt': [traffic, 'BlueWeight'] },
      { 'Fn::GetAtt': [traffic, 'GreenWeight'] },
    ]);
  });

  test('the custom resource carries every property of the rule but its weights, so whatever rewrites the rule reruns it first', () => {
    const s = canary();
    const { rule, groups } = productionRuleOf(s);
    const [traffic] = Object.values<any>(s.template.findResources('Custom::ProductionTraffic'));
    expect(traffic.Properties).toMatchObject({
      ListenerArn: rule.ListenerArn,
      TargetGroupArns: groups.map((g: any) => g.TargetGroupArn),
      Priority: String(rule.Priority),
      PathPattern: rule.Conditions[0].PathPatternConfig.Values[0],
    });
    expect(rule.Conditions).toHaveLength(1);
  });
});

describe('the production rule does not shadow rules a user adds to the listener', () => {
  test('it has the lowest precedence a listener allows (priority 50000), below any rule a user adds', () => {
    const stack = newStack();
    const api = new FargateWebServiceWithDatabase(stack, 'Api', {
      image: fixtureImage(EnvironmentProfile.DEV),
      service: { rolloutStrategy: RolloutStrategy.canary() },
    });
    api.listener.addAction('Maintenance', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/admin/*'])],
      action: elbv2.ListenerAction.fixedResponse(503),
    });
    const template = Template.fromStack(stack);
    const priorities = Object.values<any>(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))
      .map((r) => r.Properties.Priority)
      .sort((a: number, b: number) => a - b);
    expect(priorities).toEqual([10, 50000]);
  });
});

describe('the production traffic reader', () => {
  test('refuses an update that would send production traffic to a replaced, empty target group while the other serves', async () => {
    const world: World = {
      rules: new Map([
        [
          'l',
          [
            {
              arn: 'r',
              priority: '50000',
              weights: new Map([
                ['tg-blue', 100],
                ['tg-green', 0],
              ]),
            },
          ],
        ],
      ]),
      healthy: new Map([['tg-blue', 2]]),
    };
    serve(world);
    // container.port changed: both target groups are replaced by new, empty ones.
    await expect(
      onEvent(clients, {
        RequestType: 'Update',
        StackId: STACK,
        ResourceProperties: properties('l', 'tg-blue-2', 'tg-green-2'),
        OldResourceProperties: properties('l'),
      }),
    ).rejects.toThrow(
      /^this update would send 100 % of production traffic to target group tg-blue-2, which has no healthy targets, while tg-blue has 2 healthy: it replaces the target group that serves/,
    );
  });

  test('one replaced target group: the kept one keeps its weight when it serves', async () => {
    const world: World = {
      rules: new Map([
        [
          'l',
          [
            {
              arn: 'r',
              priority: '1',
              weights: new Map([
                ['tg-blue', 0],
                ['tg-green', 100],
              ]),
            },
          ],
        ],
      ]),
      healthy: new Map([['tg-green', 3]]),
    };
    serve(world);
    const result = await onEvent(clients, {
      RequestType: 'Update',
      StackId: STACK,
      ResourceProperties: properties('l', 'tg-blue-2', 'tg-green'),
      OldResourceProperties: properties('l'),
    });
    expect(result.Data).toEqual({
      BlueWeight: 0,
      GreenWeight: 100,
      Source: 'the live production rule (one target group replaced)',
    });
  });

  test('a canary in flight (95/5) is written back as it is', async () => {
    serve({
      rules: new Map([
        [
          'l',
          [
            {
              arn: 'r',
              priority: '1',
              weights: new Map([
                ['tg-blue', 95],
                ['tg-green', 5],
              ]),
            },
          ],
        ],
      ]),
      healthy: new Map([
        ['tg-blue', 2],
        ['tg-green', 1],
      ]),
    });
    const result = await onEvent(clients, {
      RequestType: 'Update',
      StackId: STACK,
      ResourceProperties: properties('l2'),
      OldResourceProperties: properties('l'),
    });
    expect(result.Data).toMatchObject({ BlueWeight: 95, GreenWeight: 5 });
  });

  test('during a rollback it never fails: the live weights, or 100/0 when they cannot be read', async () => {
    serve({ rules: new Map(), healthy: new Map() });
    elbMock.on(DescribeTargetHealthCommand).rejects(new Error('TargetGroupNotFound'));
    elbMock.on(DescribeRulesCommand).rejects(new Error('ListenerNotFound'));
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Api', StackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', CreationTime: new Date() }],
    });
    const event: TrafficEvent = {
      RequestType: 'Update',
      StackId: STACK,
      ResourceProperties: properties('l'),
      OldResourceProperties: properties('l-new'),
    };
    expect((await onEvent(clients, event)).Data).toEqual({
      BlueWeight: 100,
      GreenWeight: 0,
      Source: 'the rollback (live weights unreadable)',
    });
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Api', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }],
    });
    await expect(onEvent(clients, event)).rejects.toThrow('ListenerNotFound');
  });

  test('Delete leaves the rule to CloudFormation and calls nothing', async () => {
    serve({ rules: new Map(), healthy: new Map() });
    const result = await onEvent(clients, {
      RequestType: 'Delete',
      ResourceProperties: properties('l'),
      PhysicalResourceId: 'production-traffic',
    });
    expect(result).toEqual({ PhysicalResourceId: 'production-traffic' });
    expect(elbMock.calls()).toHaveLength(0);
  });

  test('reads only this stack and describes only rules and target health', () => {
    const s = canary();
    const reader = Object.entries<any>(s.template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('ApiProductionTrafficReader'),
    )!;
    const roleId = reader[1].Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values<any>(s.template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'],
        Effect: 'Allow',
        Resource: '*',
      },
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });
});
