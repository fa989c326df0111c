#!/usr/bin/env node
// Checks the npm tarball the build packed (dist/js/*.tgz) the way a consumer receives it: what must be in it (the
// compiled library and its types, the jsii assembly, the migration gate's bundles, the guard rules, README, LICENSE,
// API.md, CHANGELOG.md), what must not (sources, tests, tools, scripts, the sample app, docs, integ snapshots,
// source maps), and its size. Prints each check and writes a jest-style report for the summary line.
// usage: check-package.js <report.json>
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const MAX_PACKED_BYTES = 512 * 1024;
const root = path.join(__dirname, '..');
const reportFile = process.argv[2] || path.join(root, 'test-reports', 'package.json');
const dir = path.join(root, 'dist', 'js');
const tarballs = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.tgz')) : [];
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

if (tarballs.length !== 1) {
  check('exactly one packed tarball in dist/js', false, `found ${tarballs.length}; run npx projen package:js`);
} else {
  const tarball = path.join(dir, tarballs[0]);
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
  const has = (file) => files.includes(file);
  const size = fs.statSync(tarball).size;
  console.log(`package ${tarballs[0]}: ${files.length} files, ${(size / 1024).toFixed(1)} KiB packed`);

  for (const required of [
    'package.json',
    'README.md',
    'LICENSE',
    'API.md',
    'CHANGELOG.md',
    '.jsii',
    'lib/index.js',
    'lib/index.d.ts',
    'assets/migration-gate/on-event.lambda/index.js',
    'assets/migration-gate/is-complete.lambda/index.js',
    'assets/database/app-user/bootstrap.lambda/index.js',
    'assets/database/app-user/sql.lambda/index.js',
    'assets/database/app-user/redeploy.lambda/index.js',
    'bin/fwsd-guard-check',
  ]) {
    check(`contains ${required}`, has(required));
  }
  const guards = fs.readdirSync(path.join(root, 'policy')).filter((f) => f.endsWith('.guard'));
  check(`contains the ${guards.length} guard rules of policy/`, guards.length > 0 && guards.every((g) => has(`policy/${g}`)));
  const every = (prefix) => files.filter((f) => f.startsWith(prefix));
  check('every module in lib/ has its types', every('lib/').filter((f) => f.endsWith('.js')).every((f) => has(f.replace(/\.js$/, '.d.ts'))));
  const forbidden = files.filter(
    (f) =>
      /^(src|test|tools|scripts|sample-app|docs|integ|coverage|test-reports|demo\.out|\.ci|\.projen|projenrc)\//.test(f) ||
      f.endsWith('.map') ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')),
  );
  check('contains no sources, tests, tools, scripts, sample app, docs, integ snapshots or source maps', forbidden.length === 0, forbidden.slice(0, 5).join(', '));
  check(`is at most ${MAX_PACKED_BYTES / 1024} KiB packed`, size <= MAX_PACKED_BYTES, `${(size / 1024).toFixed(1)} KiB`);
  // Stack traces still name src/*.ts and the line (inline source maps), without a copy of the sources in each file.
  const main = execFileSync('tar', ['-xzOf', tarball, 'package/lib/fargate-web-service-with-database.js'], { encoding: 'utf8' });
  const inline = /sourceMappingURL=data:application\/json;base64,(\S+)/.exec(main);
  const sourceMap = inline ? JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8')) : undefined;
  check('lib/ maps stack traces to the TypeScript lines, without embedding the sources',
    !!sourceMap && sourceMap.sources.some((s) => s.endsWith('fargate-web-service-with-database.ts')) && !sourceMap.sourcesContent);

  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  check('package.json carries the awscdk keyword (Construct Hub)', (manifest.keywords || []).includes('awscdk'));
  check('package.json names its repository and stability', !!manifest.repository?.url && !!manifest.stability);
  check('aws-cdk-lib and constructs are peer dependencies', !!manifest.peerDependencies?.['aws-cdk-lib'] && !!manifest.peerDependencies?.constructs);
  check('no runtime dependency on cdk-nag', !manifest.dependencies?.['cdk-nag'] && !manifest.peerDependencies?.['cdk-nag']);
  // @cloud-copilot/iam-simulate is AGPL-3.0: the IAM simulation tests may use it, nothing shipped may.
  const agpl = '@cloud-copilot/iam-simulate';
  const shippedDeps = ['dependencies', 'peerDependencies', 'bundledDependencies', 'optionalDependencies'].flatMap((k) =>
    Array.isArray(manifest[k]) ? manifest[k] : Object.keys(manifest[k] || {}),
  );
  // The packed package.json lists devDependencies (never installed by consumers); every other file must not name it.
  const unpacked = fs.mkdtempSync(path.join(require('os').tmpdir(), 'package-check-'));
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const mentions = files
    .filter((f) => f !== 'package.json' && !f.endsWith('/'))
    .some((f) => fs.readFileSync(path.join(unpacked, 'package', f)).includes('iam-simulate'));
  fs.rmSync(unpacked, { recursive: true, force: true });
  check(`${agpl} (AGPL-3.0) is a devDependency only and appears nowhere in the tarball`, !!manifest.devDependencies?.[agpl] && !shippedDeps.includes(agpl) && !mentions);
}

console.log(`package check: ${passed} passed, ${failed} failed`);
fs.mkdirSync(path.dirname(reportFile), { recursive: true });
fs.writeFileSync(reportFile, JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numTotalTestSuites: 1 }));
process.exit(failed > 0 ? 1 : 0);
