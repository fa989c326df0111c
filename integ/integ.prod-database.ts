/**
 * Integration test: the prod profile's safety properties, deployed.
 *
 * Deploys FwsdIntegProdDatabase: a VPC with a NAT gateway per AZ, two tasks of a small public image, a Multi-AZ
 * db.m7g.large PostgreSQL with deletion protection, a WAF web ACL, an AWS Backup plan, alarms and the dashboard.
 *
 * Checks: the database is Multi-AZ, deletion-protected and storage-encrypted; the service runs its desired count of
 * two tasks, one in each of the first two AZs; the eleven alarms and the two deployment alarms exist. Then it turns deletion protection off on the
 * database and the load balancer so the test can clean up.
 *
 * Prerequisites: an AWS account and region bootstrapped with `cdk bootstrap`, and credentials.
 * Run: `npx projen integ:deploy`. Time: about 40 minutes (Multi-AZ creation and deletion). Cost: about 1 USD per run.
 * The KMS keys are retained by design and left behind; delete them by hand if you like. The stack is
 * environment-agnostic (integ-runner chooses the region), so it turns access logs off (their bucket policy names the
 * region's load balancing account), and it serves plain HTTP behind Https.terminatedUpstream(): a sandbox account has
 * no domain to validate a certificate for.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import {
  AccessLogs,
  ContainerHealthCheck,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  Https,
  ServiceImage,
} from '../src';

const app = new App();
const stack = new Stack(app, 'FwsdIntegProdDatabase');
const api = new FargateWebServiceWithDatabase(stack, 'Api', {
  profile: EnvironmentProfile.PROD,
  // A public image that serves 200 on any path as a non-root user on port 8080; the test checks the platform, not the app.
  image: ServiceImage.fromContainerImage(
    ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx-unprivileged:stable'),
  ),
  container: { port: 8080, healthCheck: ContainerHealthCheck.none(), user: '101', readonlyRootFilesystem: false },
  loadBalancer: {
    healthCheck: { path: '/' },
    https: Https.terminatedUpstream(),
    accessLogs: AccessLogs.disabled(),
  },
});

const integ = new IntegTest(app, 'ProdDatabase', {
  testCases: [stack],
  stackUpdateWorkflow: false,
  // Any change to the container makes a new task definition revision: replacing it is how ECS deploys.
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const eventually = { totalTimeout: Duration.minutes(15), interval: Duration.seconds(30) };

const database = integ.assertions
  .awsApiCall('RDS', 'describeDBInstances', { DBInstanceIdentifier: api.database!.instanceIdentifier })
  .expect(
    ExpectedResult.objectLike({
      DBInstances: [Match.objectLike({ MultiAZ: true, DeletionProtection: true, StorageEncrypted: true })],
    }),
  );

const service = integ.assertions
  .awsApiCall('ECS', 'describeServices', { cluster: api.cluster.clusterArn, services: [api.service.serviceArn] })
  .expect(ExpectedResult.objectLike({ services: [Match.objectLike({ desiredCount: 2, runningCount: 2 })] }));
service.waitForAssertions(eventually);

const taskList = integ.assertions.awsApiCall('ECS', 'listTasks', {
  cluster: api.cluster.clusterArn,
  serviceName: api.service.serviceName,
  desiredStatus: 'RUNNING',
});
const spread = integ.assertions
  .awsApiCall('ECS', 'describeTasks', {
    cluster: api.cluster.clusterArn,
    tasks: [taskList.getAttString('taskArns.0'), taskList.getAttString('taskArns.1')],
  })
  .expect(
    ExpectedResult.objectLike({
      tasks: Match.arrayWith([
        Match.objectLike({ availabilityZone: stack.availabilityZones[0] }),
        Match.objectLike({ availabilityZone: stack.availabilityZones[1] }),
      ]),
    }),
  );

const alarms = integ.assertions
  .awsApiCall('CloudWatch', 'describeAlarms', {
    AlarmNames: [...api.alarms, ...api.deploymentAlarms].map((a) => a.alarmName),
  })
  .expect(
    ExpectedResult.objectLike({
      MetricAlarms: Match.arrayWith(
        [...api.alarms, ...api.deploymentAlarms].map((a) => Match.objectLike({ AlarmName: a.alarmName })),
      ),
    }),
  );

// Let the test clean up: prod refuses deletion of the database and the load balancer.
const unprotectDatabase = integ.assertions.awsApiCall('RDS', 'modifyDBInstance', {
  DBInstanceIdentifier: api.database!.instanceIdentifier,
  DeletionProtection: false,
  ApplyImmediately: true,
});
const unprotectLoadBalancer = integ.assertions.awsApiCall('ElasticLoadBalancingV2', 'modifyLoadBalancerAttributes', {
  LoadBalancerArn: api.loadBalancer.loadBalancerArn,
  Attributes: [{ Key: 'deletion_protection.enabled', Value: 'false' }],
});
unprotectLoadBalancer.provider.addToRolePolicy({
  Effect: 'Allow',
  Action: ['elasticloadbalancing:ModifyLoadBalancerAttributes'],
  Resource: ['*'],
});

database.next(service).next(taskList).next(spread).next(alarms).next(unprotectDatabase).next(unprotectLoadBalancer);
