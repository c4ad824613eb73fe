/** Options of the outgoing HTTP instrumentation (`instrumentHttpClient`). */
export interface HttpClientOptions {
  /**
   * Record an `rpc` point around each outgoing request made inside a trace (the request
   * then carries that point's headers). Off: the request carries the headers of the
   * current point and no point is recorded. Default: core's `traceRequests`
   * (`OSPROFILER_TRACE_REQUESTS`, default true), read per request.
   */
  traceRequests?: boolean;
  /** Wrap `http.request`/`http.get`/`https.request`/`https.get`. */
  http?: boolean;
  /** Follow global `fetch` (and npm `undici`) through undici's diagnostics channels. */
  fetch?: boolean;
}

export interface ResolvedHttpClientOptions {
  traceRequests: boolean | undefined;
  http: boolean;
  fetch: boolean;
}

export const DEFAULT_OPTIONS: Readonly<ResolvedHttpClientOptions> = Object.freeze({
  traceRequests: undefined,
  http: true,
  fetch: true,
});

export function resolveOptions(options: HttpClientOptions = {}): ResolvedHttpClientOptions {
  return {
    traceRequests: options.traceRequests ?? DEFAULT_OPTIONS.traceRequests,
    http: options.http ?? DEFAULT_OPTIONS.http,
    fetch: options.fetch ?? DEFAULT_OPTIONS.fetch,
  };
}

/** Options of the child process instrumentation (`instrumentChildProcess`). */
export interface ChildProcessOptions {
  /** Record the command's arguments (`exec.args`). Off by default: arguments often hold secrets. */
  showArgs?: boolean;
  /** Hand the trace to the child in `OSPROFILER_TRACE_CONTEXT` (a copy of its environment). */
  propagate?: boolean;
  /** How long the handed-over context stays valid (signed with it), in ms. */
  contextTtlMs?: number;
}

export interface ResolvedChildProcessOptions {
  showArgs: boolean;
  propagate: boolean;
  contextTtlMs: number;
}

/** Pool libraries whose workers outlive any one request: they get no `thread` point (use `wrapTask`). */
export const POOL_WORKER_FILES: readonly RegExp[] = Object.freeze([/[\\/]node_modules[\\/](piscina|tinypool)[\\/]/]);

/** Options of the worker thread instrumentation (`instrumentWorkerThreads`). */
export interface WorkerThreadsOptions {
  /** Hand the trace (and this thread's profiler configuration) to the worker. */
  propagate?: boolean;
  /** How long the handed-over context stays valid, in ms. */
  contextTtlMs?: number;
  /** Worker files (path or URL text) that get no `thread` point: long-lived pool workers. */
  untracedWorkers?: readonly RegExp[];
}

export interface ResolvedWorkerThreadsOptions {
  propagate: boolean;
  contextTtlMs: number;
  untracedWorkers: readonly RegExp[];
}

export const DEFAULT_CHILD_PROCESS_OPTIONS: Readonly<ResolvedChildProcessOptions> = Object.freeze({
  showArgs: false,
  propagate: true,
  contextTtlMs: 300_000,
});

export const DEFAULT_WORKER_THREADS_OPTIONS: Readonly<ResolvedWorkerThreadsOptions> = Object.freeze({
  propagate: true,
  contextTtlMs: 300_000,
  untracedWorkers: POOL_WORKER_FILES,
});

function ttl(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : dflt;
}

export function resolveChildProcessOptions(o: ChildProcessOptions = {}): ResolvedChildProcessOptions {
  const d = DEFAULT_CHILD_PROCESS_OPTIONS;
  return { showArgs: o.showArgs ?? d.showArgs, propagate: o.propagate ?? d.propagate, contextTtlMs: ttl(o.contextTtlMs, d.contextTtlMs) };
}

export function resolveWorkerThreadsOptions(o: WorkerThreadsOptions = {}): ResolvedWorkerThreadsOptions {
  const d = DEFAULT_WORKER_THREADS_OPTIONS;
  return {
    propagate: o.propagate ?? d.propagate,
    contextTtlMs: ttl(o.contextTtlMs, d.contextTtlMs),
    untracedWorkers: o.untracedWorkers ?? d.untracedWorkers,
  };
}
