/**
 * Automatic mode: `node --require @osprofiler/typeorm/register app.js` (or `--import`, or via
 * `@osprofiler/auto`). Every TypeORM module loaded after this (and any already loaded) is
 * traced, all its instances included; loading this twice changes nothing.
 */
import Module from 'node:module';
import { instrumentTypeormModule } from './hook';

interface LoaderModule {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports?: unknown } | undefined>;
}

const FLAG = Symbol.for('osprofiler.typeorm.register');
const g = globalThis as { [FLAG]?: boolean };

function isTypeORMModule(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const t = e as { DataSource?: unknown; SelectQueryBuilder?: unknown; Repository?: unknown };
  return typeof t.DataSource === 'function' && typeof t.SelectQueryBuilder === 'function' && typeof t.Repository === 'function';
}

if (g[FLAG] !== true) {
  g[FLAG] = true;
  const M = Module as unknown as LoaderModule;
  const seen = new WeakSet<object>();
  const consider = (e: unknown): void => {
    try {
      if (isTypeORMModule(e) && !seen.has(e as object)) {
        seen.add(e as object);
        instrumentTypeormModule(e);
      }
    } catch {
      // contained: an unknown TypeORM shape stays untraced
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
