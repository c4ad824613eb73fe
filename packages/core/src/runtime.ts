import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';
import type { Profiler } from './profiler';

/**
 * Process-wide state, shared by every copy of @osprofiler/core that gets loaded (two
 * versions in one node_modules tree must still see one context and one sink).
 */
export interface PointSink {
  /** Hot path: record one event; `phase` 0 = start, 1 = stop. Must not throw. */
  point(phase: 0 | 1, name: string, baseId: string, traceId: string, parentId: string, info: object | undefined): void;
}

export interface Runtime {
  readonly version: 1;
  readonly storage: AsyncLocalStorage<Profiler>;
  sink: PointSink;
  /** Unmatched `stop()` calls (ignored, as Python OSProfiler 4.x does). */
  unmatchedStops: number;
  /** Points one trace may record in this process (`maxTracePoints`); set by `configure()`. */
  maxTracePoints?: number;
  /** A context was entered for good (enterWith) or an async `run()` made: the storage is never disabled (context-idle.ts). */
  pinned?: boolean;
  /** Points open in the process: starts minus stops handed to drivers by every notifier, plus `dropped` markers made (context-idle.ts). */
  openPoints?: number;
  /** Whether the async-hooks storage keeps its store on the current async resource (`storeOnResource`), as the first copy of core found it. */
  storeOnResource?: boolean;
  /** The trace this whole process or worker thread continues (api.ts `enterProcessTrace`): a context without a store of its own is in it. */
  processTrace?: Profiler;
}

const KEY = Symbol.for('osprofiler.runtime.v1');
const holder = globalThis as unknown as { [KEY]?: Runtime };

// Replaced by setup.ts on load; marked so a second copy of core does not replace it again.
const noopSink: PointSink & { isDefault: true } = { point() {}, isDefault: true };

/** Whether this copy of core made the process's storage (the first copy loaded). */
const madeStorage = holder[KEY] === undefined;

export const runtime: Runtime = (holder[KEY] ??= {
  version: 1,
  storage: new AsyncLocalStorage<Profiler>(),
  sink: noopSink,
  unmatchedStops: 0,
});

export const storage = runtime.storage;

/**
 * The trace of a context whose store is `store` (`storage.getStore()`, `storeOf`): its own;
 * with none, the process trace (`runtime.processTrace`, usually undefined); `null`, the store
 * `untraced()` and `clean()` set while a process trace exists (`noTrace()`), is no trace.
 * One load more than the store alone when untraced, one compare when traced.
 */
export function traceOf(store: Profiler | null | undefined): Profiler | undefined {
  return store === undefined ? runtime.processTrace : store === null ? undefined : store;
}

/** The current context's trace (`traceOf` its store). */
export function currentTrace(): Profiler | undefined {
  return traceOf(storage.getStore());
}

/** The store of a context outside any trace: undefined, or null once a process trace exists (undefined would fall back to it). */
export function noTrace(): Profiler {
  return (runtime.processTrace === undefined ? undefined : null) as unknown as Profiler;
}

/** `storage`'s `enabled` flag, which Node's typings do not declare (the same object). */
export const storageFlags = storage as unknown as { readonly enabled?: unknown };

/**
 * The async-hooks AsyncLocalStorage's per-instance symbol (Node 20 and 22; Node 24 with
 * `--no-async-context-frame`); undefined on an implementation without one (AsyncContextFrame,
 * Node 24's default).
 */
const hooksKey: symbol | undefined = (() => {
  const k = (storage as unknown as { kResourceStore?: unknown }).kResourceStore;
  return typeof k === 'symbol' && typeof executionAsyncResource === 'function' ? k : undefined;
})();

/**
 * Whether the current async resource holds the store as its own property under `k`, so that
 * core may read and swap it there (`runIn`, `runCall`, `storeResource`). Node 20 and 22 keep it
 * so. Node 24's async-hooks implementation keeps a resource's stores in an object of Node's own
 * under a private symbol: a store written on the resource was seen neither by `getStore()` nor
 * by the promises and timers made under it (Node 24.22.3 `--no-async-context-frame`: the
 * compare app's /db stored 1 point a request of 4, its Knex queries untraced). Checked by one
 * `run()` only when the storage is enabled already — Node 24's constructor enables it; on Node
 * 20 enabling it would turn V8's promise hooks on for the process.
 */
