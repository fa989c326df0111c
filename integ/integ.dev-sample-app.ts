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
import * as path from 'path';
import { ActualResult, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import {
  ContainerHealthCheck,
  CredentialRotation,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  ServiceImage,
} from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegDevSampleApp');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.DEV,
  image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  // The sample app is a Node.js app: its image has node for the container health check, and it reads NODE_ENV.
  container: { healthCheck: ContainerHealthCheck.nodeFetch(), environment: { NODE_ENV: 'production' } },
  migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
  database: { rotation: CredentialRotation.every(Duration.days(30)) },
});

const integ = new IntegTest(app, 'DevSampleApp', {
  testCases: [stack],
  // The database makes a second deployment (the update workflow) too slow to be worth it here.
  stackUpdateWorkflow: false,
  // Any change to the container makes a new task definition revision: replacing it is how ECS deploys.
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const eventually = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) };

const health = integ.assertions
  .httpApiCall(`${api.url}/health`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));
health.waitForAssertions(eventually);

const ready = integ.assertions
  .httpApiCall(`${api.url}/ready`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ready' } }));
ready.waitForAssertions(eventually);

const create = integ.assertions
  .httpApiCall(`${api.url}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'integ@example.com', name: 'Integration Test' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201, body: { email: 'integ@example.com' } }));

const list = integ.assertions.httpApiCall(`${api.url}/users?limit=100`).expect(
  ExpectedResult.objectLike({
    status: 200,
    body: { data: Match.arrayWith([Match.objectLike({ email: 'integ@example.com', name: 'Integration Test' })]) },
  }),
);

const migrations = integ.assertions
  .awsApiCall('ECS', 'describeTasks', { cluster: api.cluster.clusterArn, tasks: [api.migrationGate!.ref] })
  .expect(
    ExpectedResult.objectLike({
      tasks: [Match.objectLike({ lastStatus: 'STOPPED', containers: [Match.objectLike({ exitCode: 0 })] })],
    }),
  );

// The app user, as the bootstrap found it on the deployed database.
for (const attribute of ['superuser', 'createRole', 'createDatabase', 'memberOfAdmin']) {
  integ.assertions.expect(
    `AppUser${attribute}`,
    ExpectedResult.exact('false'),
    ActualResult.fromCustomResource(api.databaseAppUser, attribute),
  );
}
integ.assertions.expect(
  'AppUserCreateRoleRefused',
  ExpectedResult.exact('true'),
  ActualResult.fromCustomResource(api.databaseAppUser, 'createRoleRefused'),
);

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
  .next(ready)
  .next(create)
  .next(list)
  .next(migrations)
  .next(rotate)
  .next(rotated)
  .next(redeploying)
  .next(redeployed)
  .next(createAfterRotation);
