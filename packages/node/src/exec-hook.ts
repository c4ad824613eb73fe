/**
 * `child_process`: wraps `spawn`, `execFile`, `exec`, `fork` and `spawnSync`,
 * `execFileSync`, `execSync` on the module object (Node offers no diagnostics channel for
 * child processes on Node 20), keeping the ESM named exports in sync. Node's own
 * `util.promisify` forms of `exec`/`execFile` call the original directly, so the wrappers
 * carry their own `promisify.custom` with the same contract (`{stdout, stderr}`, `.child`).
 */
import type { ChildProcess, SpawnSyncReturns } from 'node:child_process';
import childProcess from 'node:child_process';
import { EventEmitter } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';
import { promisify } from 'node:util';
import { get, openPoint, type Point, type Profiler } from '@osprofiler/core';
import { isWrapped, markWrapped, unwrap } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { packContext, TRACE_CONTEXT_ENV } from './context-token';
import { describeExecArgs, EXEC_POINT, execStartInfo, execStopInfo, isSpawnError, type ExecApi, type ExecCall } from './exec-points';
import { execState } from './state';

type AnyFn = (...args: unknown[]) => unknown;
const EXEC = Symbol('osprofiler.exec');

interface ExecWatch {
  point: Point;
  emit: EventEmitter['emit'];
  error: unknown;
}
type TracedChild = ChildProcess & { [EXEC]?: ExecWatch };

/** A copy of the arguments whose options carry a copy of the environment plus the context. */
function withContext(args: ArrayLike<unknown>, call: ExecCall, point: Point, ttlMs: number): ArrayLike<unknown> {
  const given = call.options?.env;
  // Anything else is Node's to reject: leave the call untouched.
  if (given !== undefined && given !== null && typeof given !== 'object') return args;
  const p = point.profiler;
  if (!p.hmacKey) return args;
  const env = { ...((given as NodeJS.ProcessEnv | null | undefined) ?? process.env) };
  env[TRACE_CONTEXT_ENV] = packContext(p.baseId, point.traceId, p.hmacKey, ttlMs);
  const options = { ...call.options, env };
  const out = Array.from(args);
  if (call.replace) out[call.optionsIndex] = options;
  else out.splice(call.optionsIndex, 0, options);
  return out;
}

function open(api: ExecApi, args: ArrayLike<unknown>, profiler: Profiler): { point: Point | undefined; callArgs: ArrayLike<unknown> } {
  try {
    const call = describeExecArgs(api, args);
    if (call === undefined) return { point: undefined, callArgs: args };
    const o = execState.options;
    const point = openPoint(EXEC_POINT, execStartInfo(api, call, o.showArgs), profiler);
    const callArgs = point !== undefined && o.propagate ? withContext(args, call, point, o.contextTtlMs) : args;
    return { point, callArgs };
  } catch (err) {
    contained('exec.start', err);
    return { point: undefined, callArgs: args };
  }
}

function failed(point: Point | undefined, err: unknown): void {
  try {
    const e = err as { pid?: unknown; status?: unknown; signal?: unknown };
    const pid = typeof e?.pid === 'number' && e.pid > 0 ? e.pid : null;
    const exitCode = typeof e?.status === 'number' ? e.status : null;
    const signal = typeof e?.signal === 'string' ? e.signal : null;
    point?.stop(execStopInfo({ pid, exitCode, signal }, isSpawnError(err) ? err : undefined));
  } catch (e) {
    contained('exec.stop', e);
  }
}

function tracedAsync(api: ExecApi, orig: AnyFn, self: unknown, args: ArrayLike<unknown>, profiler: Profiler): unknown {
  const { point, callArgs } = open(api, args, profiler);
  let child: unknown;
  execState.depth++;
  try {
    child = Reflect.apply(orig, self, callArgs);
  } catch (err) {
    failed(point, err);
    throw err;
  } finally {
    execState.depth--;
  }
  if (point !== undefined) watch(child as TracedChild, point);
  return child;
}

function watch(child: TracedChild, point: Point): void {
  try {
    // Observed through `emit`, not listeners: an 'error' listener would swallow the spawn
    // error of a `spawn()` the app does not listen to (it must still crash the app).
    child[EXEC] = { point, emit: child.emit, error: undefined };
    child.emit = childEmit as EventEmitter['emit'];
  } catch (err) {
    contained('exec.watch', err);
    point.stop();
  }
}

