/**
 * Settings of the `file://` driver, from the connection string and DriverOptions.
 * Everything is checked at creation so a typo fails loudly once instead of silently
 * storing traces somewhere unexpected or never pruning.
 */
import { fileURLToPath } from 'node:url';
import type { DriverOptions } from '../driver';
import { defaultStateDir } from '../state-dir';

export interface FileDriverSettings {
  /** Absolute directory holding traces/, index/ and errors/. */
  dir: string;
  /** True when `dir` is the per-user default (created private, mode 0700). */
  isDefaultDir: boolean;
  filterErrorTrace: boolean;
  /** Trace files not written for this long are deleted by prune(); 0 = keep forever. */
  maxAgeMs: number;
  /** prune() deletes the oldest trace files while the total is above this; 0 = no limit. */
  maxBytes: number;
  /** Background prune period (unref'd timer); 0 = only on demand. */
  pruneIntervalMs: number;
}

export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_MAX_BYTES = 1024 ** 3;
export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60 * 1000;

const QUERY_KEYS = ['max_age', 'max_bytes', 'prune_interval'];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "12h", "30m", "45s", "500ms", "1w"; "0" means no limit. */
export function parseDuration(text: string, field: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (m === null || (m[2] === undefined && Number(m[1]) !== 0)) {
    throw new Error(`${field}: expected a duration like 7d, 12h, 30m, 45s or 500ms (0 = no limit), got "${text}"`);
  }
  return Math.round(Number(m[1]) * (m[2] === undefined ? 1 : DURATION_UNITS[m[2].toLowerCase()]));
}

// Decimal units as written on disks (KB = 1000), binary ones with "i" (KiB = 1024).
const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
};

/** "500MB", "2GiB", "1048576"; "0" means no limit. */
export function parseSize(text: string, field: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m === null ? undefined : SIZE_UNITS[m[2].toLowerCase()];
  if (m === null || unit === undefined) {
    throw new Error(`${field}: expected a size like 500MB, 2GiB or a byte count (0 = no limit), got "${text}"`);
  }
  return Math.round(Number(m[1]) * unit);
}

function numberOption(options: Partial<DriverOptions>, key: string): number | undefined {
  const v = options[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new Error(`file driver option ${key}: expected a non-negative number, got ${String(v)}`);
  }
  return v;
}

/**
 * `file:///abs/dir[?max_age=7d&max_bytes=500MB&prune_interval=10m]`, or `file://` for the
 * default state dir. DriverOptions `retentionMaxAgeMs`, `retentionMaxBytes` and
 * `retentionPruneIntervalMs` win over the query (they are set programmatically).
 */
export function fileDriverSettings(url: URL, options: Partial<DriverOptions> = {}, env: NodeJS.ProcessEnv = process.env): FileDriverSettings {
  if (url.protocol !== 'file:') throw new Error(`file driver: scheme must be file://, got ${url.protocol}//`);
  if (url.username !== '' || url.password !== '') throw new Error('file:// connection string: user/password are not supported');
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    // Usually a relative path written as file://some/dir, whose first part became the host.
    throw new Error(
      `file:// connection string: host "${url.hostname}" is not supported; the directory must be absolute ` +
        '(file:///abs/dir), or use file:// for the default state directory',
    );
  }
  for (const key of url.searchParams.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      throw new Error(`file:// connection string: unknown parameter "${key}" (known: ${QUERY_KEYS.join(', ')})`);
    }
  }
  const q = url.searchParams;
  const fromQuery = <T>(key: string, parse: (text: string, field: string) => T): T | undefined => {
    const v = q.get(key);
    return v === null ? undefined : parse(v, `file:// connection string parameter ${key}`);
  };
  const isDefaultDir = url.pathname === '' || url.pathname === '/';
  return {
    // "file://" and "file:///" parse the same; the root directory is never meant.
    dir: isDefaultDir ? defaultStateDir(env) : fileURLToPath(url),
    isDefaultDir,
    filterErrorTrace: options.filterErrorTrace === true,
    maxAgeMs: numberOption(options, 'retentionMaxAgeMs') ?? fromQuery('max_age', parseDuration) ?? DEFAULT_MAX_AGE_MS,
    maxBytes: numberOption(options, 'retentionMaxBytes') ?? fromQuery('max_bytes', parseSize) ?? DEFAULT_MAX_BYTES,
    pruneIntervalMs:
      numberOption(options, 'retentionPruneIntervalMs') ?? fromQuery('prune_interval', parseDuration) ?? DEFAULT_PRUNE_INTERVAL_MS,
  };
}
