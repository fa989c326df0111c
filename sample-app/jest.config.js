/** Tests run against a real PostgreSQL; each file creates its own database and drops it afterwards. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Each file is transpiled on its own; `npm test` type-checks the tests once before (pretest: tsc --noEmit).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  testTimeout: 60000,
};
