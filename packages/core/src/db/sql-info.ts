/** What a `sql` point records of a statement: Python's raw-SQL shape, redacted and bounded. */

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

/** Start info of a `sql` point. */
export function sqlInfo(sql: string, bindings: unknown, showParams: boolean, max: number, poolWaitMs?: number): object {
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