/* eslint-disable prefer-rest-params -- pass `arguments` on, no rest array per event */
function childEmit(this: TracedChild, event: string | symbol, a?: unknown, b?: unknown): boolean {
  const st = this[EXEC];
  if (st === undefined) return Reflect.apply(EventEmitter.prototype.emit, this, arguments) as boolean;
  try {
    if (event === 'exit') {
      st.point.stop(execStopInfo({ pid: this.pid ?? null, exitCode: (a as number | null) ?? null, signal: (b as string | null) ?? null }, st.error));
    } else if (event === 'error') {
      // Never spawned (ENOENT, EACCES…): no 'exit' follows. Otherwise (abort, failed
      // kill/send) the error is kept for the stop at 'exit'.
      if (this.pid === undefined) st.point.stop(execStopInfo({ pid: null, exitCode: null, signal: null }, a));
      else if (st.error === undefined) st.error = a;
    }
  } catch (err) {
    contained('exec.event', err);
  }
  return Reflect.apply(st.emit, this, arguments) as boolean;
}

function tracedSync(api: ExecApi, orig: AnyFn, self: unknown, args: ArrayLike<unknown>, profiler: Profiler): unknown {
  const { point, callArgs } = open(api, args, profiler);
  let result: unknown;
  execState.depth++;
  try {
    result = Reflect.apply(orig, self, callArgs);
  } catch (err) {
    // execSync/execFileSync throw for a spawn error and for a non-zero exit (with pid, status, signal).
    failed(point, err);
    throw err;
  } finally {
    execState.depth--;
  }
  if (point !== undefined) {
    try {
      if (api === 'spawnSync') {
        const r = result as SpawnSyncReturns<unknown>;
        point.stop(execStopInfo({ pid: r.pid > 0 ? r.pid : null, exitCode: r.status, signal: r.signal }, r.error ?? undefined));
      } else {
        // Node returns only the output of a successful execSync/execFileSync: exit code 0, no pid.
        point.stop(execStopInfo({ pid: null, exitCode: 0, signal: null }));
      }
    } catch (err) {
      contained('exec.stop', err);
    }
  }
  return result;
}

function wrap(api: ExecApi, orig: AnyFn): AnyFn {
  const traced = api.endsWith('Sync') ? tracedSync : tracedAsync;
  const wrapped = function (this: unknown) {
    // Untraced: one flag check and one context lookup, then the original, untouched.
    if (!execState.active || execState.depth > 0) return Reflect.apply(orig, this, arguments);
    const profiler = get();
    if (profiler === undefined) return Reflect.apply(orig, this, arguments);
    return traced(api, orig, this, arguments, profiler);
  };
  Object.defineProperty(wrapped, 'name', { value: orig.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: orig.length, configurable: true });
  markWrapped(wrapped, orig, 'node');
  if ((orig as { [promisify.custom]?: unknown })[promisify.custom] !== undefined) {
    Object.defineProperty(wrapped, promisify.custom, { value: promisified(wrapped), configurable: true });
  }
  return wrapped;
}
/* eslint-enable prefer-rest-params */

/** Node's own contract for `promisify(exec)` / `promisify(execFile)`, calling the wrapper. */
function promisified(fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    let resolve!: (v: { stdout: unknown; stderr: unknown }) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<{ stdout: unknown; stderr: unknown }>((res, rej) => {
      resolve = res;
      reject = rej;
    }) as Promise<{ stdout: unknown; stderr: unknown }> & { child?: unknown };
    promise.child = Reflect.apply(fn, this, [
      ...args,
      (err: (Error & { stdout?: unknown; stderr?: unknown }) | null, stdout: unknown, stderr: unknown) => {
        if (err !== null) {
          err.stdout = stdout;
          err.stderr = stderr;
          reject(err);
        } else {
          resolve({ stdout, stderr });
        }
      },
    ]);
    return promise;
  };
}

const APIS: readonly ExecApi[] = ['spawn', 'execFile', 'exec', 'fork', 'spawnSync', 'execFileSync', 'execSync'];
const mod = childProcess as unknown as Record<string, AnyFn>;

/** Installs the wrappers once per process (later calls find them in place). */
export function installExec(): void {
  if (execState.installed) return;
  for (const api of APIS) {
    const current = mod[api];
    if (typeof current !== 'function' || isWrapped(current, 'node')) continue;
    mod[api] = wrap(api, current);
  }
  execState.installed = true;
  syncBuiltinESMExports();
}

/** Puts the originals back where our wrapper is still the exported function. */
export function uninstallExec(): void {
  if (!execState.installed) return;
  for (const api of APIS) {
    unwrap(mod, api, 'node');
  }
  execState.installed = false;
  syncBuiltinESMExports();
}
