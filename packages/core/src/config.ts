import { hostname } from 'node:os';
import { connectionStringProblem } from './registry';
import { parseHmacKeys } from './signing';

/**
 * Start traces without a header: every N-th request, or a random fraction of them, and/or
 * at most `maxPerSecond` new traces a second in this process (a token bucket holding one
 * second's worth). The cap applies after the N-th/rate choice; alone, it takes every
 * request until the bucket is empty.
 */
export type Sampling = { everyNth: number; maxPerSecond?: number } | { rate: number; maxPerSecond?: number } | { maxPerSecond: number };

/** The one typed configuration object. Defaults are in `DEFAULT_CONFIG`, env names in `ENV_NAMES`. */
export interface ProfilerConfig {
  /** Adapters trace anything at all. */
  enabled: boolean;
  /** Keys accepted on incoming headers, tried in order; outgoing calls use the key that matched. */
  hmacKeys: string[];
  /** Where points are stored: `file://` (default state dir), `file:///dir`, `memory://`, … */
  connectionString: string;
  /** Record raw SQL statements as `sql` points. */
  traceDb: boolean;
  /** Record outgoing HTTP/fetch calls as `rpc` points. */
  traceRequests: boolean;
  /** Also index traces that hold an error (`listErrorTraces`). */
  filterErrorTrace: boolean;
  /** Project name put on every point (Python's `project`); the store's key prefix and the viewer's filter. */
  project: string | null;
  /** Service name put on every point (Python's `service`), e.g. `orders`. */
  service: string | null;
  /** Host name put on every point's `info.host`. Default: the machine's hostname. */
  host: string;
  /**
   * Sampled traces (no header needed); requires `hmacKeys` (signed with the first key). In the
   * environment: `1/N` (every N-th request), a rate in (0, 1], `C/s` (at most C new traces a
   * second), or one of the first two and a cap joined by a comma (`0.1,50/s`); `off` for none.
   */
  sampling: Sampling | null;
  /** How often buffered points are handed to the driver, in ms (also flushed early when a batch fills). */
  flushIntervalMs: number;
  /** Points buffered in this process while the driver is slow or down; beyond it new points are dropped and counted. */
  maxBufferPoints: number;
  /** How long the exit flush (`beforeExit`) may wait for the driver. */
  exitFlushTimeoutMs: number;
  /** Points one trace records in this process; later ones are counted in a `dropped` marker. */
  maxTracePoints: number;
  /** Serialised info of one point, in bytes (ASCII JSON); longer string values are cut. */
  maxInfoBytes: number;
  /** Name of the response header that carries a traced request's base_id; null: none sent. */
  responseTraceHeader: string | null;
  /**
   * After this many ms with no point open or recorded, the trace context's async hooks are
   * turned off until the next trace (Node 20 keeps AsyncLocalStorage's promise hooks on every
   * promise once a trace ran); 0: never. Work a finished request left behind (a timer, a
   * detached promise) that starts a point only after such a quiet spell is then not traced.
   * Once `run()` was given an async callback, or `init()` entered a trace, never.
   */
  contextIdleMs: number;
}

/** The header name `responseTraceHeader: true` (or `OSPROFILER_RESPONSE_TRACE_HEADER=true`) stands for. */
export const DEFAULT_RESPONSE_TRACE_HEADER = 'X-OSProfiler-Base-Id';

export const DEFAULT_CONFIG: Readonly<Omit<ProfilerConfig, 'host'>> = Object.freeze({
  enabled: false,
  hmacKeys: [],
  connectionString: 'file://',
  traceDb: false,
  traceRequests: true,
  filterErrorTrace: false,
  project: null,
  service: null,
  sampling: null,
  flushIntervalMs: 100,
  maxBufferPoints: 100_000,
  exitFlushTimeoutMs: 2000,
  maxTracePoints: 10_000,
  maxInfoBytes: 65_536,
  responseTraceHeader: null,
  contextIdleMs: 10_000,
});

