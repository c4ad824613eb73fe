// Public surface of @osprofiler/core: the application API. Named exports only; internals
// stay unexported. Helpers for adapter and driver authors are on the subpath
// @osprofiler/core/instrument (src/instrument.ts).
//
// Functions are re-exported as plain `const` data properties, not `export { x } from`:
// TypeScript compiles the latter to getters, and a CommonJS exports object full of getters
// falls into dictionary mode, which made every `core.start()` call ~10x slower (measured
// in tools/bench/core-points.cjs). Classes are a `const` plus a `type` of the same name.
import * as failures_ from './failures';
import * as pyjson_ from './pyjson';
import * as signing_ from './signing';
import * as report_ from './report';
import * as registry_ from './registry';
import * as drivers_memory_ from './drivers/memory';
import * as drivers_file_ from './drivers/file';
import * as state_dir_ from './state-dir';
import * as api_ from './api';
import * as profiler_ from './profiler';
import * as point_ from './point';
import * as decorators_ from './decorators';
import * as propagation_ from './propagation';
import * as config_ from './config';
import * as setup_ from './setup';
import * as dbTraceDb_ from './db/trace-db';
import * as export_ from './export';

// --- wire types
export type { Notification, NotificationInfo } from './notification';
export type { Report, ReportNode, ReportNodeInfo, ReportStats } from './report-types';
export type { Driver, DriverOptions, ListOptions, SearchOptions, SearchPage, TraceSummary } from './driver';

// --- failures (contained and counted)
export const failureCounts = failures_.failureCounts;
export const resetFailureCounts = failures_.resetFailureCounts;

// --- Python-compatible JSON
export const pyDumps = pyjson_.pyDumps;
export type { PyDumpsOptions } from './pyjson';

// --- signing
export const signedPack = signing_.signedPack;
export const signedUnpack = signing_.signedUnpack;
export const parseHmacKeys = signing_.parseHmacKeys;
export type { TraceData, SignedTraceData, UnpackedTraceData } from './signing';

// --- drivers, registry, report builder
export const buildReport = report_.buildReport;
export const formatReportJson = report_.formatReportJson;
export type { ReportEvent } from './report';
export const createDriver = registry_.createDriver;
/** Registered storage schemes (drivers register theirs with @osprofiler/core/instrument's registerDriver). */
export const driverSchemes = registry_.driverSchemes;
/** Every storage scheme available here (registered drivers and installed optional packages). */
export const knownSchemes = registry_.knownSchemes;
export const MemoryDriver = drivers_memory_.MemoryDriver;
export type MemoryDriver = drivers_memory_.MemoryDriver;
export const FileDriver = drivers_file_.FileDriver;
export type FileDriver = drivers_file_.FileDriver;
export const createFileDriver = drivers_file_.createFileDriver;
export type { FileDriverCounters, FileDriverSettings, PruneResult } from './drivers/file';
export const defaultStateDir = state_dir_.defaultStateDir;
/** Copies a stored trace from one driver to another (e.g. to `otlp://`). */
export const exportTrace = export_.exportTrace;
export const traceNotifications = export_.traceNotifications;

// --- profiler, context, tracing, config
export const Profiler = profiler_.Profiler;
export type Profiler = profiler_.Profiler;
export const run = api_.run;
export const init = api_.init;
export const get = api_.get;
export const clean = api_.clean;
export const start = api_.start;
export const stop = api_.stop;
export const unmatchedStopCount = api_.unmatchedStopCount;
export const untraced = api_.untraced;
export type { TraceOptions } from './api';
export const Point = point_.Point;
export type Point = point_.Point;
export const openPoint = point_.openPoint;
export const traced = point_.traced;
export type { StopInfoFn } from './point';
export const trace = decorators_.trace;
export const traceClass = decorators_.traceClass;
export type { TraceFunctionOptions, TraceClassOptions } from './decorators';
export const inject = propagation_.inject;
export const extract = propagation_.extract;
export const traceHeaders = propagation_.traceHeaders;
export const TRACE_INFO_HEADER = propagation_.TRACE_INFO_HEADER;
export const TRACE_HMAC_HEADER = propagation_.TRACE_HMAC_HEADER;
export type { Carrier, TraceHeaders } from './propagation';
export const ConfigError = config_.ConfigError;
export type ConfigError = config_.ConfigError;
export const resolveConfig = config_.resolveConfig;
export const DEFAULT_CONFIG = config_.DEFAULT_CONFIG;
/** The header `responseTraceHeader: true` sends: a traced response names its base_id. */
export const DEFAULT_RESPONSE_TRACE_HEADER = config_.DEFAULT_RESPONSE_TRACE_HEADER;
export const ENV_NAMES = config_.ENV_NAMES;
export type { ProfilerConfig, ConfigInput, Sampling } from './config';
export const configure = setup_.configure;
export const getConfig = setup_.getConfig;
export const flush = setup_.flush;
export const shutdown = setup_.shutdown;
export const notifierStats = setup_.notifierStats;
export const continueFrom = setup_.continueFrom;
export type { ConfigureOptions } from './setup';
export type { NotifierStats } from './notifier';

// --- database adapters' run-time trace_db switch (helpers for adapters: @osprofiler/core/instrument)
export const setTraceDb = dbTraceDb_.setTraceDb;
