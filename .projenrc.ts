import { awscdk, javascript } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-fargate-web-service-with-database',
  packageName: 'cdk-fargate-web-service-with-database',
  description:
    'A production-grade web service on AWS in one construct: VPC, ECR, ECS Fargate behind an ALB with auto-scaling, and a Multi-AZ RDS PostgreSQL database with Secrets Manager credentials.',
  keywords: ['cdk', 'aws-cdk', 'ecs', 'fargate', 'rds', 'postgresql', 'alb', 'construct'],
  license: 'Apache-2.0',
  author: 'cdk-fargate-web-service-with-database maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk-fargate-web-service-with-database.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // The version line is documented in DESIGN.md: integ-runner 2.197.x reads cloud-assembly schema 53 at most,
  // which aws-cdk-lib 2.257.0 writes. The peer dependency is a floor (^2.257.0).
  cdkVersion: '2.257.0',
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  minNodeVersion: '20.0.0',

  // CI is .ci/run; publishing workflows and dependency bots come later.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  prettier: true,
  prettierOptions: {
    settings: { singleQuote: true, printWidth: 120, trailingComma: javascript.TrailingComma.ALL },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'scripts', '.projenrc.ts'],
    ignorePatterns: ['sample-app/', 'cdk.out/', '*.d.ts', 'node_modules/', 'lib/'],
  },

  devDeps: [
    'cdk-nag@2.38.2',
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    '@aws-sdk/client-ecs@^3',
    'aws-sdk-client-mock@^4',
    '@types/aws-lambda@^8',
  ],
  // The migration gate's handlers: src/**/*.lambda.ts, bundled with esbuild into assets/.
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_24_X,
    bundlingOptions: { externals: ['@aws-sdk/*'] },
  },

  jestOptions: {
    // Never rewrite a changed snapshot silently: a changed snapshot is a failed test.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    extraCliOptions: ['--json', '--outputFile=test-reports/jest-results.json'],
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/sample-app/', '/cdk.out/', '/lib/'],
      modulePathIgnorePatterns: ['<rootDir>/demo.out/', '<rootDir>/sample-app/', '<rootDir>/cdk.out/'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      snapshotSerializers: ['<rootDir>/test/asset-hash-serializer.js'],
    },
  },

  gitignore: ['cdk.out/', 'cdk-integ.out.*', '/.data/', '/demo.out/', '/test-reports/'],
});

project.addPackageIgnore('/scripts/');
project.addPackageIgnore('/sample-app/');
project.addPackageIgnore('/.ci/');
project.addPackageIgnore('/demo.out/');

// The main job: synthesize the example stacks (both profiles) and print what they contain.
project.addTask('demo', {
  description: 'Synthesize the example stacks (dev and prod) and print a summary of what they contain',
  exec: 'ts-node --project scripts/tsconfig.json scripts/demo.ts',
});

// The policy gate as a report: cdk-nag packs and cfn-guard rules per profile; fails when a goal is missed.
const policyTask = project.addTask('policy', {
  description:
    'Run the cdk-nag packs and cfn-guard rules per profile and print errors, warnings and acknowledged findings',
  exec: 'ts-node --project scripts/tsconfig.json scripts/policy.ts',
});

// Everything the README's test command runs: the library build (compile, lint, unit/policy/snapshot tests,
// API.md, package) and the sample app's tests against a real PostgreSQL.
const sampleAppTest = project.addTask('test:sample-app', {
  description: 'Install and test the sample app against the local PostgreSQL',
  steps: [{ exec: 'bash scripts/ensure-postgres.sh' }, { exec: 'npm ci --no-audit --no-fund', cwd: 'sample-app' }],
});
sampleAppTest.exec('npm test', { cwd: 'sample-app' });

const testAll = project.addTask('test:all', {
  description: 'Build and test the library, then test the sample app',
});
testAll.spawn(project.buildTask);
testAll.spawn(policyTask);
testAll.spawn(sampleAppTest);

project.synth();
