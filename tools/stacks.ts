import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { EnvironmentProfile, FargateWebServiceWithDatabaseProps, Https, ServiceImage } from '../src';

/** A minimal app directory with a Dockerfile: synthesis only copies it, no Docker engine is needed. */
export const FIXTURE_APP = path.join(__dirname, 'fixtures', 'app');

/** Props without the image, which every caller gives the same way unless it says otherwise. */
export type PropsWithoutImage = Omit<FargateWebServiceWithDatabaseProps, 'image'> & { image?: ServiceImage };

/** A stack in a concrete environment, so AZ lookups resolve to real names and access logs can be on. */
export function newStack(id = 'Test'): Stack {
  const app = new App();
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

/** Resource count by type. */
export function resourceCounts(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values<{ Type: string }>(template.toJSON().Resources)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The image tests and benchmarks run: built from the fixture app, or in prod (which refuses that) a pushed tag. */
export function fixtureImage(profile: EnvironmentProfile | undefined): ServiceImage {
  return profile === EnvironmentProfile.PROD
    ? ServiceImage.fromRepositoryTag('fixture-1')
    : ServiceImage.fromDirectory(FIXTURE_APP);
}

/**
 * Prod refuses plain HTTP, so a prod stack built for a test or a benchmark gets an imported certificate unless the
 * caller chose `loadBalancer.https` itself.
 */
export function withProdHttps(stack: Stack, props: PropsWithoutImage): PropsWithoutImage {
  if (props.profile !== EnvironmentProfile.PROD || props.loadBalancer?.https) return props;
  const certificate = acm.Certificate.fromCertificateArn(
    stack,
    'ProdCertificate',
    'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  );
  return { ...props, loadBalancer: { ...props.loadBalancer, https: Https.fromCertificate(certificate) } };
}
