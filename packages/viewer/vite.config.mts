import { defineConfig } from 'vite';

// The page is built into dist/app with fixed names: the server serves them, and
// `trace show --html` inlines them into one self-contained file.
export default defineConfig({
  root: 'app',
  base: './',
  logLevel: 'warn',
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0,
    modulePreload: false,
    rollupOptions: {
      output: { entryFileNames: 'assets/app.js', chunkFileNames: 'assets/[name].js', assetFileNames: 'assets/app[extname]' },
    },
  },
});
