import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Tests run real agent processes from dist; load the built workspace packages with
    // Node itself, not through vite's transform.
    server: { deps: { external: [/\/packages\/(core|drivers|agent|collector)\/dist\//] } },
  },
});
