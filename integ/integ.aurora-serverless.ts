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
import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import { appUserIs, createAndList, integTest, migrationsSucceeded, ready, sampleApi } from './sample-app';
import { DatabaseEngine } from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegAuroraServerless');
const api = sampleApi(stack, { database: { engine: DatabaseEngine.auroraServerless() } });
const integ = integTest(stack, 'AuroraServerless');

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
const migrations = migrationsSucceeded(integ, api);
const isReady = ready(integ, api);
const { create, list } = createAndList(integ, api, { email: 'aurora@example.com', name: 'On Aurora' });
appUserIs(integ, api, { superuser: 'false', createRole: 'false', memberOfAdmin: 'false', createRoleRefused: 'true' });

cluster.next(migrations).next(isReady).next(create).next(list);
