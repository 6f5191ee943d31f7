/** One jest run covers unit tests (next to the code), integration and e2e tests (under test/). */
const libs = ['common', 'config', 'db', 'queue', 'storage', 'imaging', 'webhooks', 'events', 'jobs', 'health', 'testing', 'tracing', 'sdk'];
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testRegex: '(apps|libs|test)/.*\\.(spec|e2e-spec|int-spec)\\.ts$',
  transform: { '^.+\\.(ts|js|mjs)$': '<rootDir>/test/swc.transformer.js' },
  transformIgnorePatterns: [],
  moduleNameMapper: Object.fromEntries(libs.map((l) => [`^@pixmill/${l}(|/.*)$`, `<rootDir>/libs/${l}/src$1`])),
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/results-file.reporter.js', '<rootDir>/test/openapi-tally.reporter.js'],
};
