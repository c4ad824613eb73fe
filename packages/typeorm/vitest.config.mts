import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.mjs';

export default defineConfig({
  test: {
    ...sharedTestConfig,
    // Load the built workspace packages and typeorm with Node itself, not through vite's
    // transform: the adapter patches the very prototypes the app's typeorm uses.
    server: { deps: { external: [/\/packages\/core\/dist\//, /\/packages\/typeorm\/dist\//, /\/node_modules\//] } },
  },
});
