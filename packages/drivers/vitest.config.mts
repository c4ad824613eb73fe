import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Load the built @osprofiler/core with Node itself, not through vite's transform: the
    // workspace symlink would otherwise make it "source", and a second copy of core would
    // keep its own driver registry.
    server: { deps: { external: [/\/packages\/core\/dist\//, /\/packages\/cli\/dist\//] } },
  },
});
