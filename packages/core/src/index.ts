// Public surface of @osprofiler/core. Named exports only; internals stay unexported.
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
import * as errors_info_ from './errors-info';
import * as propagation_ from './propagation';
import * as config_ from './config';
import * as sampling_ from './sampling';
import * as setup_ from './setup';
import * as clock_ from './clock';
import * as storedEvent_ from './drivers/stored-event';
import * as dbSql_ from './db/sql-info';
import * as dbOptions_ from './db/options';
import * as dbTraceDb_ from './db/trace-db';
import * as moduleHook_ from './module-hook';
import * as export_ from './export';
import * as line_ from './line';
import * as wsgiInfo_ from './wsgi-info';
import * as search_ from './search';

// --- wire types
export type { Notification, NotificationInfo } from './notification';
export type { Report, ReportNode, ReportNodeInfo, ReportStats } from './report-types';
export type { Driver, DriverFactory, DriverOptions, ListOptions, SearchOptions, SearchPage, TraceSummary } from './driver';
export type { LineBatch, LineIndex } from './line';
/** For drivers: notification objects as the LineBatch their `notifyLines` takes. */
export const linesOfNotifications = line_.linesOfNotifications;

// --- failures (contained and counted)
export const failureCounts = failures_.failureCounts;
export const resetFailureCounts = failures_.resetFailureCounts;
/** For adapters and drivers: count a contained failure (warned once per place). */
export const recordFailure = failures_.recordFailure;

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
export const parseTimestamp = report_.parseTimestamp;
export type { ReportEvent } from './report';
export const registerDriver = registry_.registerDriver;
export const createDriver = registry_.createDriver;
export const driverSchemes = registry_.driverSchemes;
export const redactConnectionString = registry_.redactConnectionString;
export const MemoryDriver = drivers_memory_.MemoryDriver;
export type MemoryDriver = drivers_memory_.MemoryDriver;
export const memoryDriverFactory = drivers_memory_.memoryDriverFactory;
export const FileDriver = drivers_file_.FileDriver;
export type FileDriver = drivers_file_.FileDriver;
export const createFileDriver = drivers_file_.createFileDriver;
export const fileDriverFactory = drivers_file_.fileDriverFactory;
export type { FileDriverCounters, FileDriverSettings, PruneResult } from './drivers/file';
export const defaultStateDir = state_dir_.defaultStateDir;
/** For drivers: parse one stored notification (JSON that may hold Python's bare NaN/Infinity). */
export const parseStoredEvent = storedEvent_.parseStoredEvent;
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
export const copyIdentity = decorators_.copyIdentity;
export type { TraceFunctionOptions, TraceClassOptions } from './decorators';
export const errorInfo = errors_info_.errorInfo;
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
export const ENV_NAMES = config_.ENV_NAMES;
export type { ProfilerConfig, ConfigInput, Sampling } from './config';
export const createSampler = sampling_.createSampler;
export type { Sampler } from './sampling';
export const configure = setup_.configure;
export const getConfig = setup_.getConfig;
export const flush = setup_.flush;
export const shutdown = setup_.shutdown;
export const notifierStats = setup_.notifierStats;
export const incomingTrace = setup_.incomingTrace;
export const continueFrom = setup_.continueFrom;
export type { ConfigureOptions } from './setup';
export type { NotifierStats } from './notifier';
export const formatTimestamp = clock_.formatTimestamp;

// --- database adapters: `sql` point info, shared options, the run-time trace_db switch
export const sqlInfo = dbSql_.sqlInfo;
export const boundStatement = dbSql_.boundStatement;
export const safeParams = dbSql_.safeParams;
export const roundMs = dbSql_.roundMs;
export const CUT_MARKER = dbSql_.CUT_MARKER;
export const resolveDbOptions = dbOptions_.resolveDbOptions;
export const DEFAULT_DB_OPTIONS = dbOptions_.DEFAULT_DB_OPTIONS;
export const ENV_DB_SHOW_PARAMS = dbOptions_.ENV_DB_SHOW_PARAMS;
export const ENV_DB_MAX_STATEMENT_LENGTH = dbOptions_.ENV_DB_MAX_STATEMENT_LENGTH;
export type { DbInstrumentationOptions, ResolvedDbOptions } from './db/options';
export const setTraceDb = dbTraceDb_.setTraceDb;
export const traceDbOn = dbTraceDb_.traceDbOn;

// --- automatic mode: one shared Module._load hook for every adapter
export const onModuleLoad = moduleHook_.onModuleLoad;

// --- HTTP server adapters: the `wsgi` point's start info, as Python records it
export const wsgiRequestInfo = wsgiInfo_.wsgiRequestInfo;
export const pythonPath = wsgiInfo_.pythonPath;
export const splitTarget = wsgiInfo_.splitTarget;
export type { RequestStartInfo } from './wsgi-info';

// --- trace search (for drivers keeping a summary index, and for readers)
export const searchIndex = {
  deltasOfBatch: search_.deltasOfBatch,
  mergeDelta: search_.mergeDelta,
  searchRecords: search_.searchRecords,
  normaliseSearch: search_.normaliseSearch,
  recordMatches: search_.recordMatches,
  summaryOfRecord: search_.summaryOfRecord,
  encodeCursor: search_.encodeCursor,
  decodeCursor: search_.decodeCursor,
  compareNewestFirst: search_.compareNewestFirst,
  recordToJson: search_.recordToJson,
  recordFromJson: search_.recordFromJson,
  recordOfEvents: search_.recordOfEvents,
  deltasOfNotifications: search_.deltasOfNotifications,
  rootLabel: search_.rootLabel,
  timestampMicros: search_.timestampMicros,
  recordDurationMs: search_.recordDurationMs,
  MAX_TEXT: search_.MAX_TEXT,
} as const;
export type { TraceDelta, TraceRecord, RootCandidate, NormalisedSearch, Cursor as SearchCursor } from './search';
