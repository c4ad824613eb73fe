/** How each part attaches: explicit `instrument*()` / `uninstrument*()`. */
import { installExec, uninstallExec } from './exec-hook';
import { installFetch, uninstallFetch } from './fetch-hook';
import { installHttp, uninstallHttp } from './http-hook';
import {
  resolveChildProcessOptions,
  resolveOptions,
  resolveWorkerThreadsOptions,
  type ChildProcessOptions,
  type HttpClientOptions,
  type WorkerThreadsOptions,
} from './options';
import { execState, state, threadState } from './state';
import { installThreads, uninstallThreads } from './thread-hook';

/**
 * Makes outgoing `http`/`https` requests and `fetch` calls made inside a trace carry the
 * signed trace headers, each in an `rpc` point (unless `traceRequests` is off). Outside a
 * trace they are untouched. Idempotent: calling it again only replaces the options.
 */
export function instrumentHttpClient(options?: HttpClientOptions): void {
  const o = resolveOptions(options);
  state.options = o;
  if (o.http) installHttp();
  else uninstallHttp();
  if (o.fetch) installFetch();
  else uninstallFetch();
  state.active = true;
}

/** Removes the wrappers and channel subscribers (a wrapper that was wrapped again by someone else stays, inert). */
export function uninstrumentHttpClient(): void {
  state.active = false;
  uninstallHttp();
  uninstallFetch();
}

/** True while the client instrumentation is active. */
export function isHttpClientInstrumented(): boolean {
  return state.active;
}

/**
 * `child_process` (`spawn`, `exec`, `execFile`, `fork` and the `*Sync` forms, promisified
 * forms too): inside a trace each call is an `exec` point and the child receives the trace
 * in `OSPROFILER_TRACE_CONTEXT`. Outside a trace, untouched. Idempotent.
 */
export function instrumentChildProcess(options?: ChildProcessOptions): void {
  execState.options = resolveChildProcessOptions(options);
  installExec();
  execState.active = true;
}

export function uninstrumentChildProcess(): void {
  execState.active = false;
  uninstallExec();
}

export function isChildProcessInstrumented(): boolean {
  return execState.active;
}

/**
 * `worker_threads`: inside a trace `new Worker()` is a `thread` point from construction to
 * exit, and the worker receives the trace (and this thread's configuration). Idempotent.
 */
export function instrumentWorkerThreads(options?: WorkerThreadsOptions): void {
  threadState.options = resolveWorkerThreadsOptions(options);
  installThreads();
  threadState.active = true;
}

export function uninstrumentWorkerThreads(): void {
  threadState.active = false;
  uninstallThreads();
}

export function isWorkerThreadsInstrumented(): boolean {
  return threadState.active;
}
