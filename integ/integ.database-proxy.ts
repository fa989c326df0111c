/**
 * Integration test: the sample users API behind RDS Proxy with end-to-end IAM authentication (`database.proxy`).
 *
 * Deploys FwsdIntegDatabaseProxy: the dev profile (VPC without NAT, single-AZ db.t4g.micro), the sample app
 * (sample-app/, built for X86_64 by the CDK CLI), the migration gate, and `RdsProxy.iamAuthenticated()`. The tasks get
 * the proxy's endpoint and `DB_IAM_AUTH=true`, no password: every connection of the app and of the migration task
 * is an IAM token signed by the task role, and the proxy logs in to the instance with IAM as the app user.
 *
 * Checks: the proxy reports end-to-end IAM and TLS required, and its target (the instance) AVAILABLE; the migration
 * task stopped with exit code 0 (it connected through the proxy with a token); GET /ready answers 200 (the app's
 * connection works); POST /users answers 201 and GET /users lists the user, so data went through the proxy; the
 * bootstrap found the app user without admin powers and refused CREATE ROLE, and left it no password (`passwordSet`
 * false: there is none to set).
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine.
 * Run: `npx projen integ:deploy`. Time: about 40 minutes (the database and the proxy dominate). Cost: under 0.30 USD
 * per run (the proxy bills 2 vCPUs of the instance class for the hour).
 */
import * as path from 'path';
import { ActualResult, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import {
  ContainerHealthCheck,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  RdsProxy,
  ServiceImage,
} from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegDatabaseProxy');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.DEV,
  image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  // The sample app is a Node.js app: its image has node for the container health check, and it reads NODE_ENV.
  container: { healthCheck: ContainerHealthCheck.nodeFetch(), environment: { NODE_ENV: 'production' } },
  migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
  database: { proxy: RdsProxy.iamAuthenticated() },
});
const proxy = api.databaseProxy!;

const integ = new IntegTest(app, 'DatabaseProxy', {
  testCases: [stack],
  stackUpdateWorkflow: false,
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const eventually = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) };

const described = integ.assertions.awsApiCall('RDS', 'describeDBProxies', { DBProxyName: proxy.dbProxyName }).expect(
  ExpectedResult.objectLike({
    DBProxies: [Match.objectLike({ DefaultAuthScheme: 'IAM_AUTH', RequireTLS: true, EngineFamily: 'POSTGRESQL' })],
  }),
);
const targets = integ.assertions.awsApiCall('RDS', 'describeDBProxyTargets', { DBProxyName: proxy.dbProxyName }).expect(
  ExpectedResult.objectLike({
    Targets: Match.arrayWith([Match.objectLike({ Type: 'RDS_INSTANCE', TargetHealth: { State: 'AVAILABLE' } })]),
  }),
);
targets.waitForAssertions(eventually);

const migrations = integ.assertions
  .awsApiCall('ECS', 'describeTasks', { cluster: api.cluster.clusterArn, tasks: [api.migrationGate!.ref] })
  .expect(
    ExpectedResult.objectLike({
      tasks: [Match.objectLike({ lastStatus: 'STOPPED', containers: [Match.objectLike({ exitCode: 0 })] })],
    }),
  );

const ready = integ.assertions
  .httpApiCall(`${api.url}/ready`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ready' } }));
ready.waitForAssertions(eventually);

const create = integ.assertions
  .httpApiCall(`${api.url}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'proxy@example.com', name: 'Through The Proxy' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201, body: { email: 'proxy@example.com' } }));
const list = integ.assertions.httpApiCall(`${api.url}/users?limit=100`).expect(
  ExpectedResult.objectLike({
    status: 200,
    body: { data: Match.arrayWith([Match.objectLike({ email: 'proxy@example.com' })]) },
  }),
);

for (const [attribute, value] of [
  ['superuser', 'false'],
  ['createRole', 'false'],
  ['memberOfAdmin', 'false'],
  ['createRoleRefused', 'true'],
  ['passwordSet', 'false'],
]) {
  integ.assertions.expect(
    `AppUser${attribute}`,
    ExpectedResult.exact(value),
    ActualResult.fromCustomResource(api.databaseAppUser, attribute),
  );
}

described.next(targets).next(migrations).next(ready).next(create).next(list);
