/**
 * The per-point info budget (`maxInfoBytes`): a point whose info serialises (Python's
 * `json.dumps`, ASCII) to more than the budget is stored with its longest string values
 * cut, each with the `sql` cut marker and its full length, so that it fits. Runs at flush
 * time, and only for points that may be over: the request path never pays for it.
 */
import { boundStatement, CUT_MARKER } from './db/sql-info';
import { pyDumps } from './pyjson';
import { toPrimitive } from './primitive';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The serialised size of a point's info as stored (without `host`, which the notifier owns). */
export function infoBytes(info: Record<string, unknown>): number {
  return pyDumps(withoutHost(info)).length;
}

function withoutHost(info: Record<string, unknown>): Record<string, unknown> {
  if (!('host' in info)) return info;
  const { host: _host, ...rest } = info;
  return rest;
}

/**
 * Cheap test for the object path: false only when `info` (a primitive tree) cannot be over
 * `maxBytes` (ASCII escaping makes a character at most 6 bytes), so no serialisation is needed.
 */
export function mayExceed(info: unknown, maxBytes: number): boolean {
  let budget = maxBytes;
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') budget -= 6 * v.length + 2;
    else if (v === null || typeof v !== 'object') budget -= 24;
    else if (depth > 12) budget -= 3;
    else if (Array.isArray(v)) {
      budget -= 2;
      for (const x of v) if (((budget -= 2), walk(x, depth + 1))) return true;
    } else {
      budget -= 2;
      for (const k of Object.keys(v)) if (((budget -= 6 * k.length + 4), walk((v as Record<string, unknown>)[k], depth + 1))) return true;
    }
    return budget < 0;
  };
  return walk(info, 0);
}

/**
 * `info` as a JSON-safe copy whose serialised size is at most `maxBytes`: strings longer
 * than the largest length that fits are cut (`... [cut, length N]`). When even that
 * cannot fit (a huge array of numbers), the info is replaced by `{"cut": "... [cut, length N]"}`.
 */
export function cutInfo(info: object, maxBytes: number): Record<string, unknown> {
  const o = withoutHost(toPrimitive(info) as Record<string, unknown>) as { [k: string]: Json };
  const size = pyDumps(o).length;
  if (size <= maxBytes) return o;
  let longest = 0;
  eachString(o, (s) => {
    if (s.length > longest) longest = s.length;
  });
  // Largest cap (characters kept per string) whose result fits: binary search, ~log2(longest) serialisations.
  let lo = -1;
  let hi = longest;
  let best: { [k: string]: Json } | undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const cut = cutStrings(o, mid) as { [k: string]: Json };
    if (pyDumps(cut).length <= maxBytes) {
      lo = mid;
      best = cut;
    } else hi = mid;
  }
  if (best === undefined) {
    const zero = cutStrings(o, 0) as { [k: string]: Json };
    if (pyDumps(zero).length <= maxBytes) return zero;
    return { cut: `${CUT_MARKER}${size}]` };
  }
  return best;
}

function eachString(v: Json, f: (s: string) => void): void {
  if (typeof v === 'string') f(v);
  else if (Array.isArray(v)) for (const x of v) eachString(x, f);
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) eachString(v[k], f);
}

function cutStrings(v: Json, cap: number): Json {
  if (typeof v === 'string') return boundStatement(v, cap);
  if (Array.isArray(v)) return v.map((x) => cutStrings(x, cap));
  if (v !== null && typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v)) out[k] = cutStrings(v[k], cap);
    return out;
  }
  return v;
}
