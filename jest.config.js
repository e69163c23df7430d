/** Jest in native-ESM mode: every @nestjs/* 12 package is ESM-only. */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: ['libs/.*\\.spec\\.ts$', 'test/.*\\.e2e-spec\\.ts$'],
  // .cache/ holds downloaded Node versions and the bench's build of an earlier library (its specs too).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.cache/'],
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: {
    '^nestjs-tus$': '<rootDir>/libs/tus/src/index.ts',
    '^nestjs-tus/s3$': '<rootDir>/libs/tus/src/s3.ts',
    '^nestjs-tus/azure$': '<rootDir>/libs/tus/src/azure.ts',
    '^nestjs-tus/terminus$': '<rootDir>/libs/tus/src/terminus.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  // The second writes the counts scripts/test.mjs reports (and is silent when run without it).
  reporters: ['default', '<rootDir>/scripts/jest-summary.reporter.cjs'],
};
