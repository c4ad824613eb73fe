import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Load the built @osprofiler/core with Node itself (as the real binary does), not
    // through vite's transform: the workspace symlink would otherwise make it "source".
    server: { deps: { external: [/\/packages\/(core|express|typeorm)\/dist\//] } },
  },
});
