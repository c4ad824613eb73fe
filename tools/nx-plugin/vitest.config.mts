import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Generates a package, then builds, lints and tests it through Nx: each step is capped on its own.
    testTimeout: 180_000,
  },
});
