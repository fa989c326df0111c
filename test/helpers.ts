import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EnvironmentProfile, FargateWebServiceWithDatabase } from '../src';
import { FIXTURE_APP, fixtureImage, newStack, PropsWithoutImage, resourceCounts, withProdHttps } from '../tools/stacks';

export { FIXTURE_APP, newStack, resourceCounts };

export interface Synthesized {
  readonly stack: Stack;
  readonly construct: FargateWebServiceWithDatabase;
  readonly template: Template;
}

export type TestProps = PropsWithoutImage;

/** Synthesizes the construct as `Api`; prod gets a pushed image tag and a certificate unless the test sets them. */
export function synth(props: TestProps = {}, stack: Stack = newStack()): Synthesized {
  const construct = new FargateWebServiceWithDatabase(stack, 'Api', {
    image: fixtureImage(props.profile),
    ...withProdHttps(stack, props),
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
  addTaskEndpoints(vpc);
  return vpc;
}

/** The endpoints Fargate tasks need without a route to the internet: ECR, CloudWatch Logs, Secrets Manager, S3. */
export function addTaskEndpoints(vpc: ec2.Vpc): void {
  for (const [id, service] of Object.entries({
    EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
    EcrDkr: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    Secrets: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  })) {
    vpc.addInterfaceEndpoint(id, { service });
  }
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
}

/** The distinct logical ids a template value refers to (by Ref or Fn::GetAtt), in the order they appear. */
export function referencedIds(value: unknown): string[] {
  const text = JSON.stringify(value ?? null);
  return [...new Set([...text.matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g)].map((m) => m[1]))];
}

/** A Lambda Invoke payload as a mocked client returns it (the SDK types it as its blob adapter). */
export const invokePayload = (text: string) => Buffer.from(text) as unknown as InvokeCommandOutput['Payload'];
