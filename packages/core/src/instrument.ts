// Public surface of @osprofiler/core/instrument: the kit for adapter and driver authors.
// Applications use the main entry (@osprofiler/core); everything here is for code that
// hooks a framework or stores points. See README.md "The instrumentation kit".
//
// Same rule as index.ts: functions are re-exported as plain `const` data properties, not
// `export { x } from` (getters: a CommonJS exports object full of them falls into
// dictionary mode, measured ~10x slower calls in tools/bench/core-points.cjs).
import * as failures_ from './failures';
import * as diagnostics_ from './diagnostics';
import * as wrap_ from './kit/wrap';
import * as moduleHooks_ from './kit/module-hooks';
import * as registerOnce_ from './kit/register-once';
import * as versions_ from './kit/versions';
import * as lifecycle_ from './kit/lifecycle';
import * as thenable_ from './thenable';
import * as contained_ from './kit/contained';
import * as httpServer_ from './kit/http-server';
import * as httpOptions_ from './kit/http-options';
import * as httpEntry_ from './kit/http-entry';
import * as hostObject_ from './kit/host-object';
import * as incoming_ from './kit/incoming';
import * as timeout_ from './kit/timeout';
import * as optional_ from './kit/optional';
import * as frozenInfo_ from './kit/frozen-info';
import * as redact_ from './redact';
import * as responseHeader_ from './response-header';
import * as profiler_ from './profiler';
import * as registry_ from './registry';
import * as driver_ from './driver';
import * as line_ from './line';
import * as search_ from './search';
import * as storedEvent_ from './drivers/stored-event';
import * as lineLayout_ from './line-layout';
import * as drivers_memory_ from './drivers/memory';
import * as drivers_file_ from './drivers/file';
import * as timestamp_ from './timestamp';
import * as clock_ from './clock';
import * as errors_info_ from './errors-info';
import * as decorators_ from './decorators';
import * as sampling_ from './sampling';
import * as setup_ from './setup';
import * as dbSql_ from './db/sql-info';
import * as dbOptions_ from './db/options';
import * as dbTraceDb_ from './db/trace-db';
import * as dbOperation_ from './kit/db-operation';
import * as wsgiInfo_ from './wsgi-info';
import * as pyjson_ from './pyjson';
import * as api_ from './api';

// --- wrapping: one marker for every package of ours
export const wrap = wrap_.wrap;
export const unwrap = wrap_.unwrap;
export const isWrapped = wrap_.isWrapped;
export const originalOf = wrap_.originalOf;
export const markWrapped = wrap_.markWrapped;
export const ownerOf = wrap_.ownerOf;
export const WRAPPED_MARK = wrap_.WRAPPED_MARK;

// --- module hooks (automatic mode) with supported version ranges
export const hookModule = moduleHooks_.hookModule;
export const onModuleLoad = moduleHooks_.onModuleLoad;
export const moduleHookStatus = moduleHooks_.moduleHookStatus;
/** An adapter's automatic-mode set-up: once per process, only with OSPROFILER_ENABLED. */
export const registerOnce = registerOnce_.registerOnce;
export type { ModuleHook, ModuleHookEvent } from './kit/module-hooks';
export const satisfies = versions_.satisfies;
export const optionalRequire = optional_.optionalRequire;

/** Automatic mode in a child process or worker thread: `init()` whose trace every context without one of its own is in (api.ts). */
export const enterProcessTrace = api_.enterProcessTrace;

// --- point lifecycle around a call: value, promise, stream or Observable
export const callInPoint = lifecycle_.callInPoint;
export const callBeside = lifecycle_.callBeside;
export const settle = lifecycle_.settle;
export const watchStream = lifecycle_.watchStream;
export const observe = lifecycle_.observe;
export const isThenable = thenable_.isThenable;
export const openPointContained = lifecycle_.openPointContained;
export type { Follow, ObservableClass } from './kit/lifecycle';
export const errorInfo = errors_info_.errorInfo;
export const copyIdentity = decorators_.copyIdentity;

// --- containment and diagnostics
export const contained = contained_.contained;
export type { Contain } from './kit/contained';
export type { NodeBuffer } from './kit/node-buffer';
/** Counts a contained failure at `where` (prefer `contained(pkg)`, which names the package). */
export const recordFailure = failures_.recordFailure;
export const debug = diagnostics_.debug;
export const debugEnabled = diagnostics_.debugEnabled;
export const warnOnce = diagnostics_.warnOnce;

