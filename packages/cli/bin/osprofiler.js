#!/usr/bin/env node
// The `osprofiler` command. A committed file rather than dist/bin.js itself, so that npm
// links the command when a workspace is installed before it is built (`npm ci && npm run
// build` in this repository): without the link, `npx osprofiler` ran another `osprofiler`
// on PATH (Python's). It only loads the built CLI.
'use strict';
try {
  require.resolve('../dist/bin.js');
} catch {
  process.stderr.write('osprofiler: the CLI is not built (no dist/bin.js); run `npm run build` at the repository root\n');
  process.exit(1);
}
require('../dist/bin.js');
