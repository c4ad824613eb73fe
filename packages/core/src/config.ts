import { hostname } from 'node:os';
import { connectionStringProblem } from './registry';
import { parseHmacKeys } from './signing';

/** Start traces without a header: every N-th request, or a random fraction of them. */
export type Sampling = { everyNth: number } | { rate: number };

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
  project: string | null;
  service: string | null;
  host: string;
  /** Sampled traces (no header needed); requires `hmacKeys` (signed with the first key). */
  sampling: Sampling | null;
  flushIntervalMs: number;
  maxBufferPoints: number;
  /** How long the exit flush (`beforeExit`) may wait for the driver. */
  exitFlushTimeoutMs: number;
}

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

export type ConfigInput = { [K in keyof ProfilerConfig]?: ProfilerConfig[K] | string };

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

function sampling(v: unknown): Sampling | null {
  if (v === undefined || v === null || v === 'off' || v === 'none') return null;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.everyNth === 'number' && Number.isInteger(o.everyNth) && o.everyNth >= 1) return { everyNth: o.everyNth };
    if (typeof o.rate === 'number' && o.rate > 0 && o.rate <= 1) return { rate: o.rate };
  }
  if (typeof v === 'string') {
    const every = /^\s*1\s*\/\s*(\d+)\s*$/.exec(v);
    if (every && Number(every[1]) >= 1) return { everyNth: Number(every[1]) };
    const rate = Number(v);
    if (v.trim() !== '' && Number.isFinite(rate) && rate > 0 && rate <= 1) return { rate };
  }
  throw new ConfigError('sampling', `expected "1/N" (every N-th request), a rate in (0, 1], {everyNth} or {rate}; got ${JSON.stringify(v)}`);
}
