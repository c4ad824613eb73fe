/**
 * `worker_threads`: `Worker` is replaced by a Proxy whose `construct` trap records a
 * `thread` point from the construction to the worker's `exit` (a Proxy keeps `instanceof`,
 * `prototype` and subclassing intact). ESM named exports are kept in sync.
 *
 * Handing the trace to the worker without touching the user's `workerData`, `env` or
 * `argv`: `setEnvironmentData` is process-wide, but Node clones the environment data into
 * the new worker synchronously inside the `Worker` constructor (it is posted with the
 * load message). We set our key right before calling the real constructor and delete it
 * right after, all in one synchronous step, so no other `new Worker()` (from another
 * request, or untraced) can ever see it: JavaScript on this thread cannot interleave, and
 * other threads have their own environment data. The worker reads and deletes the key
 * at start-up (register / `continueFromParent`), so its own workers do not inherit it.
 */
import { EventEmitter } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';
import { get, getConfig, openPoint, type Point, type Profiler } from '@osprofiler/core';
import { isWrapped, unwrap, WRAPPED_MARK } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { packContext } from './context-token';
import { threadState } from './state';
import { THREAD_POINT, threadStartInfo, threadStopInfo, workerFile } from './thread-points';

/** The environment data key a new worker finds its context under. */
export const THREAD_CONTEXT_KEY = 'osprofiler.threadContext.v1';

/** What the worker receives: the signed context, and this thread's configuration (no driver object). */
export interface ThreadContext {
  context: string;
  config: Record<string, unknown>;
  /** The worker's file (path or URL text, `eval`), as on the `thread` point. */
  filename: string;
}

type WorkerCtor = typeof workerThreads.Worker;
type Worker = InstanceType<WorkerCtor>;
const THREAD = Symbol('osprofiler.thread');

interface ThreadWatch {
  point: Point;
  /** Read at construction: `threadId` is -1 once the worker has exited. */
  threadId: number;
  emit: EventEmitter['emit'];
  error: unknown;
}
type TracedWorker = Worker & { [THREAD]?: ThreadWatch };

function tracedConstruct(target: WorkerCtor, args: unknown[], newTarget: unknown, profiler: Profiler): object {
  let point: Point | undefined;
  let data: ThreadContext | undefined;
  try {
    const file = workerFile(args[0], args[1]);
    const o = threadState.options;
    if (file !== undefined && !o.untracedWorkers.some((re) => re.test(file))) {
      point = openPoint(THREAD_POINT, threadStartInfo(file), profiler);
      const p = point?.profiler;
      if (point !== undefined && p !== undefined && o.propagate && p.hmacKey) {
        data = { context: packContext(p.baseId, point.traceId, p.hmacKey, o.contextTtlMs), config: { ...getConfig() }, filename: file };
      }
    }
  } catch (err) {
    contained('thread.start', err);
  }
  let worker: TracedWorker;
  threadState.depth++;
  try {
    if (data !== undefined) workerThreads.setEnvironmentData(THREAD_CONTEXT_KEY, data as never);
    worker = Reflect.construct(target, args, newTarget as WorkerCtor) as TracedWorker;
  } catch (err) {
    point?.stop(threadStopInfo(-1, null, err));
    throw err;
  } finally {
    threadState.depth--;
    // Deleted again before anything else can run (see above).
    if (data !== undefined) workerThreads.setEnvironmentData(THREAD_CONTEXT_KEY, undefined as never);
  }
  if (point !== undefined) watch(worker, point);
  return worker;
}

function watch(worker: TracedWorker, point: Point): void {
  try {
    // Observed through `emit`: an 'error' listener would swallow the worker's uncaught error.
    worker[THREAD] = { point, threadId: worker.threadId, emit: worker.emit, error: undefined };
    worker.emit = workerEmit as EventEmitter['emit'];
  } catch (err) {
    contained('thread.watch', err);
    point.stop();
  }
}

/* eslint-disable prefer-rest-params -- pass `arguments` on, no rest array per event */
function workerEmit(this: TracedWorker, event: string | symbol, a?: unknown): boolean {
  const st = this[THREAD];
  if (st === undefined) return Reflect.apply(EventEmitter.prototype.emit, this, arguments) as boolean;
  try {
    if (event === 'error' && st.error === undefined) st.error = a;
    else if (event === 'exit') st.point.stop(threadStopInfo(st.threadId, typeof a === 'number' ? a : null, st.error));
  } catch (err) {
    contained('thread.event', err);
  }
  return Reflect.apply(st.emit, this, arguments) as boolean;
}
/* eslint-enable prefer-rest-params */

const mod = workerThreads as unknown as { Worker: WorkerCtor };

function proxy(orig: WorkerCtor): WorkerCtor {
  const p = new Proxy(orig, {
    construct(target, args, newTarget) {
      // Untraced: one flag check and one context lookup, then the real constructor.
      if (!threadState.active || threadState.depth > 0) return Reflect.construct(target, args, newTarget);
      const profiler = get();
      if (profiler === undefined) return Reflect.construct(target, args, newTarget);
      return tracedConstruct(target, args, newTarget, profiler);
    },
    get(target, key, receiver) {
      // The kit's one marker, answered here: defining it would define it on the real class.
      if (key === WRAPPED_MARK) return { original: orig, by: 'node' };
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return p;
}

export function installThreads(): void {
  if (threadState.installed) return;
  if (!isWrapped(mod.Worker, 'node')) mod.Worker = proxy(mod.Worker);
  threadState.installed = true;
  syncBuiltinESMExports();
}

export function uninstallThreads(): void {
  if (!threadState.installed) return;
  unwrap(mod, 'Worker', 'node');
  threadState.installed = false;
  syncBuiltinESMExports();
}
