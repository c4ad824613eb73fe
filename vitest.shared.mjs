// Shared vitest settings: every package writes its real counts to test-results.json,
// which tools/scripts/run-tests.mjs adds up into the closing "N passed, N failed" line.
export const sharedTestConfig = {
  include: ['test/**/*.test.ts'],
  reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  testTimeout: 30000,
  hookTimeout: 30000,
  pool: 'forks',
};
