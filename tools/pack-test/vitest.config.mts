import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Installs from packed tarballs: each npm step is capped on its own (see test/npm.ts).
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
