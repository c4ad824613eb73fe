/**
 * A bounded, never-throwing text form of a value for `function.args` / `function.result`
 * (Python stores `str()` of them). Cycles, depth, length and odd types are all handled.
 */
const MAX_LEN = 1024;
const MAX_DEPTH = 4;
const MAX_ITEMS = 32;

export function repr(value: unknown): string {
  try {
    const s = reprInner(value, 0, new Set());
    return s.length > MAX_LEN ? s.slice(0, MAX_LEN - 1) + '…' : s;
  } catch {
    return '<unrepresentable>';
  }
}

function reprInner(v: unknown, depth: number, seen: Set<object>): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > MAX_LEN ? v.slice(0, MAX_LEN) : v);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return `[Function ${v.name || 'anonymous'}]`;
  }
  if (v === null) return 'null';
  const o = v as object;
  if (seen.has(o)) return '[Circular]';
  if (depth >= MAX_DEPTH) return Array.isArray(o) ? '[Array]' : '[Object]';
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString();
  if (o instanceof Error) return `${o.name}: ${o.message}`;
  if (Buffer.isBuffer(o)) return `<Buffer ${o.length} bytes>`;
  seen.add(o);
  try {
    if (Array.isArray(o)) {
      const items = o.slice(0, MAX_ITEMS).map((x) => reprInner(x, depth + 1, seen));
      if (o.length > MAX_ITEMS) items.push(`… ${o.length - MAX_ITEMS} more`);
      return `[${items.join(', ')}]`;
    }
    const keys = Object.keys(o);
    const parts = keys.slice(0, MAX_ITEMS).map((k) => `${k}: ${reprInner((o as Record<string, unknown>)[k], depth + 1, seen)}`);
    if (keys.length > MAX_ITEMS) parts.push(`… ${keys.length - MAX_ITEMS} more`);
    const ctor = (o as { constructor?: { name?: string } }).constructor?.name;
    const prefix = ctor && ctor !== 'Object' ? `${ctor} ` : '';
    return `${prefix}{${parts.join(', ')}}`;
  } finally {
    seen.delete(o);
  }
}
