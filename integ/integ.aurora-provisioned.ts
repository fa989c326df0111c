/**
 * Integration test: the sample users API on Aurora PostgreSQL provisioned with a reader
 * (`DatabaseEngine.auroraProvisioned({ readers: 1 })`), dev profile otherwise, and a failover.
 *
 * Deploys FwsdIntegAuroraProvisioned: a VPC without NAT, the sample app (sample-app/, built for X86_64 by the CDK
 * CLI), the migration gate, and an Aurora cluster of two db.t4g.medium instances (writer and reader) in two
 * Availability Zones. The container gets the reader endpoint as DB_READ_HOST, and the app's hot read path uses it.
 *
 * Checks: the cluster has two members, one writer; the migration task stopped with exit code 0; POST /users answers
 * 201 and GET /users/1 (that user, the first of a new database) answers 200, read through the reader endpoint; then a
 * failover (`FailoverDBCluster`), after which the cluster is available again and POST /users answers 201 again within
 * five minutes (the app's pools reconnected to the writer endpoint, which now names the former reader).
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, credentials, and a Docker engine.
 * Run: `npx projen integ:deploy`. Time: about 40 minutes. Cost: under 0.30 USD per run.
 */
import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { EVENTUALLY, integTest, migrationsSucceeded, sampleApi } from './sample-app';
import { DatabaseEngine } from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegAuroraProvisioned');
const api = sampleApi(stack, { database: { engine: DatabaseEngine.auroraProvisioned({ readers: 1 }) } });
const clusterId = api.databaseCluster!.clusterIdentifier;

const integ = integTest(stack, 'AuroraProvisioned');
const describe = () => integ.assertions.awsApiCall('RDS', 'describeDBClusters', { DBClusterIdentifier: clusterId });

const members = describe().expect(
  ExpectedResult.objectLike({
    DBClusters: [
      Match.objectLike({
        Engine: 'aurora-postgresql',
        DBClusterMembers: Match.arrayWith([
          Match.objectLike({ IsClusterWriter: true }),
          Match.objectLike({ IsClusterWriter: false }),
        ]),
      }),
    ],
  }),
);

const migrations = migrationsSucceeded(integ, api);

const create = integ.assertions.httpApiCall(`${api.url}/users`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ email: 'reader@example.com', name: 'Read From The Reader' }),
});
create.expect(ExpectedResult.objectLike({ status: 201, body: { email: 'reader@example.com' } }));
// The first user of a new database has id 1; the GET goes through the reader endpoint (eventually: the replica lag
// is milliseconds).
const read = integ.assertions
  .httpApiCall(`${api.url}/users/1`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { email: 'reader@example.com' } }));
read.waitForAssertions({ totalTimeout: Duration.minutes(2), interval: Duration.seconds(10) });

const failover = integ.assertions.awsApiCall('RDS', 'failoverDBCluster', { DBClusterIdentifier: clusterId });
const available = describe().expect(
  ExpectedResult.objectLike({ DBClusters: [Match.objectLike({ Status: 'available' })] }),
);
available.waitForAssertions(EVENTUALLY);
const createAfterFailover = integ.assertions
  .httpApiCall(`${api.url}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'after-failover@example.com', name: 'After Failover' }),
  })
  .expect(ExpectedResult.objectLike({ status: 201 }));
createAfterFailover.waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });

members.next(migrations).next(create).next(read).next(failover).next(available).next(createAfterFailover);
