/** `redis://[[user]:password@]host[:port][/db][?ttl=7d&connect_timeout=5s&index=false]` */
import type { DriverOptions } from '@osprofiler/core';
import { parseDurationMs } from '../duration';
import { optionError } from '../errors';
import { contained } from '../contained';

export interface RedisSettings {
  host: string;
  port: number;
  /** Database number (path `/N`, or `?db=N` as redis-py accepts). */
  db: number;
  username: string | undefined;
  password: string | undefined;
  /** Expire each trace list (and error key) this long after its last write; 0 = never (Python: never). */
  ttlSeconds: number;
  /** How long start-up may take to connect before failing. */
  connectTimeoutMs: number;
  /** A command not answered in this time fails (counted, contained). */
  commandTimeoutMs: number;
  /** Also index traces that hold an error (`osprofiler_error:<base_id>`), as Python's filter_error_trace. */
  filterErrorTrace: boolean;
  /**
   * Keep the search index (`osprofiler_idx:`) as points are written. Off (`?index=false`),
   * writes cost Redis ~60 % less CPU for 1-point traces (tools/bench/README.md, compare's
   * `agent-noindex`) and searches find traces by the bounded fallback scan, marked unindexed.
   */
  index: boolean;
}

export const DEFAULT_REDIS_SETTINGS: Readonly<Omit<RedisSettings, 'host' | 'filterErrorTrace'>> = {
  port: 6379,
  db: 0,
  username: undefined,
  password: undefined,
  ttlSeconds: 0,
  connectTimeoutMs: 5000,
  commandTimeoutMs: 10_000,
  index: true,
};

const KNOWN = new Set(['ttl', 'connect_timeout', 'command_timeout', 'db', 'index']);

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    contained('redis.options', err); // a stray '%': used as written
    return s;
  }
}

function booleanParam(url: URL, name: string, fallback: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw optionError(url.protocol.slice(0, -1), `${name}="${v}" must be true or false`);
}

function durationParam(url: URL, name: string, fallback: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  const ms = parseDurationMs(v);
  if (ms === undefined) throw optionError(url.protocol.slice(0, -1), `${name}="${v}" is not a duration (e.g. 30s, 12h, 7d)`);
  return ms;
}

export function redisSettings(url: URL, options: Partial<DriverOptions> = {}): RedisSettings {
  const scheme = url.protocol.slice(0, -1);
  for (const key of url.searchParams.keys()) {
    if (!KNOWN.has(key)) throw optionError(scheme, `unknown option "${key}" (known: ${[...KNOWN].join(', ')})`);
  }
  const d = DEFAULT_REDIS_SETTINGS;
  const dbText = url.pathname.replace(/^\//, '') || url.searchParams.get('db') || String(d.db);
  if (!/^\d+$/.test(dbText)) throw optionError(scheme, `database "${dbText}" must be a number (redis://host:port/N)`);
  const port = url.port === '' ? d.port : Number(url.port);
  const ttlMs = durationParam(url, 'ttl', 0);
  return {
    host: url.hostname === '' ? 'localhost' : url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db: Number(dbText),
    username: url.username === '' ? undefined : decode(url.username),
    password: url.password === '' ? undefined : decode(url.password),
    ttlSeconds: ttlMs > 0 ? Math.max(1, Math.ceil(ttlMs / 1000)) : 0,
    connectTimeoutMs: durationParam(url, 'connect_timeout', d.connectTimeoutMs),
    commandTimeoutMs: durationParam(url, 'command_timeout', d.commandTimeoutMs),
    filterErrorTrace: options.filterErrorTrace === true,
    index: booleanParam(url, 'index', d.index),
  };
}
