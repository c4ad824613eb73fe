import Module from 'node:module';
import { recordFailure } from './failures';

/**
 * One `Module._load` hook per process, shared by every adapter's automatic mode. Express,
 * Knex, TypeORM… are CommonJS; Node 20 loads them through `Module._load` even when an ESM
 * app `import`s them, before the ESM namespace is built — so patching the exports here
 * works for `--require` and `--import` alike.
 */
interface LoaderModule {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports?: unknown } | undefined>;
}

interface Entry {
  name: string;
  matches: (exports: unknown) => boolean;
  instrument: (exports: any) => void;
  seen: WeakSet<object>;
}

const KEY = Symbol.for('osprofiler.module-hook.v1');
const holder = globalThis as unknown as { [KEY]?: Entry[] };

function consider(entry: Entry, exports: unknown): void {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return;
  try {
    if (entry.seen.has(exports) || !entry.matches(exports)) return;
    entry.seen.add(exports);
    entry.instrument(exports);
  } catch (err) {
    recordFailure(`${entry.name}.instrument`, err); // an unknown module shape stays untraced
  }
}

/**
 * Calls `instrument(exports)` once for every loaded module (already loaded, or loaded
 * later) whose exports `matches` — recognise a package by its shape, so every copy and
 * version is found wherever it is installed. `name` labels contained failures and makes
 * a second registration under the same name a no-op.
 */
export function onModuleLoad(name: string, matches: (exports: unknown) => boolean, instrument: (exports: any) => void): void {
  const M = Module as unknown as LoaderModule;
  let entries = holder[KEY];
  if (entries === undefined) {
    const list: Entry[] = (entries = holder[KEY] = []);
    const load = M._load;
    M._load = function osprofilerLoad(this: unknown) {
      // eslint-disable-next-line prefer-rest-params
      const exports = load.apply(this, arguments as unknown as [string, unknown, boolean]);
      for (let i = 0; i < list.length; i++) consider(list[i], exports);
      return exports;
    };
  }
  if (entries.some((e) => e.name === name)) return; // registered already (e.g. a second copy of the adapter)
  const entry: Entry = { name, matches, instrument, seen: new WeakSet() };
  entries.push(entry);
  for (const m of Object.values(M._cache)) consider(entry, m?.exports);
}
