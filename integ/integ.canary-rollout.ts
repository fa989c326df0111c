/**
 * Integration test: a canary rollout on ECS's own strategy, exercised by a real deployment.
 *
 * Deploys FwsdIntegCanaryRollout: the sample app on the dev profile with the migration gate and
 * RolloutStrategy.canary (20 % for 1 minute, 1 minute bake). Then forces a new deployment and checks, through the
 * ELB and ECS APIs: the production listener rule first sends all traffic to the primary target group; during the
 * deployment the alternate target group gets the canary's 20 %; at the end it gets 100 % and the deployment is
 * COMPLETED with one deployment left; a request through the load balancer then succeeds.
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine.
 * Run: `npx projen integ:deploy`. Time: about 35 minutes. Cost: under 0.20 USD per run.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import {
  ContainerHealthCheck,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  RolloutStrategy,
  ServiceImage,
} from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegCanaryRollout');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.DEV,
  image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  // The sample app is a Node.js app: its image has node for the container health check, and it reads NODE_ENV.
  container: { healthCheck: ContainerHealthCheck.nodeFetch(), environment: { NODE_ENV: 'production' } },
  migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
  service: {
    rolloutStrategy: RolloutStrategy.canary({
      percent: 20,
      canaryBakeTime: Duration.minutes(1),
      bakeTime: Duration.minutes(1),
    }),
  },
});

const integ = new IntegTest(app, 'CanaryRollout', {
  testCases: [stack],
  stackUpdateWorkflow: false,
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const eventually = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) };
const primary = api.targetGroup.targetGroupArn;
const alternate = api.alternateTargetGroup!.targetGroupArn;

/** The production rule's forward weights, as the ELB API reports them. */
const weights = (primaryWeight: number, alternateWeight: number) =>
  ExpectedResult.objectLike({
    Rules: Match.arrayWith([
      Match.objectLike({
        Priority: '50000',
        Actions: [
          Match.objectLike({
            ForwardConfig: Match.objectLike({
              TargetGroups: Match.arrayWith([
                Match.objectLike({ TargetGroupArn: primary, Weight: primaryWeight }),
                Match.objectLike({ TargetGroupArn: alternate, Weight: alternateWeight }),
              ]),
            }),
          }),
        ],
      }),
    ]),
  });
// integ-tests-alpha grants `elasticloadbalancingv2:DescribeRules`, which is not an IAM action: the service prefix is
// `elasticloadbalancing` (aws-cdk #32417). DescribeRules supports no resource-level permissions.
const describeRules = { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeRules'], Resource: ['*'] };
const rules = () => {
  const call = integ.assertions.awsApiCall('ElasticLoadBalancingV2', 'describeRules', {
    ListenerArn: api.listener.listenerArn,
  });
  call.provider.addToRolePolicy(describeRules);
  return call;
};
/** Polls until the rules match; the waiter's own functions need the real action too. */
const waitFor = (call: ReturnType<typeof rules>, options: { totalTimeout: Duration; interval: Duration }) => {
  call.waitForAssertions(options);
  call.waiterProvider?.addToRolePolicy(describeRules);
  return call;
};

const health = integ.assertions
  .httpApiCall(`${api.url}/health`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));
health.waitForAssertions(eventually);

const before = rules().expect(weights(100, 0));
const deploy = integ.assertions.awsApiCall('ECS', 'updateService', {
  cluster: api.cluster.clusterArn,
  service: api.service.serviceName,
  forceNewDeployment: true,
});
// The canary step lasts a minute: a 10-second poll sees it.
const canary = rules().expect(weights(80, 20));
waitFor(canary, { totalTimeout: Duration.minutes(10), interval: Duration.seconds(10) });
const shifted = rules().expect(weights(0, 100));
waitFor(shifted, { totalTimeout: Duration.minutes(15), interval: Duration.seconds(20) });
const completed = integ.assertions
  .awsApiCall('ECS', 'describeServices', { cluster: api.cluster.clusterArn, services: [api.service.serviceName] })
  .expect(
    ExpectedResult.objectLike({
      services: [
        Match.objectLike({ deployments: [Match.objectLike({ status: 'PRIMARY', rolloutState: 'COMPLETED' })] }),
      ],
    }),
  );
completed.waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });
const served = integ.assertions
  .httpApiCall(`${api.url}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'canary@example.com', name: 'Canary' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201 }));

health.next(before).next(deploy).next(canary).next(shifted).next(completed).next(served);
