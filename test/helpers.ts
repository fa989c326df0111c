import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  FargateWebServiceWithDatabaseProps,
  ServiceImage,
} from '../src';

export const FIXTURE_APP = path.join(__dirname, 'fixtures', 'app');

export interface Synthesized {
  readonly stack: Stack;
  readonly construct: FargateWebServiceWithDatabase;
  readonly template: Template;
}

/** Props without the image, which every test gives the same way unless it says otherwise. */
export type TestProps = Omit<FargateWebServiceWithDatabaseProps, 'image'> & { image?: ServiceImage };

/** A stack in a concrete environment, so AZ lookups resolve to real names. */
export function newStack(id = 'Test'): Stack {
  const app = new App();
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

export function synth(props: TestProps = {}, stack: Stack = newStack()): Synthesized {
  const construct = new FargateWebServiceWithDatabase(stack, 'Api', {
    image: ServiceImage.fromDirectory(FIXTURE_APP),
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

const shared = new Map<EnvironmentProfile, Synthesized>();

/** Stacks with default props, synthesized once per profile and shared by tests that only read them. */
export function defaultStack(profile: EnvironmentProfile): Synthesized {
  let synthesized = shared.get(profile);
  if (!synthesized) {
    synthesized = synth({ profile });
    shared.set(profile, synthesized);
  }
  return synthesized;
}

/** Resource count by type. */
export function resourceCounts(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values<{ Type: string }>(template.toJSON().Resources)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The single resource of a type, with its logical id. */
export function onlyResource(template: Template, type: string): { id: string; props: any; resource: any } {
  const found = template.findResources(type);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}`);
  return { id: ids[0], props: found[ids[0]].Properties, resource: found[ids[0]] };
}

/** A VPC with only isolated subnets and the endpoints Fargate tasks need to start without internet access. */
export function isolatedVpcWithEndpoints(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'Isolated', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  for (const [id, service] of Object.entries({
    EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
    EcrDkr: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    Secrets: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  })) {
    vpc.addInterfaceEndpoint(id, { service });
  }
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  return vpc;
}
