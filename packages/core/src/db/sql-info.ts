/** What a `sql` point records of a statement: Python's raw-SQL shape, redacted and bounded. */
import { frozenInfo } from '../kit/frozen-info';

/** Marker appended to a statement that was cut (followed by the full length). */
export const CUT_MARKER = '... [cut, length ';

export function boundStatement(sql: string, max: number): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}${CUT_MARKER}${sql.length}]`;
}

/** Bindings as JSON-safe values (Python stores params through jsonutils). */
export function safeParams(bindings: unknown): unknown[] | undefined {
  if (bindings === undefined || bindings === null) return undefined;
  const list = Array.isArray(bindings) ? bindings : typeof bindings === 'object' ? Object.values(bindings) : [bindings];
  return list.map(safeValue);
}

function safeValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'object':
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
      try {
        return JSON.stringify(v);
      } catch {
        return '<unserialisable>';
      }
    default:
      return String(v);
  }
}

/**
 * Start infos of statements recorded as text alone (params hidden, no pool wait), by text:
 * one frozen info per statement an app runs again, whose line text core's formatter makes
 * once (line.ts caches frozen infos by identity), where escaping a statement's quotes
 * costs every time (TypeORM's SQL quotes every identifier: JSON.stringify of a 160-char
 * select ~6k instructions and the ensure_ascii scan ~1.6k, under callgrind). A text is
 * cached the second time it is seen (the first only marks it: statements with values
 * inlined, as TypeORM's SQLite driver writes numbers, are seen once each); when the map is
 * full and mostly such one-offs, they are dropped; full of repeated statements, it stops
 * adding. Bounded in entries and in the characters it holds.
 */
const infos = new Map<string, object | null>();
const MAX_INFOS = 1024;
const MAX_INFO_CHARS = 2048; // longer statements are formatted each time
let seenOnce = 0;

function sharedInfo(sql: string): object {
  const info = infos.get(sql);
  if (info != null) return info;
  if (info === null) {
    const made = frozenInfo({ db: { statement: sql } });
    infos.set(sql, made);
    seenOnce--;
    return made;
  }
  if (infos.size >= MAX_INFOS && seenOnce > MAX_INFOS / 2) {
    for (const [k, v] of infos) if (v === null) infos.delete(k);
    seenOnce = 0;
  }
  if (infos.size < MAX_INFOS) {
    infos.set(sql, null);
    seenOnce++;
  }
  return { db: { statement: sql } };
}

/** Start info of a `sql` point. */
export function sqlInfo(sql: string, bindings: unknown, showParams: boolean, max: number, poolWaitMs?: number): object {
  if (poolWaitMs === undefined && (!showParams || bindings == null) && sql.length <= max && sql.length <= MAX_INFO_CHARS) return sharedInfo(sql);
  const db: { statement: string; params?: unknown[]; pool_wait_ms?: number } = { statement: boundStatement(sql, max) };
  if (showParams) {
    const params = safeParams(bindings);
    if (params !== undefined) db.params = params;
  }
  if (poolWaitMs !== undefined) db.pool_wait_ms = poolWaitMs;
  return { db };
}

export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
