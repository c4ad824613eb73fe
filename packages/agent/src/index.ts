// Public surface of @osprofiler/agent. Importing it registers the `agent://` scheme.
import './register';

export { register } from './register';
export { AgentClientDriver } from './client/driver';
export type { AgentClientCounters } from './client/driver';
export { agentDriverFactory } from './client/factory';
export { clientOptionsFromUrl, DEFAULT_CLIENT_OPTIONS, DEFAULT_SOCKET_PATH } from './client/options';
export type { AgentClientOptions } from './client/options';
export { startAgent } from './agent/server';
export type { AgentHandle } from './agent/server';
export { DEFAULT_AGENT_OPTIONS } from './agent/options';
export type { AgentOptions, AgentOptionsInput } from './agent/options';
export type { AgentMetrics } from './agent/metrics';
export { ensureAgent } from './ensure';
export type { EnsureAgentOptions, EnsureAgentResult } from './ensure';
export { runAgentProcess, parseDaemonArgs, EXIT_ALREADY_RUNNING } from './run';
export type { RunLog } from './run';
export { isListening } from './agent/bind';
export { DROPPED_POINT_NAME } from './markers';
export { PROTOCOL_VERSION, DEFAULT_MAX_FRAME_BYTES } from './protocol';
export { AgentError } from './errors';
export type { AgentErrorCode } from './errors';
export { Upstream, splitBatch, defaultAgentId, encodeBody, upstreamCompression } from './upstream/publisher';
export { RawDeflater, RawInflater } from './upstream/deflate';
export type { UpstreamOptions, UpstreamMessage } from './upstream/publisher';
export { checkNatsFiles, connectNats, natsOptions } from './upstream/connect';
export type { NatsAccess } from './upstream/connect';
export {
  UPSTREAM_SCHEMA_VERSION,
  UPSTREAM_SCHEMA_INDEXED,
  UPSTREAM_SCHEMAS,
  UPSTREAM_SCHEMA_DEFLATE,
  DEFLATE_MIN_BYTES,
  DEFAULT_SUBJECT_PREFIX,
  DEFAULT_PARTITIONS,
  DEFAULT_STREAM,
  Headers as UpstreamHeaders,
  fnv1a32,
  partitionOf,
  projectToken,
  pointsSubject,
  partitionFilter,
  deadLetterSubject,
  checkSubjectPrefix,
  lineProject,
} from './upstream/contract';
export { DecodedLines, encodeLinesBody, isLinesBody, notificationText } from './lines';
export { PointIndex, readIndex, IndexSource } from './lineindex';
export { startHealthServer, parseHealthAddress } from './agent/health';
export type { HealthServer } from './agent/health';
export { Backend as StoreBackend } from './agent/backend';
export type { BackendBatch, Sink } from './agent/backend';
