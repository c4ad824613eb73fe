import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Load the built workspace packages with Node itself, not through vite's transform:
    // one copy of @osprofiler/core (and its AsyncLocalStorage) for the app and the test.
    server: { deps: { external: [/\/packages\/(core|node|pg|knex|drivers)\/dist\//] } },
  },
});