/** Each field's environment variable (and, in the README table, Python's `[profiler]` name). */
export const ENV_NAMES: Readonly<Record<keyof ProfilerConfig, string>> = Object.freeze({
  enabled: 'OSPROFILER_ENABLED',
  hmacKeys: 'OSPROFILER_HMAC_KEYS',
  connectionString: 'OSPROFILER_CONNECTION_STRING',
  traceDb: 'OSPROFILER_TRACE_DB',
  traceRequests: 'OSPROFILER_TRACE_REQUESTS',
  filterErrorTrace: 'OSPROFILER_FILTER_ERROR_TRACE',
  project: 'OSPROFILER_PROJECT',
  service: 'OSPROFILER_SERVICE',
  host: 'OSPROFILER_HOST',
  sampling: 'OSPROFILER_SAMPLING',
  flushIntervalMs: 'OSPROFILER_FLUSH_INTERVAL_MS',
  maxBufferPoints: 'OSPROFILER_MAX_BUFFER_POINTS',
  exitFlushTimeoutMs: 'OSPROFILER_EXIT_FLUSH_TIMEOUT_MS',
  maxTracePoints: 'OSPROFILER_MAX_TRACE_POINTS',
  maxInfoBytes: 'OSPROFILER_MAX_INFO_BYTES',
  responseTraceHeader: 'OSPROFILER_RESPONSE_TRACE_HEADER',
  contextIdleMs: 'OSPROFILER_CONTEXT_IDLE_MS',
});

/** A bad configuration value; the message names the field and its env variable. */
export class ConfigError extends Error {
  readonly code = 'OSPROFILER_ERR_CONFIG';
  constructor(
    readonly field: keyof ProfilerConfig,
    message: string,
  ) {
    super(`osprofiler config: ${field} (${ENV_NAMES[field]}): ${message}`);
    this.name = 'ConfigError';
  }
}

export type ConfigInput = { [K in Exclude<keyof ProfilerConfig, 'responseTraceHeader'>]?: ProfilerConfig[K] | string } & {
  /** `true` for the default name, a header name, or `false`/`null` for none. */
  responseTraceHeader?: string | boolean | null;
};

/**
 * Merges defaults < environment < explicit options, validates every field and returns a
 * frozen config. Throws `ConfigError` naming the field on the first bad value, including a
 * connection string whose scheme no installed driver serves or whose driver lacks its
 * client packages (all of them named).
 */
export function resolveConfig(options: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Readonly<ProfilerConfig> {
  const pick = (field: keyof ProfilerConfig): unknown => {
    if (options[field] !== undefined) return options[field];
    const e = env[ENV_NAMES[field]];
    return e === undefined || e === '' ? undefined : e;
  };
  const config: ProfilerConfig = {
    enabled: bool('enabled', pick('enabled'), DEFAULT_CONFIG.enabled),
    hmacKeys: keys(pick('hmacKeys')),
    connectionString: connection(pick('connectionString')),
    traceDb: bool('traceDb', pick('traceDb'), DEFAULT_CONFIG.traceDb),
    traceRequests: bool('traceRequests', pick('traceRequests'), DEFAULT_CONFIG.traceRequests),
    filterErrorTrace: bool('filterErrorTrace', pick('filterErrorTrace'), DEFAULT_CONFIG.filterErrorTrace),
    project: text('project', pick('project')),
    service: text('service', pick('service')),
    host: text('host', pick('host')) ?? hostname(),
    sampling: sampling(pick('sampling')),
    flushIntervalMs: int('flushIntervalMs', pick('flushIntervalMs'), DEFAULT_CONFIG.flushIntervalMs, 1, 60_000),
    maxBufferPoints: int('maxBufferPoints', pick('maxBufferPoints'), DEFAULT_CONFIG.maxBufferPoints, 1, 10_000_000),
    exitFlushTimeoutMs: int('exitFlushTimeoutMs', pick('exitFlushTimeoutMs'), DEFAULT_CONFIG.exitFlushTimeoutMs, 0, 60_000),
    maxTracePoints: int('maxTracePoints', pick('maxTracePoints'), DEFAULT_CONFIG.maxTracePoints, 1, 100_000_000),
    maxInfoBytes: int('maxInfoBytes', pick('maxInfoBytes'), DEFAULT_CONFIG.maxInfoBytes, 256, 100_000_000),
    responseTraceHeader: headerName(pick('responseTraceHeader')),
    contextIdleMs: int('contextIdleMs', pick('contextIdleMs'), DEFAULT_CONFIG.contextIdleMs, 0, 86_400_000),
  };
  if (config.sampling !== null && config.hmacKeys.length === 0) {
    throw new ConfigError('sampling', 'sampling needs hmacKeys: sampled traces sign their outgoing calls with the first key');
  }
  return Object.freeze(config);
}

function bool(field: keyof ProfilerConfig, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
  }
  throw new ConfigError(field, `expected true or false, got ${JSON.stringify(v)}`);
}

