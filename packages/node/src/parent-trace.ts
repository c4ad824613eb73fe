/**
 * The receiving side: a child process (`OSPROFILER_TRACE_CONTEXT`) or a worker thread
 * (environment data) continues its creator's trace. Its main run becomes a `process` or
 * `worker` point under the creator's `exec` / `thread` point, and the points it makes land
 * under that one.
 */
import { basename } from 'node:path';
import workerThreads from 'node:worker_threads';
import { configure, flush, getConfig, notifierStats, openPoint, run, traced, type Point, type TraceOptions } from '@osprofiler/core';
import { enterProcessTrace } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { TRACE_CONTEXT_ENV, unpackContext } from './context-token';
import { THREAD_CONTEXT_KEY, type ThreadContext } from './thread-hook';
import { PROCESS_POINT, WORKER_POINT } from './thread-points';

interface Inherited {
  trace: TraceOptions;
  name: string;
  info: object;
}

const TAKEN = Symbol.for('osprofiler.node.parentContextTaken.v1');
const holder = globalThis as unknown as { [TAKEN]?: boolean };

/**
 * Reads (once per process or thread) and removes the context handed over by the creator,
 * so work started later — grandchildren, this worker's own workers — never inherits a stale
 * one. Undefined when there is none, or it is forged or expired: then the run is untraced.
 */
function takeInherited(): Inherited | undefined {
  if (holder[TAKEN] === true) return undefined;
  holder[TAKEN] = true;
  if (!workerThreads.isMainThread) {
    const data = workerThreads.getEnvironmentData(THREAD_CONTEXT_KEY) as ThreadContext | undefined;
    if (data === undefined) return undefined;
    workerThreads.setEnvironmentData(THREAD_CONTEXT_KEY, undefined as never);
    // Same process: unless the worker configured itself, it stores points where its creator does.
    if (notifierStats() === undefined && data.config !== undefined) configure(data.config);
    const trace = unpackContext(data.context, getConfig().hmacKeys);
    if (trace === undefined) return undefined;
    const file = typeof data.filename === 'string' ? data.filename : '';
    return {
      trace,
      name: WORKER_POINT,
      info: { function: { name: basename(file) || 'worker' }, thread: { thread_id: workerThreads.threadId } },
    };
  }
  const token = process.env[TRACE_CONTEXT_ENV];
  if (token === undefined) return undefined;
  delete process.env[TRACE_CONTEXT_ENV];
  const trace = unpackContext(token, getConfig().hmacKeys);
  if (trace === undefined) return undefined;
  const script = process.argv[1];
  return {
    trace,
    name: PROCESS_POINT,
    info: {
      function: { name: basename(script ?? process.execPath) },
      process: { pid: process.pid, ppid: process.ppid, executable: basename(process.execPath) },
    },
  };
}

let rootPoint: Point | undefined;

/**
 * Automatic mode (register): the rest of this process or thread runs in the inherited
 * trace, under one `process`/`worker` point that stops when the event loop is empty
 * (`beforeExit`; then the points are flushed) or at `exit`. Returns false when there is
 * nothing (valid) to continue.
 */
export function enterParentTrace(): boolean {
  try {
    const inh = takeInherited();
    if (inh === undefined) return false;
    const point = run(inh.trace, () => openPoint(inh.name, inh.info));
    if (point === undefined) return false;
    rootPoint = point;
    // Everything from here on (the main module too) is in the trace: enterWith, and the
    // process trace where the context entered here does not reach the main module (Node 24
    // with an `--import` preload: core api.ts enterProcessTrace).
    enterProcessTrace({ hmacKey: inh.trace.hmacKey, baseId: inh.trace.baseId, parentId: point.traceId });
    process.once('beforeExit', (code) => {
      stopRoot(code);
      flush().catch((err: unknown) => contained('parent.flush', err));
    });
    // process.exit() or a crash: the stop is recorded, but may not be flushed in time.
    process.once('exit', (code) => stopRoot(code));
    return true;
  } catch (err) {
    contained('parent.enter', err);
    return false;
  }
}

function stopRoot(code: number): void {
  const p = rootPoint;
  if (p === undefined || p.isStopped) return;
  const exitCode = typeof process.exitCode === 'number' ? process.exitCode : code;
  p.stop(p.name === WORKER_POINT ? { thread: { exit_code: exitCode } } : { process: { exit_code: exitCode } });
}

/**
 * Explicit form for bundled apps (no `--require`/`--import`): runs `fn` in the trace the
 * creator handed over, inside a `process` (child process) or `worker` (worker thread)
 * point; without a valid context, just runs `fn`. Returns exactly what `fn` returns.
 * Call it once, at the start of the child's or worker's main code.
 */
export function continueFromParent<R>(fn: () => R): R {
  let inh: Inherited | undefined;
  try {
    inh = takeInherited();
  } catch (err) {
    contained('parent.continue', err);
  }
  if (inh === undefined) return fn();
  const { trace, name, info } = inh;
  return run(trace, () => traced(name, info, fn));
}
