/**
 * What the integration tests that deploy the sample app share: the construct with the sample app's image and its
 * choices, and the checks of a working deployment. Not a test itself (integ-runner runs `integ.*.ts` only).
 */
import * as path from 'path';
import { ActualResult, ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Duration, Stack } from 'aws-cdk-lib';
import {
  ContainerHealthCheck,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  FargateWebServiceWithDatabaseProps,
  ServiceImage,
} from '../src';

/** The sample app (built for X86_64 by the CDK CLI) on the dev profile with the migration gate, and `props`. */
export function sampleApi(
  stack: Stack,
  props: Omit<FargateWebServiceWithDatabaseProps, 'image'> = {},
): FargateWebServiceWithDatabase {
  return new FargateWebServiceWithDatabase(stack, 'Api', {
    profile: EnvironmentProfile.DEV,
    image: ServiceImage.fromDirectory(path.join(__dirname, '..', 'sample-app')),
    // The sample app is a Node.js app: its image has node for the container health check, and it reads NODE_ENV.
    container: { healthCheck: ContainerHealthCheck.nodeFetch(), environment: { NODE_ENV: 'production' } },
    migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
    ...props,
  });
}

/** The test around one stack: one deployment, no update workflow; new task definitions replace the old ones. */
export function integTest(scope: Stack, id: string): IntegTest {
  return new IntegTest(scope.node.root as any, id, {
    testCases: [scope],
    stackUpdateWorkflow: false,
    allowDestroy: ['AWS::ECS::TaskDefinition'],
  });
}

export const EVENTUALLY = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) };

/** The migration gate's one-off task stopped with exit code 0. */
export function migrationsSucceeded(integ: IntegTest, api: FargateWebServiceWithDatabase): IApiCall {
  return integ.assertions
    .awsApiCall('ECS', 'describeTasks', { cluster: api.cluster.clusterArn, tasks: [api.migrationGate!.ref] })
    .expect(
      ExpectedResult.objectLike({
        tasks: [Match.objectLike({ lastStatus: 'STOPPED', containers: [Match.objectLike({ exitCode: 0 })] })],
      }),
    );
}

/** GET /ready answers 200 within ten minutes: the app reached its database. */
export function ready(integ: IntegTest, api: FargateWebServiceWithDatabase): IApiCall {
  const call = integ.assertions
    .httpApiCall(`${api.url}/ready`)
    .expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ready' } }));
  call.waitForAssertions(EVENTUALLY);
  return call;
}

/** POST /users answers 201 for this user; GET /users lists it. */
export function createAndList(
  integ: IntegTest,
  api: FargateWebServiceWithDatabase,
  user: { readonly email: string; readonly name: string },
): { readonly create: IApiCall; readonly list: IApiCall } {
  const create = integ.assertions
    .httpApiCall(`${api.url}/users`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(user),
    })
    .expect(ExpectedResult.objectLike({ status: 201, body: { email: user.email } }));
  const list = integ.assertions.httpApiCall(`${api.url}/users?limit=100`).expect(
    ExpectedResult.objectLike({
      status: 200,
      body: { data: Match.arrayWith([Match.objectLike({ email: user.email, name: user.name })]) },
    }),
  );
  return { create, list };
}

/** The app user as the bootstrap found it on the deployed database, attribute by attribute. */
export function appUserIs(
  integ: IntegTest,
  api: FargateWebServiceWithDatabase,
  expected: Readonly<Record<string, 'true' | 'false'>>,
): void {
  for (const [attribute, value] of Object.entries(expected)) {
    integ.assertions.expect(
      `AppUser${attribute}`,
      ExpectedResult.exact(value),
      ActualResult.fromCustomResource(api.databaseAppUser, attribute),
    );
  }
}
