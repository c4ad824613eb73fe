// Public surface of @osprofiler/node (client side): outgoing http/https/fetch propagation,
// signed headers for hand-built requests, and `profileCli` for command-line tools.
export { instrumentHttpClient, uninstrumentHttpClient, isHttpClientInstrumented } from './hook';
export { DEFAULT_OPTIONS } from './options';
export type { HttpClientOptions } from './options';
export { httpClientFailureCounts } from './contained';
export { profileCli, profileCliFromArgv, findProfileFlag } from './profile-cli';
export type { ProfileCliOptions } from './profile-cli';
export { RPC_POINT, rpcStartInfo } from './points';
export type { RpcTarget } from './points';
// For requests built by hand (another client library, a message queue, …).
export { traceHeaders, inject, TRACE_INFO_HEADER, TRACE_HMAC_HEADER } from '@osprofiler/core';
export type { TraceHeaders } from '@osprofiler/core';
