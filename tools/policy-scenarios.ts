import { Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import {
  DatabaseEngine,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  Https,
  RdsProxy,
  RolloutStrategy,
} from '../src';
import { fixtureImage, newStack, PropsWithoutImage } from './stacks';

export interface Scenario {
  readonly name: string;
  readonly stack: Stack;
  readonly construct: FargateWebServiceWithDatabase;
}

/** Every configuration the policy gate checks, in report order. */
export const SCENARIO_NAMES = [
  'dev',
  'prod',
  'prod-https',
  'prod-https-gate',
  'prod-https-canary',
  'prod-https-proxy',
  'dev-aurora',
  'prod-https-aurora',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * The configurations the policy gate checks: both profiles, prod with HTTPS, that with the migration gate, that
 * with the gate and a canary rollout (a second target group, a weighted listener rule, ECS's traffic role), and
 * prod with HTTPS behind RDS Proxy, and Aurora: serverless in dev, provisioned with a reader in prod.
 */
export function scenario(name: ScenarioName, extra: PropsWithoutImage = {}): Scenario {
  const stack = newStack(`Policy-${name}`);
  const certificate = name.startsWith('prod-https')
    ? acm.Certificate.fromCertificateArn(
        stack,
        'Certificate',
        'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      )
    : undefined;
  const profile = name.startsWith('dev') ? EnvironmentProfile.DEV : EnvironmentProfile.PROD;
  // Not synthesized here: the cdk-nag aspects must run at the app's first synthesis.
  const construct = new FargateWebServiceWithDatabase(stack, 'Api', {
    image: fixtureImage(profile),
    profile,
    ...(name === 'prod-https-gate' || name === 'prod-https-canary'
      ? { migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] } }
      : {}),
    ...(name === 'prod-https-canary' ? { service: { rolloutStrategy: RolloutStrategy.canary() } } : {}),
    ...(name === 'prod-https-proxy' ? { database: { proxy: RdsProxy.iamAuthenticated() } } : {}),
    ...(name === 'dev-aurora' ? { database: { engine: DatabaseEngine.auroraServerless() } } : {}),
    ...(name === 'prod-https-aurora' ? { database: { engine: DatabaseEngine.auroraProvisioned() } } : {}),
    ...extra,
    // Prod without a certificate: TLS ends upstream (the only plain-HTTP prod the construct accepts).
    loadBalancer: {
      https: certificate
        ? Https.fromCertificate(certificate)
        : name === 'prod'
          ? Https.terminatedUpstream()
          : undefined,
      ...extra.loadBalancer,
    },
  });
  return { name, stack, construct };
}
