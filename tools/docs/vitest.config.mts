import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Each sample is a real app in its own process (Nest and TypeORM start in seconds on a loaded machine).
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
