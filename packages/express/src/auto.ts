/**
 * Patches `express` as it loads. Express is CommonJS: `require('express')` and an ESM
 * `import express from 'express'` both go through `Module._load` (Node 20 loads a CJS
 * module imported from ESM with `Module._load(filename)`, and express's own
 * `require('./lib/express')` goes through it too), before the ESM namespace is built.
 * The hook recognises the factory by its shape (`application.handle`, `Router`), so any
 * copy or version of Express is found, wherever it is installed.
 */
import { debug, hookModule, registerOnce } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { instrumentExpress } from './hook';

const REGISTERED = Symbol.for('osprofiler.express.registered');

function looksLikeExpress(exports: unknown): boolean {
  if (typeof exports !== 'function') return false;
  const e = exports as { application?: { handle?: unknown }; Router?: unknown };
  return typeof e.Router === 'function' && e.application !== undefined && typeof e.application?.handle === 'function';
}

/**
 * Installs the load hook (once per process) when OSPROFILER_ENABLED is true; also
 * instruments copies of Express that are already loaded. Returns whether it is installed.
 * A bad OSPROFILER_* value is reported as a warning, never thrown into the app.
 */
export function registerExpress(env: NodeJS.ProcessEnv = process.env): boolean {
  return registerOnce(REGISTERED, env, contained, () => {
    debug('express: automatic mode: every Express app (4.x, 5.x) will trace requests');
    hookModule({ name: 'express', packageName: 'express', versions: '>=4.17.0 <6', matches: looksLikeExpress, instrument: (e) => instrumentExpress(e) });
  });
}