// --- incoming traces and the HTTP server lifecycle
export const incomingTrace = setup_.incomingTrace;
/** The response header naming a traced request's base_id (`responseTraceHeader`), or undefined; the HTTP lifecycle sets it. */
export const responseTraceHeader = responseHeader_.responseTraceHeader;
export type { ResponseHeader } from './response-header';
/** The marker point for points dropped before storage (past `maxTracePoints`, or by the agent client). */
export const DROPPED_POINT = profiler_.DROPPED_POINT;
/** Automatic mode: the warnings `configure()` gives about a config that can trace nothing. */
export const warnAboutConfig = setup_.warnAboutConfig;
export const incomingTraceFor = incoming_.incomingTraceFor;
export const rejectionReason = incoming_.rejectionReason;
export const createSampler = sampling_.createSampler;
export type { Sampler } from './sampling';
export const createHttpTracer = httpServer_.createHttpTracer;
export const httpState = httpServer_.httpState;
export const noteHttpError = httpServer_.noteHttpError;
export const routeTemplate = httpServer_.routeTemplate;
export const tracedEntry = httpEntry_.tracedEntry;
export const traceRequestListeners = httpEntry_.traceRequestListeners;
export const HTTP_REQUEST = httpServer_.HTTP_REQUEST;
export const hostProperty = hostObject_.hostProperty;
export const responseFinished = hostObject_.responseFinished;
export type { HttpRequestState, HttpServerAdapter, HttpTracer } from './kit/http-server';
export const resolveHttpOptions = httpOptions_.resolveHttpOptions;
export const DEFAULT_HTTP_OPTIONS = httpOptions_.DEFAULT_HTTP_OPTIONS;
export type { HttpServerOptions, IgnorePath, ResolvedHttpOptions } from './kit/http-options';
export const wsgiRequestInfo = wsgiInfo_.wsgiRequestInfo;
export const pythonPath = wsgiInfo_.pythonPath;
export const splitTarget = wsgiInfo_.splitTarget;
export type { RequestStartInfo } from './wsgi-info';

// --- database adapters: `sql` point info, shared options, the run-time trace_db switch
/** A per-shape start info frozen all the way down, so core formats its text once (kit/frozen-info.ts). */
export const frozenInfo = frozenInfo_.frozenInfo;
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
export const traceDbOn = dbTraceDb_.traceDbOn;
/** Marks an adapter's `db` point; a driver adapter under it (pg under Knex/TypeORM) stands aside. */
export const markDbOperation = dbOperation_.markDbOperation;
export const inDbOperation = dbOperation_.inDbOperation;

// --- drivers: registration, the failure contract's helpers, stored lines
export type { Driver, DriverFactory, DriverOptions, ListOptions, SearchOptions, SearchPage, TraceSummary } from './driver';
export const DriverWriteError = driver_.DriverWriteError;
export type DriverWriteError = driver_.DriverWriteError;
export type { LineBatch, LineIndex, LinePlaces } from './line';
export const registerDriver = registry_.registerDriver;
export type { DriverRegistration } from './registry';
export const driverSchemes = registry_.driverSchemes;
export const memoryDriverFactory = drivers_memory_.memoryDriverFactory;
export const fileDriverFactory = drivers_file_.fileDriverFactory;
/** Notification objects as the LineBatch a driver's `notifyLines` takes. */
export const linesOfNotifications = line_.linesOfNotifications;
/** A stored line's head up to INFO (sticky; groups: name, base_id, trace_id, parent_id): a match handed to `indexOfLines` saves it matching the head again (the collector's wireindex.ts). */
export const LINE_HEAD = lineLayout_.LINE_HEAD;
/** LINE_HEAD without captures (for `test`). */
export const LINE_HEAD_TEST = lineLayout_.LINE_HEAD_TEST;
/** A line's index fields given its head (name, parent_id, where INFO starts) read by the caller; undefined when off the layout (then parse it). */
export const eventAfterHead = lineLayout_.eventAfterHead;
export type { LineFields } from './line-layout';
/** Parses one stored notification (JSON that may hold Python's bare NaN/Infinity). */
export const parseStoredEvent = storedEvent_.parseStoredEvent;
export const parseTimestamp = timestamp_.parseTimestamp;
/** The same as a decimal string of µs (SQL `ts` columns, index scores), without bigint on the usual form. */
export const timestampMicrosText = timestamp_.timestampMicrosText;
/** A timestamp's µs since 1970 in the writers' strict form, else NaN: a sort key (LineBatch.timeKeys). */
export const timeKey = timestamp_.timeKey;
/** Python's strftime of µs since 1970 (the inverse of parseTimestamp). */
export const microsToTimestamp = timestamp_.microsToTimestamp;
export const formatTimestamp = clock_.formatTimestamp;
/** A string as JSON.stringify writes it, cheaper for the usual plain string (JSON a driver builds as text). */
export const jsonString = pyjson_.jsonString;
export const withTimeout = timeout_.withTimeout;
export const settledWithin = timeout_.settledWithin;
export const TimeoutError = timeout_.TimeoutError;
export type TimeoutError = timeout_.TimeoutError;
export const redactConnectionString = redact_.redactConnectionString;
export const scrubSecrets = redact_.scrubSecrets;
export const connectionSecrets = redact_.connectionSecrets;

// --- trace search (for drivers keeping a summary index, and for readers)
export const searchIndex = {
  deltasOfBatch: search_.deltasOfBatch,
  /** The index of lines that came without one (parses them): the agent and collector, for points without a carried index. */
  indexOfLines: search_.indexOfLines,
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
  indexOfEvents: search_.indexOfEvents,
  rootLabel: search_.rootLabel,
  timestampMicros: search_.timestampMicros,
  recordDurationMs: search_.recordDurationMs,
  MAX_TEXT: search_.MAX_TEXT,
} as const;
export type { TraceDelta, TraceRecord, RootCandidate, NormalisedSearch, Cursor as SearchCursor } from './search';
