import type { ResolvedChildProcessOptions, ResolvedHttpClientOptions, ResolvedWorkerThreadsOptions } from './options';
import { DEFAULT_CHILD_PROCESS_OPTIONS, DEFAULT_OPTIONS, DEFAULT_WORKER_THREADS_OPTIONS } from './options';

/**
 * Process-wide state of the client instrumentation, shared by every copy of this package
 * that gets loaded (so `register` from one copy and `instrumentHttpClient` from another
 * still install one set of wrappers).
 */
export interface ClientState {
  /** Wrappers and subscribers do nothing while false (a wrapper someone else wrapped again cannot be removed). */
  active: boolean;
  options: ResolvedHttpClientOptions;
  /** > 0 while one of our wrappers runs the original: nested calls are not traced again. */
  depth: number;
  httpInstalled: boolean;
  fetchInstalled: boolean;
}

/** The same for `child_process` and `worker_threads`. */
export interface SpawnState<O> {
  active: boolean;
  options: O;
  /** > 0 while one of our wrappers runs the original (`exec` calls `execFile`): traced once. */
  depth: number;
  installed: boolean;
}

const KEY = Symbol.for('osprofiler.node.httpClient.v1');
const holder = globalThis as unknown as { [KEY]?: ClientState };

export const state: ClientState = (holder[KEY] ??= {
  active: false,
  options: { ...DEFAULT_OPTIONS },
  depth: 0,
  httpInstalled: false,
  fetchInstalled: false,
});

const EXEC_KEY = Symbol.for('osprofiler.node.childProcess.v1');
const THREAD_KEY = Symbol.for('osprofiler.node.workerThreads.v1');
const spawnHolder = globalThis as unknown as {
  [EXEC_KEY]?: SpawnState<ResolvedChildProcessOptions>;
  [THREAD_KEY]?: SpawnState<ResolvedWorkerThreadsOptions>;
};

export const execState: SpawnState<ResolvedChildProcessOptions> = (spawnHolder[EXEC_KEY] ??= {
  active: false,
  options: { ...DEFAULT_CHILD_PROCESS_OPTIONS },
  depth: 0,
  installed: false,
});

export const threadState: SpawnState<ResolvedWorkerThreadsOptions> = (spawnHolder[THREAD_KEY] ??= {
  active: false,
  options: { ...DEFAULT_WORKER_THREADS_OPTIONS },
  depth: 0,
  installed: false,
});
