/**
 * Integration test: the sample users API on the dev profile, with the migration gate.
 *
 * Deploys FwsdIntegDevSampleApp: a VPC without NAT gateways, the sample app (sample-app/, built for X86_64 by the CDK
 * CLI), a single-AZ db.t4g.micro PostgreSQL, the migration gate, alarms and the dashboard.
 *
 * Checks, through the load balancer: GET /health and GET /ready answer 200; POST /users answers 201 and
 * GET /users lists the new user, so data really went through the database; and the migration gate's one-off task
 * stopped with exit code 0 before the service started.
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine
 * (the image is built at deploy time). Run: `npx projen integ:deploy`.
 * Time: about 25 minutes (the database dominates). Cost: under 0.20 USD per run.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { EnvironmentProfile, FargateWebServiceWithDatabase, ServiceImage } from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegDevSampleApp');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.DEV,
  image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
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

health.next(ready).next(create).next(list).next(migrations);