function int(field: keyof ProfilerConfig, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function text(field: keyof ProfilerConfig, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new ConfigError(field, `expected a string, got ${typeof v}`);
  return v;
}

function keys(v: unknown): string[] {
  if (v === undefined) return [...DEFAULT_CONFIG.hmacKeys];
  if (typeof v === 'string') return parseHmacKeys(v);
  if (Array.isArray(v) && v.every((k) => typeof k === 'string')) {
    const list = parseHmacKeys(v);
    if (list.length !== v.length) throw new ConfigError('hmacKeys', 'keys must be non-empty strings');
    return list;
  }
  throw new ConfigError('hmacKeys', 'expected a comma-separated string or an array of strings');
}

function connection(v: unknown): string {
  if (v === undefined) return DEFAULT_CONFIG.connectionString;
  if (typeof v !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    // Never echo the value: it may hold a password.
    throw new ConfigError('connectionString', 'expected a URL such as file:// or redis://host:6379');
  }
  const problem = connectionStringProblem(v);
  if (problem !== undefined) throw new ConfigError('connectionString', problem);
  return v;
}

const SAMPLING_GRAMMAR = '"1/N" (every N-th request), a rate in (0, 1], "C/s" (at most C new traces a second), or one of the first two and a cap joined by a comma ("0.1,50/s"); or an object {everyNth | rate, maxPerSecond}';

function sampling(v: unknown): Sampling | null {
  if (v === undefined || v === null || v === 'off' || v === 'none') return null;
  const s =
    typeof v === 'string' ? samplingText(v) : typeof v === 'number' ? samplingObject({ rate: v }) : typeof v === 'object' ? samplingObject(v as Record<string, unknown>) : undefined;
  if (s === undefined) throw new ConfigError('sampling', `expected ${SAMPLING_GRAMMAR}; got ${JSON.stringify(v)}`);
  return s;
}

function isRate(n: unknown): n is number {
  return typeof n === 'number' && n > 0 && n <= 1;
}

function isCap(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= 1_000_000;
}

function samplingObject(o: Record<string, unknown>): Sampling | undefined {
  const known = ['everyNth', 'rate', 'maxPerSecond'];
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  if (keys.length === 0 || keys.some((k) => !known.includes(k)) || (keys.includes('everyNth') && keys.includes('rate'))) return undefined;
  if (o.maxPerSecond !== undefined && !isCap(o.maxPerSecond)) return undefined;
  const cap = o.maxPerSecond === undefined ? {} : { maxPerSecond: o.maxPerSecond };
  if (o.everyNth !== undefined) return typeof o.everyNth === 'number' && Number.isInteger(o.everyNth) && o.everyNth >= 1 ? { everyNth: o.everyNth, ...cap } : undefined;
  if (o.rate !== undefined) return isRate(o.rate) ? { rate: o.rate, ...cap } : undefined;
  return cap as { maxPerSecond: number };
}

/** `part[,part]`: at most one of `1/N` or a rate, at most one `C/s` cap. */
function samplingText(v: string): Sampling | undefined {
  const parts = v.split(',').map((p) => p.trim());
  if (parts.length > 2) return undefined;
  const o: Record<string, number> = {};
  for (const p of parts) {
    const cap = /^(\d+(?:\.\d+)?)\s*\/\s*s$/.exec(p);
    const every = /^1\s*\/\s*(\d+)$/.exec(p);
    if (cap) {
      if ('maxPerSecond' in o) return undefined;
      o.maxPerSecond = Number(cap[1]);
    } else if (every) {
      if ('everyNth' in o || 'rate' in o) return undefined;
      o.everyNth = Number(every[1]);
    } else if (p !== '' && Number.isFinite(Number(p))) {
      if ('everyNth' in o || 'rate' in o) return undefined;
      o.rate = Number(p);
    } else return undefined;
  }
  return samplingObject(o);
}

function headerName(v: unknown): string | null {
  if (v === undefined || v === null || v === false) return null;
  if (v === true) return DEFAULT_RESPONSE_TRACE_HEADER;
  if (typeof v === 'string') {
    const s = v.trim();
    const b = s.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(b)) return DEFAULT_RESPONSE_TRACE_HEADER;
    if (['0', 'false', 'no', 'off', ''].includes(b)) return null;
    // An HTTP token (RFC 9110), and never one of the trace headers themselves.
    if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(s) && !/^x-trace-(info|hmac)$/i.test(s)) return s;
  }
  throw new ConfigError('responseTraceHeader', `expected true/false or a header name such as ${DEFAULT_RESPONSE_TRACE_HEADER}; got ${JSON.stringify(v)}`);
}
