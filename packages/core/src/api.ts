import { newProfiler, type Profiler } from './profiler';
import { currentTrace, noTrace, runIn, runtime, storage } from './runtime';
import { isThenable } from './thenable';

export interface TraceOptions {
  /** The HMAC key this trace signs its outgoing calls with. */
  hmacKey: string;
  /** Continue this trace; a new uuid4 when absent or empty (as Python). */
  baseId?: string | null;
  /** Parent of the first point; defaults to `baseId`. */
  parentId?: string | null;
}

/** Runs `fn` inside a trace: every point made in it (and its async continuations) joins the trace. */
export function run<R>(options: TraceOptions, fn: () => R): R {
  const r = runIn(newProfiler(options.hmacKey, options.baseId, options.parentId), fn);
  // An async callback may still be at work, with no point open, after any quiet spell: the
  // storage then stays enabled for good (context-idle.ts). Watching its promise instead
  // would need a handler on it, which would hide its rejection.
  if (runtime.pinned !== true && isThenable(r)) runtime.pinned = true;
  return r;
}

/**
 * Python-style `profiler.init()`: puts a profiler into the current async context and
 * returns it; if one is there already, returns that one and ignores the arguments.
 *
 * Caveat: without a callback this must use `AsyncLocalStorage.enterWith`, which also
 * leaks the trace into work started later from the same context (timers, pools). Prefer
 * `run()`, and call `clean()` when the traced work is over.
 */
export function init(options: TraceOptions): Profiler {
  const existing = currentTrace();
  if (existing !== undefined) return existing;
  const p = newProfiler(options.hmacKey, options.baseId, options.parentId);
  // Entered for good: the storage must stay enabled (context-idle.ts).
  runtime.pinned = true;
  storage.enterWith(p);
  return p;
}

/**
 * `init()` for a whole process or worker thread that continues its creator's trace
 * (@osprofiler/node's automatic mode): the trace is also that of every context without one
 * of its own, wherever it runs. `init()`'s context alone does not reach the main module on
 * Node 24 (AsyncContextFrame) when called from an `--import` preload: the context it enters
 * ends with the preload's evaluation in the ESM loader. `untraced()` and `clean()` still
 * leave it.
 */
export function enterProcessTrace(options: TraceOptions): Profiler {
  const p = init(options);
  runtime.processTrace ??= p;
  return p;
}

/** The profiler of the current async context, or undefined when this work is not traced. */
export function get(): Profiler | undefined {
  return currentTrace();
}

/** Python-style `profiler.clean()`: removes the profiler from the current async context. */
export function clean(): void {
  const none = noTrace();
  if (storage.getStore() !== none) storage.enterWith(none);
}

/** Starts a point in the current trace; a no-op (one lookup, one branch) when not traced. */
export function start(name: string, info?: object): void {
  const p = currentTrace();
  if (p !== undefined) p.start(name, info);
}

/** Stops the innermost point started with `start`; unmatched calls are ignored and counted. */
export function stop(info?: object): void {
  const p = currentTrace();
  if (p !== undefined) p.stop(info);
}

/** How many `stop()` calls had no matching `start()` (ignored, never thrown). */
export function unmatchedStopCount(): number {
  return runtime.unmatchedStops;
}

/**
 * Runs `fn` outside any trace. For work that outlives the request it starts from (pool
 * connections, sockets, timers): created inside a trace, every callback they ever fire
 * would run in that request's context.
 */
export function untraced<R>(fn: () => R): R {
  // run(undefined) rather than exit(): Node 20's exit() disables and re-enables the
  // storage (walking every AsyncLocalStorage's hooks) on each call, run() only swaps the store.
  // null instead of undefined while a process trace exists (runtime.ts traceOf).
  const none = noTrace();
  return storage.getStore() === none ? fn() : storage.run(none, fn);
}
