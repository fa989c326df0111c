/**
 * Integration test: the sample users API on the dev profile, with the migration gate.
 *
 * Deploys FwsdIntegDevSampleApp: a VPC without NAT gateways, the sample app (sample-app/, built for X86_64 by the CDK
 * CLI), a single-AZ db.t4g.micro PostgreSQL, the migration gate, alarms and the dashboard.
 *
 * Checks, through the load balancer: GET /health and GET /ready answer 200; POST /users answers 201 and
 * GET /users lists the new user, so data really went through the database; and the migration gate's one-off task
 * stopped with exit code 0 before the service started. The app's database user, as the bootstrap found it when
 * deployed: not a superuser, not a role or database creator, and refused when it tried CREATE ROLE. Then a rotation
 * of the app's credentials (turned on here; dev keeps it off by default): the secret's current login becomes the
 * clone, ECS finishes the redeploy the construct starts after it, and requests through the load balancer still
 * succeed.
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine
 * (the image is built at deploy time). Run: `npx projen integ:deploy`.
 * Time: about 35 minutes (the database dominates). Cost: under 0.25 USD per run (rotation adds a Secrets Manager
 * endpoint for the hour).
 */
import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { appUserIs, createAndList, EVENTUALLY, integTest, migrationsSucceeded, ready, sampleApi } from './sample-app';
import { CredentialRotation } from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegDevSampleApp');
const api = sampleApi(stack, { database: { rotation: CredentialRotation.every(Duration.days(30)) } });
// The database makes a second deployment (the update workflow) too slow to be worth it here.
const integ = integTest(stack, 'DevSampleApp');
const eventually = EVENTUALLY;

const health = integ.assertions
  .httpApiCall(`${api.url}/health`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));
health.waitForAssertions(eventually);
const isReady = ready(integ, api);
const { create, list } = createAndList(integ, api, { email: 'integ@example.com', name: 'Integration Test' });
const migrations = migrationsSucceeded(integ, api);

// The app user, as the bootstrap found it on the deployed database.
appUserIs(integ, api, {
  superuser: 'false',
  createRole: 'false',
  createDatabase: 'false',
  memberOfAdmin: 'false',
  createRoleRefused: 'true',
});

// A rotation of the app's credentials, then the redeploy the construct starts, then traffic.
const rotate = integ.assertions.awsApiCall('SecretsManager', 'rotateSecret', {
  SecretId: api.databaseSecret!.secretArn,
});
const rotated = integ.assertions
  .awsApiCall('SecretsManager', 'getSecretValue', { SecretId: api.databaseSecret!.secretArn })
  .expect(ExpectedResult.objectLike({ SecretString: Match.stringLikeRegexp('"username":"app_user_clone"') }));
rotated.waitForAssertions(eventually);
const describeService = { cluster: api.cluster.clusterArn, services: [api.service.serviceName] };
// The redeploy takes minutes (a new task, then the old one drains), so a 10-second poll sees both deployments.
const redeploying = integ.assertions.awsApiCall('ECS', 'describeServices', describeService).expect(
  ExpectedResult.objectLike({
    services: [Match.objectLike({ deployments: Match.arrayWith([Match.objectLike({ status: 'ACTIVE' })]) })],
  }),
);
redeploying.waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(10) });
const redeployed = integ.assertions.awsApiCall('ECS', 'describeServices', describeService).expect(
  ExpectedResult.objectLike({
    services: [
      Match.objectLike({
        deployments: [Match.objectLike({ status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1 })],
      }),
    ],
  }),
);
redeployed.waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });
const createAfterRotation = integ.assertions
  .httpApiCall(`${api.url}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'after-rotation@example.com', name: 'After Rotation' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201, body: { email: 'after-rotation@example.com' } }));

health
  .next(isReady)
  .next(create)
  .next(list)
  .next(migrations)
  .next(rotate)
  .next(rotated)
  .next(redeploying)
  .next(redeployed)
  .next(createAfterRotation);
