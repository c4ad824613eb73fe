import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // The built workspace packages and the loggers load with Node itself: one core
    // instance (one async context) for the app, the adapter and this package.
    server: { deps: { external: [/\/packages\/[a-z]+\/dist\//, /\/node_modules\//] } },
  },
});
