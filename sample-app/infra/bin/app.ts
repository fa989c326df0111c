#!/usr/bin/env node
/**
 * Deploys the sample users API with FargateWebServiceWithDatabase, the way a team would.
 *
 * Context (cdk -c key=value):
 *   profile       dev | prod | all           which stack(s) to define (default: dev, from cdk.json)
 *   imageTag      <tag>                      run a tag CI pushed to the stack's repository (default: dev builds ./sample-app,
 *                                            prod runs v<version of sample-app/package.json>)
 *   domainName    api.example.com            with hostedZoneId and zoneName: HTTPS with a DNS-validated certificate
 *   hostedZoneId, zoneName
 *   tls           upstream                   prod without a domain: TLS ends in front of the load balancer (a CDN or
 *                                            proxy you run); prod refuses to synthesize with neither
 *   alarmEmail    oncall@example.com         subscribe an address to the alarm topic
 *   databaseEngine rds | aurora-serverless | aurora-provisioned
 *                                            the database (default rds: one RDS for PostgreSQL instance); Aurora stacks are
 *                                            named UsersApi-<profile>-<engine>, and the app reads from the readers
 *   databaseProxy true                       RDS Proxy in front of the database, IAM authentication end to end (the app
 *                                            signs a token per connection; the stack name ends with -proxy)
 *   nag           true                       run the cdk-nag AwsSolutions, NIST 800-53 R5, HIPAA and PCI packs at synth
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
// Installed from the packed tarball into a fresh folder by scripts/consumer-synth.sh, as a user installs it.
/* eslint-disable import/no-unresolved */
import {
  Alarms,
  ContainerHealthCheck,
  DatabaseEngine,
  EnvironmentProfile,
  FargateWebServiceWithDatabase,
  Https,
  RdsProxy,
  ServiceImage,
  WebAcl,
} from 'cdk-fargate-web-service-with-database';
/* eslint-enable import/no-unresolved */
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) ?? undefined;
const selected = context('profile') ?? 'dev';
if (!['dev', 'prod', 'all'].includes(selected)) {
  throw new Error(`context "profile" must be dev, prod or all, got "${selected}"`);
}
// The load balancer's idle timeout, handed to the app too: it keeps idle connections 5 s longer, so the load balancer
// always closes first (a keep-alive shorter than the idle timeout is a classic source of 502s).
const idleTimeout = Duration.seconds(60);
const appDirectory = process.env.SAMPLE_APP_DIR ?? path.join(__dirname, '..', '..');
const appVersion: string = JSON.parse(readFileSync(path.join(appDirectory, 'package.json'), 'utf8')).version;
const databaseEngine = context('databaseEngine') ?? 'rds';
const engines: Record<string, () => DatabaseEngine> = {
  rds: () => DatabaseEngine.rdsPostgres(),
  'aurora-serverless': () => DatabaseEngine.auroraServerless(),
  'aurora-provisioned': () => DatabaseEngine.auroraProvisioned(),
};
if (!engines[databaseEngine]) {
  throw new Error(`context "databaseEngine" must be ${Object.keys(engines).join(', ')}, got "${databaseEngine}"`);
}
const databaseProxy = context('databaseProxy') ?? 'false';
if (!['true', 'false'].includes(databaseProxy)) {
  throw new Error(`context "databaseProxy" must be true or false, got "${databaseProxy}"`);
}

for (const profile of [EnvironmentProfile.DEV, EnvironmentProfile.PROD]) {
  if (selected !== 'all' && selected !== profile) continue;
  const suffix = `${databaseEngine === 'rds' ? '' : `-${databaseEngine}`}${databaseProxy === 'true' ? '-proxy' : ''}`;
  const stack = new Stack(app, `UsersApi-${profile}${suffix}`, {
    // A concrete region (the load balancer's access logs need one); offline synthesis falls back to us-east-1.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
    description: `Sample users API (${profile})`,
  });
  const domainName = context('domainName');
  const hostedZoneId = context('hostedZoneId');
  const zoneName = context('zoneName');
  const imageTag = context('imageTag');
  const alarmEmail = context('alarmEmail');
  const domain = domainName && hostedZoneId && zoneName;
  const tlsUpstream = context('tls') === 'upstream';
  if (profile === EnvironmentProfile.PROD && !domain && !tlsUpstream) {
    throw new Error(
      'UsersApi-prod needs HTTPS: pass -c domainName=api.example.com -c hostedZoneId=Z123 -c zoneName=example.com ' +
        '(a DNS-validated certificate), or -c tls=upstream if TLS ends in front of the load balancer (a CDN or proxy you run).',
    );
  }
  new FargateWebServiceWithDatabase(stack, 'Api', {
    profile,
    // Dev builds the image from the sample app at deploy time. Prod runs only what CI pushed to the stack's own
    // repository (scanned on push, tags immutable): the given tag, or the release tag of this version of the app.
    image: imageTag
      ? ServiceImage.fromRepositoryTag(imageTag)
      : profile === EnvironmentProfile.PROD
        ? ServiceImage.fromRepositoryTag(`v${appVersion}`)
        : ServiceImage.fromDirectory(appDirectory),
    loadBalancer: {
      // HTTPS with a domain. Prod without one only when told that TLS ends in front of the load balancer (the only
      // plain-HTTP prod the construct accepts, with a warning); dev serves plain HTTP.
      https: domain
        ? Https.fromDomain(
            domainName!,
            route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
              hostedZoneId: hostedZoneId!,
              zoneName: zoneName!,
            }),
          )
        : profile === EnvironmentProfile.PROD && tlsUpstream
          ? Https.terminatedUpstream()
          : Https.none(),
      idleTimeout,
      // The app accepts JSON bodies up to 16 KB (BODY_LIMIT_KB) and limits them itself: the web ACL's 8 KB body
      // rule would block what the app accepts, so in prod it only counts.
      webAcl:
        profile === EnvironmentProfile.PROD
          ? WebAcl.managed({ commonRulesToCount: ['SizeRestrictions_BODY'] })
          : undefined,
    },
    // The sample is a Node.js app: node in the image runs the container health check, and the app reads NODE_ENV.
    container: {
      healthCheck: ContainerHealthCheck.nodeFetch(),
      environment: { NODE_ENV: 'production', LB_IDLE_TIMEOUT_SECONDS: String(idleTimeout.toSeconds()) },
    },
    // The image's `npm run migrate -- up`, without npm (the root filesystem is read-only).
    migrations: { command: ['node', 'dist/migrate-cli.js', 'up'] },
    monitoring: alarmEmail ? { alarms: Alarms.toNewTopic({ email: alarmEmail }) } : undefined,
    // Behind RDS Proxy the app gets DB_IAM_AUTH=true instead of a password and signs a token per connection.
    database: {
      engine: engines[databaseEngine](),
      proxy: databaseProxy === 'true' ? RdsProxy.iamAuthenticated() : undefined,
    },
  });
}

if (context('nag') === 'true') {
  for (const pack of [
    new AwsSolutionsChecks(),
    new NIST80053R5Checks(),
    new HIPAASecurityChecks(),
    new PCIDSS321Checks(),
  ]) {
    Aspects.of(app).add(pack);
  }
}
