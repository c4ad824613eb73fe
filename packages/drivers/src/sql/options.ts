/**
 * `postgresql://user[:password]@host[:port]/db[?table_prefix=x_&max_age=7d&prune_interval=1h]`
 * `mysql://user[:password]@host[:port]/db[?…the same…]`
 * Options of ours are taken out; any other query parameter goes to the client (pg, mysql2).
 */
import type { DriverOptions } from '@osprofiler/core';
import { parseDurationMs } from '../duration';
import { optionError } from '../errors';

export interface SqlSettings {
  /** Prepended to the table names (`<prefix>osprofiler_points`, `<prefix>osprofiler_errors`). */
  tablePrefix: string;
  /** Points stored longer ago than this are deleted by prune(); 0 = keep forever. */
  maxAgeMs: number;
  /** With maxAgeMs, prune() runs this often in the background (and once at start-up). */
  pruneIntervalMs: number;
  connectTimeoutMs: number;
  /** Client connections in the pool. */
  poolSize: number;
  /**
   * PostgreSQL only: the driver's sessions wait for the WAL flush on commit. Off by default:
   * a server crash may then lose the last fraction of a second of points (never corrupts),
   * the trade Redis makes by default too; `synchronous_commit=on` to wait.
   */
  synchronousCommit: boolean;
  /** Also index traces that hold an error, as Python's filter_error_trace. */
  filterErrorTrace: boolean;
}

export const DEFAULT_SQL_SETTINGS: Readonly<Omit<SqlSettings, 'filterErrorTrace'>> = {
  tablePrefix: '',
  maxAgeMs: 0,
  pruneIntervalMs: 3_600_000,
  connectTimeoutMs: 5000,
  poolSize: 4,
  synchronousCommit: false,
};

const OURS = ['table_prefix', 'max_age', 'prune_interval', 'connect_timeout', 'pool_size', 'synchronous_commit'];

export interface ParsedSqlUrl {
  settings: SqlSettings;
  /** The URL without our options, for the client library. */
  clientUrl: URL;
}

export function sqlSettings(url: URL, options: Partial<DriverOptions> = {}): ParsedSqlUrl {
  const scheme = url.protocol.slice(0, -1);
  const d = DEFAULT_SQL_SETTINGS;
  const q = url.searchParams;
  const duration = (name: string, fallback: number): number => {
    const v = q.get(name);
    if (v === null) return fallback;
    const ms = parseDurationMs(v);
    if (ms === undefined) throw optionError(scheme, `${name}="${v}" is not a duration (e.g. 30s, 12h, 7d)`);
    return ms;
  };
  const tablePrefix = q.get('table_prefix') ?? d.tablePrefix;
  if (!/^[A-Za-z0-9_]{0,40}$/.test(tablePrefix)) {
    throw optionError(scheme, `table_prefix="${tablePrefix}" may hold only letters, digits and "_" (at most 40)`);
  }
  const poolSize = Number(q.get('pool_size') ?? d.poolSize);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64) throw optionError(scheme, `pool_size must be an integer from 1 to 64`);
  const sync = (q.get('synchronous_commit') ?? (d.synchronousCommit ? 'on' : 'off')).toLowerCase();
  if (!['on', 'off'].includes(sync)) throw optionError(scheme, `synchronous_commit must be on or off`);
  if (url.pathname.replace(/^\//, '') === '') throw optionError(scheme, `name the database: ${scheme}://user@host:port/<database>`);
  const settings: SqlSettings = {
    tablePrefix,
    maxAgeMs: duration('max_age', d.maxAgeMs),
    pruneIntervalMs: duration('prune_interval', d.pruneIntervalMs),
    connectTimeoutMs: duration('connect_timeout', d.connectTimeoutMs),
    poolSize,
    synchronousCommit: sync === 'on',
    filterErrorTrace: options.filterErrorTrace === true,
  };
  const clientUrl = new URL(url.href);
  for (const k of OURS) clientUrl.searchParams.delete(k);
  return { settings, clientUrl };
}
