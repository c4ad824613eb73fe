/**
 * Task-level propagation for long-lived worker pools (piscina, tinypool, your own): the
 * pool's workers outlive any one request, so the trace travels with each task instead.
 *
 *   caller:  await pool.run(wrapTask(payload))          // adds the signed context when traced
 *   worker:  module.exports = runTask(async (payload) => …)  // a `task` point per task
 */
import workerThreads from 'node:worker_threads';
import { flush, get, getConfig, run, traced } from '@osprofiler/core';
import { isThenable } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { packContext, unpackContext } from './context-token';
import { TASK_POINT } from './thread-points';

const MARK = '__osprofilerTask';

/** A payload wrapped by `wrapTask` (structured-clonable: it crosses the thread boundary). */
export interface WrappedTask<T> {
  [MARK]: 1;
  /** The signed trace context (same format as `OSPROFILER_TRACE_CONTEXT`). */
  context: string;
  /** `function.name` of the task point. */
  name: string | undefined;
  payload: T;
}

export interface WrapTaskOptions {
  /** `function.name` of the worker's `task` point (default: the worker function's name). */
  name?: string;
  /** How long the context stays valid, in ms (queue time included). Default 300000. */
  contextTtlMs?: number;
}

/**
 * Inside a trace: `{__osprofilerTask: 1, context, name, payload}`, the context signed for the
 * caller's current point. Outside a trace: `payload` itself, untouched (no work).
 */
export function wrapTask<T>(payload: T, options: WrapTaskOptions = {}): T | WrappedTask<T> {
  const p = get();
  if (p === undefined || !p.hmacKey) return payload;
  try {
    const context = packContext(p.baseId, p.currentId, p.hmacKey, options.contextTtlMs ?? 300_000);
    return { [MARK]: 1, context, name: options.name, payload };
  } catch (err) {
    contained('task.wrap', err);
    return payload;
  }
}

export function isWrappedTask(v: unknown): v is WrappedTask<unknown> {
  return v !== null && typeof v === 'object' && (v as Record<string, unknown>)[MARK] === 1 && 'payload' in v;
}

/**
 * Runs `fn(payload)` in the caller's trace, inside a `task` point, when `task` came from
 * `wrapTask` with a valid context (verified with this worker's configured keys); otherwise
 * `fn(payload)` untraced (a forged or expired context is dropped, the payload still
 * unwrapped; an unwrapped value is passed as is). Returns what `fn` returns; for a traced
 * async `fn` the promise settles (same value or error) once the task's points are stored.
 */
export function continueTask<T, R>(task: T | WrappedTask<T>, fn: (payload: T) => R): R {
  if (!isWrappedTask(task)) return fn(task as T);
  const payload = task.payload as T;
  let trace;
  try {
    trace = unpackContext(task.context, getConfig().hmacKeys);
  } catch (err) {
    contained('task.continue', err);
  }
  if (trace === undefined) return fn(payload);
  const info = {
    function: { name: task.name ?? (fn.name || 'task') },
    thread: { thread_id: workerThreads.threadId },
  };
  const result = run(trace, () => traced(TASK_POINT, info, () => fn(payload)));
  if (!isThenable(result)) return result;
  // Pools park idle workers (piscina's default `atomics: 'sync'` blocks the thread in
  // Atomics.wait), so a batch left for the notifier's timer could wait for the next task:
  // a traced async task stores its points before its result is handed back.
  const stored = (): Promise<void> => flush(TASK_FLUSH_TIMEOUT_MS).catch((err: unknown) => contained('task.flush', err));
  return Promise.resolve(result).then(
    async (value) => {
      await stored();
      return value;
    },
    async (err: unknown) => {
      await stored();
      throw err;
    },
  ) as R;
}

const TASK_FLUSH_TIMEOUT_MS = 1000;


/** `continueTask` as a worker function: `module.exports = runTask(fn)` for piscina. */
export function runTask<T, R>(fn: (payload: T) => R): (task: T | WrappedTask<T>) => R {
  const named = { [fn.name || 'task']: (task: T | WrappedTask<T>) => continueTask(task, fn) };
  return named[fn.name || 'task'];
}
