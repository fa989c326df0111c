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
import { ExpectedResult, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import { appUserIs, createAndList, EVENTUALLY, integTest, migrationsSucceeded, ready, sampleApi } from './sample-app';
import { RdsProxy } from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegDatabaseProxy');
const api = sampleApi(stack, { database: { proxy: RdsProxy.iamAuthenticated() } });
const proxy = api.databaseProxy!;
const integ = integTest(stack, 'DatabaseProxy');

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
targets.waitForAssertions(EVENTUALLY);

const migrations = migrationsSucceeded(integ, api);
const isReady = ready(integ, api);
const { create, list } = createAndList(integ, api, { email: 'proxy@example.com', name: 'Through The Proxy' });
appUserIs(integ, api, {
  superuser: 'false',
  createRole: 'false',
  memberOfAdmin: 'false',
  createRoleRefused: 'true',
  passwordSet: 'false',
});

described.next(targets).next(migrations).next(isReady).next(create).next(list);
