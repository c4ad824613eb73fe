import Module from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { debug } from '../diagnostics';
import { recordFailure } from '../failures';
import { satisfies } from './versions';

/**
 * One `Module._load` hook per process, shared by every adapter's automatic mode. Express,
 * Knex, TypeORM… are CommonJS; Node 20 loads them through `Module._load` even when an ESM
 * app `import`s them, before the ESM namespace is built — so patching the exports here
 * works for `--require` and `--import` alike.
 */
interface LoaderModule {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { exports?: unknown; filename?: string } | undefined>;
}

/** What an adapter hooks: a package recognised by the shape of its exports, in a version range. */
export interface ModuleHook {
  /** Labels contained failures and debug lines; a second registration under the same name is a no-op. */
  name: string;
  /** True for the exports of the package (recognise it by shape: every copy and version is found). */
  matches: (exports: unknown) => boolean;
  /** Patches those exports; called once per exports object. */
  instrument: (exports: any) => void;
  /** The npm package whose version is checked against `versions` (its nearest package.json). */
  packageName?: string;
  /** Supported versions (`>=4 <6`, `^11 || ^12`); a copy outside is left alone, with a debug line. */
  versions?: string;
}

/** One hooked copy of a package, or one left alone: what `moduleHookStatus()` lists. */
export interface ModuleHookEvent {
  name: string;
  version: string | undefined;
  instrumented: boolean;
  reason?: string;
}

interface Entry extends ModuleHook {
  seen: WeakSet<object>;
}

const KEY = Symbol.for('osprofiler.module-hook.v1');
const EVENTS = Symbol.for('osprofiler.module-hook.events.v1');
const holder = globalThis as unknown as { [KEY]?: Entry[]; [EVENTS]?: ModuleHookEvent[] };

/** The version of `packageName` whose exports these are, from the module cache and its package.json. */
function versionOf(exports: object, packageName: string): string | undefined {
  const M = Module as unknown as LoaderModule;
  for (const m of Object.values(M._cache)) {
    if (m?.exports !== exports || typeof m.filename !== 'string') continue;
    for (let dir = dirname(m.filename), i = 0; i < 8; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === packageName) return pkg.version;
      } catch {
        // no package.json at this level: go up
      }
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

function consider(entry: Entry, exports: unknown): void {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return;
  try {
    if (entry.seen.has(exports) || !entry.matches(exports)) return;
    entry.seen.add(exports);
    let version: string | undefined;
    if (entry.packageName !== undefined) version = versionOf(exports, entry.packageName);
    const events = (holder[EVENTS] ??= []);
    if (entry.versions !== undefined && version !== undefined && !satisfies(version, entry.versions)) {
      events.push({ name: entry.name, version, instrumented: false, reason: `version ${version} is outside ${entry.versions}` });
      debug(`${entry.name}: left ${entry.packageName}@${version} alone (supported: ${entry.versions})`);
      return;
    }
    entry.instrument(exports);
    events.push({ name: entry.name, version, instrumented: true });
    debug(`${entry.name}: instrumented ${entry.packageName ?? 'module'}${version !== undefined ? '@' + version : ''} as it loaded`);
  } catch (err) {
    recordFailure(`${entry.name}.instrument`, err); // an unknown module shape stays untraced
  }
}

/**
 * Calls `hook.instrument(exports)` once for every loaded module (already loaded, or loaded
 * later) whose exports `hook.matches`, and whose version (when `packageName`/`versions`
 * are given) is supported.
 */
export function hookModule(hook: ModuleHook): void {
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
  if (entries.some((e) => e.name === hook.name)) return; // registered already (e.g. a second copy of the adapter)
  const entry: Entry = { ...hook, seen: new WeakSet() };
  entries.push(entry);
  for (const m of Object.values(M._cache)) consider(entry, m?.exports);
}

/** The short form of `hookModule`, without a version range. */
export function onModuleLoad(name: string, matches: (exports: unknown) => boolean, instrument: (exports: any) => void): void {
  hookModule({ name, matches, instrument });
}

/** Every package copy the module hooks instrumented or left alone so far, in order. */
export function moduleHookStatus(): readonly ModuleHookEvent[] {
  return [...(holder[EVENTS] ?? [])];
}
