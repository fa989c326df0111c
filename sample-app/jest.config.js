/** Tests run against a real PostgreSQL; each file creates its own database and login and drops them afterwards. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Each file is transpiled on its own; `npm test` type-checks the tests once before (pretest: tsc --noEmit).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  testTimeout: 60000,
  // One PostgreSQL 17 with TLS required and scram passwords for every file (test/global-setup.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
