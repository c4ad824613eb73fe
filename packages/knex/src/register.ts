/**
 * Automatic mode: `node --require @osprofiler/knex/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every Knex module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import Module from 'node:module';
import { instrumentKnexModule } from './hook';

interface LoaderModule {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports?: unknown } | undefined>;
}

const FLAG = Symbol.for('osprofiler.knex.register');
const g = globalThis as { [FLAG]?: boolean };

function isKnexModule(e: unknown): boolean {
  return typeof e === 'function' && (e as { knex?: unknown }).knex === e && typeof (e as { Client?: unknown }).Client === 'function';
}

if (g[FLAG] !== true) {
  g[FLAG] = true;
  const M = Module as unknown as LoaderModule;
  const seen = new WeakSet<object>();
  const consider = (e: unknown): void => {
    try {
      if (isKnexModule(e) && !seen.has(e as object)) {
        seen.add(e as object);
        instrumentKnexModule(e);
      }
    } catch {
      // contained: an unknown Knex shape stays untraced
    }
  };
  for (const m of Object.values(M._cache)) consider(m?.exports);
  const load = M._load;
  // ESM imports of CommonJS packages also go through Module._load (by file name).
  M._load = function (this: unknown, ...args: [string, unknown, boolean]) {
    const exports = load.apply(this, args);
    consider(exports);
    return exports;
  };
}
