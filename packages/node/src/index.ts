// Public surface of @osprofiler/node: outgoing http/https/fetch propagation, child processes
// and worker threads (exec/thread points, trace handed to the child), pool tasks, signed
// headers for hand-built requests, and `profileCli` for command-line tools.
export {
  instrumentHttpClient,
  uninstrumentHttpClient,
  isHttpClientInstrumented,
  instrumentChildProcess,
  uninstrumentChildProcess,
  isChildProcessInstrumented,
  instrumentWorkerThreads,
  uninstrumentWorkerThreads,
  isWorkerThreadsInstrumented,
} from './hook';
export { DEFAULT_OPTIONS, DEFAULT_CHILD_PROCESS_OPTIONS, DEFAULT_WORKER_THREADS_OPTIONS, POOL_WORKER_FILES } from './options';
export type { HttpClientOptions, ChildProcessOptions, WorkerThreadsOptions } from './options';
export { profileCli, profileCliFromArgv, findProfileFlag } from './profile-cli';
export type { ProfileCliOptions } from './profile-cli';
export { RPC_POINT, rpcStartInfo } from './points';
export type { RpcTarget } from './points';
export { EXEC_POINT } from './exec-points';
export { THREAD_POINT, WORKER_POINT, PROCESS_POINT, TASK_POINT } from './thread-points';
export { TRACE_CONTEXT_ENV, packContext, unpackContext } from './context-token';
export { continueFromParent } from './parent-trace';
export { wrapTask, continueTask, runTask, isWrappedTask } from './tasks';
export type { WrappedTask, WrapTaskOptions } from './tasks';
// For requests built by hand (another client library, a message queue, …).
export { traceHeaders, inject, TRACE_INFO_HEADER, TRACE_HMAC_HEADER } from '@osprofiler/core';
export type { TraceHeaders } from '@osprofiler/core';
