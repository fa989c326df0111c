/**
 * Integration test: the sample users API on Aurora PostgreSQL Serverless v2 (`DatabaseEngine.auroraServerless()`),
 * dev profile: the writer scales to zero ACUs and pauses after 5 minutes without connections.
 *
 * Deploys FwsdIntegAuroraServerless: a VPC without NAT, the sample app (sample-app/, built for X86_64 by the CDK CLI),
 * the migration gate and an Aurora Serverless v2 cluster (0 to 2 ACUs, one writer).
 *
 * Checks: the cluster reports aurora-postgresql, storage encryption, IAM authentication and the 0-2 ACU range with
 * auto-pause; the migration task stopped with exit code 0; GET /ready answers 200 (allow for a resume of up to about
 * 15 s if the writer paused); POST /users answers 201 and GET /users lists the user; the bootstrap found the app user
 * without admin powers, refused CREATE ROLE, and set its password from the secret attached to the cluster.
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine.
 * Run: `npx projen integ:deploy`. Time: about 30 minutes. Cost: under 0.20 USD per run (ACU-hours while active).
 */
import * as path from 'path';
import { ActualResult, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import {
  ContainerHealthCheck,
  DatabaseEngine,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  ServiceImage,
} from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegAuroraServerless');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.DEV,
  image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
  // The sample app is a Node.js app: its image has node for the container health check, and it reads NODE_ENV.
  container: { healthCheck: ContainerHealthCheck.nodeFetch(), environment: { NODE_ENV: 'production' } },
  migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
  database: { engine: DatabaseEngine.auroraServerless() },
});

const integ = new IntegTest(app, 'AuroraServerless', {
  testCases: [stack],
  stackUpdateWorkflow: false,
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const eventually = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) };

const cluster = integ.assertions
  .awsApiCall('RDS', 'describeDBClusters', { DBClusterIdentifier: api.databaseCluster!.clusterIdentifier })
  .expect(
    ExpectedResult.objectLike({
      DBClusters: [
        Match.objectLike({
          Engine: 'aurora-postgresql',
          StorageEncrypted: true,
          IAMDatabaseAuthenticationEnabled: true,
          ServerlessV2ScalingConfiguration: Match.objectLike({ MinCapacity: 0, MaxCapacity: 2 }),
        }),
      ],
    }),
  );

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
    body: JSON.stringify({ email: 'aurora@example.com', name: 'On Aurora' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201, body: { email: 'aurora@example.com' } }));
const list = integ.assertions.httpApiCall(`${api.url}/users?limit=100`).expect(
  ExpectedResult.objectLike({
    status: 200,
    body: { data: Match.arrayWith([Match.objectLike({ email: 'aurora@example.com' })]) },
  }),
);

for (const [attribute, value] of [
  ['superuser', 'false'],
  ['createRole', 'false'],
  ['memberOfAdmin', 'false'],
  ['createRoleRefused', 'true'],
]) {
  integ.assertions.expect(
    `AppUser${attribute}`,
    ExpectedResult.exact(value),
    ActualResult.fromCustomResource(api.databaseAppUser, attribute),
  );
}

cluster.next(migrations).next(ready).next(create).next(list);
