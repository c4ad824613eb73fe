import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    testTimeout: 60000,
    hookTimeout: 120000,
    // The built @osprofiler/core is loaded by Node itself (one driver registry).
    server: { deps: { external: [/\/packages\/core\/dist\//, /\/packages\/drivers\/dist\//] } },
  },
});