function storeOnResource(k: symbol): boolean {
  if (storageFlags.enabled !== true) return true;
  const probe = {} as Profiler;
  return storage.run(probe, () => (executionAsyncResource() as Record<symbol, unknown>)[k] === probe);
}

/** Where the store is a property of the current async resource (Node 20 and 22): its key there; else undefined (`runIn` then calls `run`). */
// Kept in the runtime: a copy of core loaded later may find the storage disabled, unable to check.
const resourceKey: symbol | undefined = hooksKey !== undefined && (runtime.storeOnResource ??= storeOnResource(hooksKey)) ? hooksKey : undefined;

/** Whether the storage runs on async hooks, which disabling it turns off (context-idle.ts). */
export const usesAsyncHooks = hooksKey !== undefined;

// Node 24's async-hooks storage is enabled by its constructor: its hooks would then run on
// every promise of the process before any trace. Off until the first trace's run(), as on
// Node 20.
if (madeStorage && usesAsyncHooks && storageFlags.enabled === true) storage.disable();

/**
 * `storage.run(store, fn)` for a point's work, doing what Node 20's `run` does once the
 * storage is enabled — the store set on the current async resource for the call, put back
 * after — without its first `getStore()` (a second `executionAsyncResource()`, a native
 * call inside an HTTP callback), `_enable()` and the rest-arguments array: a traced point
 * runs its work this way (callgrind, traced /nested: 6 runs a request). Any other state
 * (not enabled yet, another implementation) goes to `storage.run`.
 */
export function runIn<R>(store: Profiler | undefined, fn: () => R): R {
  const k = resourceKey;
  if (k === undefined || storageFlags.enabled !== true) return storage.run(store as Profiler, fn);
  const resource = executionAsyncResource() as Record<symbol, unknown>;
  const old = resource[k] as Profiler | undefined;
  return old === store ? fn() : runOn(resource, old, store, fn);
}

/**
 * `runIn(store, () => fn.call(self, a, b, c))` without the closure (and its context) made
 * for each call: an HTTP entry runs the framework's handler this way, once a traced request.
 * Its own store swap, not runOn's: runOn's `fn()` as `fn.call(self, a, b, c)` with three
 * more arguments cost traced /nested +0.4–1.1k instructions a trace (its 5 `traced` calls;
 * trace-lines.cjs, same run, ABBA), and a closure here is what this function avoids.
 */
export function runCall<T, A, B, C, R>(store: Profiler, fn: (this: T, a: A, b: B, c: C) => R, self: T, a: A, b: B, c: C): R {
  const k = resourceKey;
  if (k === undefined || storageFlags.enabled !== true) return storage.run(store, () => fn.call(self, a, b, c));
  const resource = executionAsyncResource() as Record<symbol, unknown>;
  const old = resource[k];
  if (old === store) return fn.call(self, a, b, c);
  resource[k] = store;
  try {
    return fn.call(self, a, b, c);
  } finally {
    resource[k] = old;
  }
}

/**
 * The current async resource when `runIn` would use it (Node's async-hooks storage, enabled),
 * else undefined: `traced()` reads the store from it and then runs the point's work on it
 * (`runOn`), one `executionAsyncResource()` and one keyed load of the store a point instead
 * of two each (`storage.getStore()`, then `runIn`'s own; callgrind, traced /nested: each
 * `executionAsyncResource()` ~170 instructions and each megamorphic load of the store ~130).
 */
export function storeResource(): Record<symbol, unknown> | undefined {
  if (resourceKey === undefined || storageFlags.enabled !== true) return undefined;
  return executionAsyncResource() as Record<symbol, unknown>;
}

/** `resource`'s store (what `storage.getStore()` returns while it is the current resource). */
export function storeOf(resource: Record<symbol, unknown>): Profiler | undefined {
  return resource[resourceKey as symbol] as Profiler | undefined;
}

/**
 * `runIn(store, fn)` on `resource` (from storeResource, still the current one), whose store
 * is `old` (storeOf, read since: nothing between changed it for good — storage.run puts it back).
 */
export function runOn<R>(resource: Record<symbol, unknown>, old: Profiler | undefined, store: Profiler | undefined, fn: () => R): R {
  const k = resourceKey as symbol;
  resource[k] = store;
  try {
    return fn();
  } finally {
    resource[k] = old;
  }
}
