// Public surface of @osprofiler/core. Named exports only; internals stay unexported.

// --- wire types
export type { Notification, NotificationInfo } from './notification';
export type { Report, ReportNode, ReportNodeInfo, ReportStats } from './report-types';
export type { Driver, DriverFactory, DriverOptions, ListOptions, TraceSummary } from './driver';

// --- failures (contained and counted)
export { failureCounts, resetFailureCounts } from './failures';

// --- Python-compatible JSON
export { pyDumps } from './pyjson';
export type { PyDumpsOptions } from './pyjson';

// --- signing (helper: signing)
export { signedPack, signedUnpack, parseHmacKeys } from './signing';
export type { TraceData, SignedTraceData, UnpackedTraceData } from './signing';

// --- drivers, registry, report builder (helper: drivers)
export { buildReport, formatReportJson, parseTimestamp } from './report';
export type { ReportEvent } from './report';
export { registerDriver, createDriver, driverSchemes, redactConnectionString } from './registry';
export { MemoryDriver, memoryDriverFactory } from './drivers/memory';
export { FileDriver, createFileDriver, fileDriverFactory } from './drivers/file';
export type { FileDriverCounters, FileDriverSettings, PruneResult } from './drivers/file';
export { defaultStateDir } from './state-dir';

// --- profiler, context, tracing, config (main)
export { Profiler } from './profiler';
export { run, init, get, clean, start, stop, unmatchedStopCount } from './api';
export type { TraceOptions } from './api';
export { Point, openPoint, traced } from './point';
export type { StopInfoFn } from './point';
export { trace, traceClass } from './decorators';
export type { TraceFunctionOptions, TraceClassOptions } from './decorators';
export { errorInfo } from './errors-info';
export { inject, extract, traceHeaders, TRACE_INFO_HEADER, TRACE_HMAC_HEADER } from './propagation';
export type { Carrier, TraceHeaders } from './propagation';
export { resolveConfig, ConfigError, DEFAULT_CONFIG, ENV_NAMES } from './config';
export type { ProfilerConfig, ConfigInput, Sampling } from './config';
export { createSampler } from './sampling';
export type { Sampler } from './sampling';
export { configure, getConfig, flush, shutdown, notifierStats, incomingTrace, continueFrom } from './setup';
export type { ConfigureOptions } from './setup';
export type { NotifierStats } from './notifier';
export { formatTimestamp } from './clock';
