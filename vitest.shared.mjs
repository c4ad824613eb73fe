import { fileURLToPath } from 'node:url';

// Shared vitest settings: every package writes its real counts to test-results.json,
// which tools/scripts/run-tests.mjs adds up into the closing "N passed, N failed" line.
export const sharedTestConfig = {
  include: ['test/**/*.test.ts'],
  reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  testTimeout: 30000,
  hookTimeout: 30000,
  pool: 'forks',
  // Removes each file's temp dirs (tools/testing/temp-dir.ts) once the file is done.
  setupFiles: [fileURLToPath(new URL('./tools/testing/temp-dir-cleanup.ts', import.meta.url))],
};
