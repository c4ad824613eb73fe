/**
 * The raw write path: one trace point serialised straight into the text Python
 * OSProfiler stores (`json.dumps` of the notification dict), without building the
 * notification object first. Byte-identical to `pyDumps(notification)` of what the object
 * path builds (`toPrimitive(info)`, `host` moved last); test/line.test.ts holds it to that.
 */
import { pyDumps, pyString } from './pyjson';
import { toPrimitive } from './primitive';

/**
 * Points already serialised, for drivers that store text (`Driver.notifyLines`).
 * Struct of arrays: index i of each array is one point, in notify order.
 */
export interface LineBatch {
  readonly baseIds: readonly string[];
  /** Each point's timestamp, as in its line (indexes need it without parsing the line). */
  readonly timestamps: readonly string[];
  /** Python's `json.dumps(notification)`, one per point, ASCII only (ensure_ascii). */
  readonly lines: readonly string[];
  /** 1 where the point's `info.etype` is not null (the error index), or null when none is. */
  readonly errors: Uint8Array | null;
}

const MAX_DEPTH = 10;

// Measured on the raw path (tools/bench/core-points.cjs): testing whether a string needs
// escaping costs ~30 ns a call, about a dozen per point. Keys repeat (object literals in
// adapters), so their quoted form is cached; ids repeat between a point's start and stop
// and across a trace, so the last few that passed are remembered by identity.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const MAX_KEYS = 1024;
const keys = new Map<string, string>();

function key(k: string): string {
  let q = keys.get(k);
  if (q === undefined) {
    q = pyString(k);
    if (keys.size < MAX_KEYS) keys.set(k, q);
  }
  return q;
}

let id0 = '';
let id1 = '';
let id2 = '';
let id3 = '';

/** `"s"` for a name or id, escaped only when it has to be. */
function idString(s: string): string {
  if (s === id0 || s === id1 || s === id2 || s === id3) return '"' + s + '"';
  if (!PLAIN.test(s)) return pyString(s);
  id3 = id2;
  id2 = id1;
  id1 = id0;
  id0 = s;
  return '"' + s + '"';
}

function pyNumber(n: number): string {
  if (n === n && n !== Infinity && n !== -Infinity) return String(n);
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/**
 * `pyDumps(toPrimitive(value, depth))` in one pass, for the shapes trace info usually has
 * (strings, numbers, plain objects and arrays); rarer types go through toPrimitive.
 */
function value(v: unknown, depth: number, seen: Set<object> | undefined): string {
  switch (typeof v) {
    case 'string':
      return pyString(v);
    case 'number':
      return pyNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'bigint':
    case 'function':
    case 'symbol':
      return pyString(String(v));
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) return '"?"';
  const o = v as object;
  if (Array.isArray(o)) {
    if (seen?.has(o)) return '"<circular>"';
    const s = seen ?? new Set<object>();
    s.add(o);
    let out = '[';
    for (let i = 0; i < o.length; i++) out += (i === 0 ? '' : ', ') + value(o[i], depth + 1, s);
    s.delete(o);
    return out + ']';
  }
  if (Object.getPrototypeOf(o) === Object.prototype) {
    if (seen?.has(o)) return '"<circular>"';
    const s = seen ?? new Set<object>();
    s.add(o);
    const out = '{' + fields(o as Record<string, unknown>, depth, s, false) + '}';
    s.delete(o);
    return out;
  }
  // Dates, Buffers, Errors, Maps, Sets, class instances: exactly what the object path does.
  return pyDumps(toPrimitive(o, depth, seen));
}

/** `"k": v` pairs joined by `, ` (no braces); `skipHost` drops a top-level `host`. */
function fields(o: Record<string, unknown>, depth: number, seen: Set<object>, skipHost: boolean): string {
  let out = '';
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || (skipHost && k === 'host')) continue;
    out += (out === '' ? '' : ', ') + key(k) + ': ' + value(v, depth + 1, seen);
  }
  return out;
}

/**
 * `"k": v, ` for every key of the point's info but `host` (empty for no info). Throws
 * when the info is not an object once made primitive (the point is then lost and counted).
 */
export function infoFields(info: object | undefined): string {
  if (info === undefined) return '';
  if (Object.getPrototypeOf(info) === Object.prototype) {
    const f = fields(info as Record<string, unknown>, 0, new Set<object>([info]), true);
    return f === '' ? f : f + ', ';
  }
  const p = toPrimitive(info);
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new TypeError('trace info must be an object');
  const f = fields(p as Record<string, unknown>, 0, new Set<object>(), true);
  return f === '' ? f : f + ', ';
}

/** Whether the point goes into the error index (Python: `info.get("etype") is not None`). */
export function hasErrorType(info: object | undefined): boolean {
  if (info === undefined) return false;
  const e = (info as { etype?: unknown }).etype;
  return e !== undefined && e !== null;
}

/** The constant end of every line of one process: host, project and service. */
export function lineTail(host: string, project: string | null, service: string | null): string {
  return `"host": ${pyString(host)}}, "project": ${project === null ? 'null' : pyString(project)}, "service": ${service === null ? 'null' : pyString(service)}}`;
}

/**
 * One stored notification, as `pyDumps` writes it; `name` already carries
 * `-start`/`-stop`, `timestamp` is ours (plain) and `tail` comes from lineTail.
 */
export function notificationLine(name: string, baseId: string, traceId: string, parentId: string, timestamp: string, info: object | undefined, tail: string): string {
  return (
    '{"name": ' +
    idString(name) +
    ', "base_id": ' +
    idString(baseId) +
    ', "trace_id": ' +
    idString(traceId) +
    ', "parent_id": ' +
    idString(parentId) +
    ', "timestamp": "' +
    timestamp +
    '", "info": {' +
    infoFields(info) +
    tail
  );
}
