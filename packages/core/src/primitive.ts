/**
 * A JSON-safe deep copy of trace info (Python's `jsonutils.to_primitive`): cycles, deep
 * nesting, BigInt, Map/Set, Dates, Buffers and functions all become plain JSON values,
 * so a driver can serialise any info without throwing. Runs at flush time, off the request.
 */
const MAX_DEPTH = 10;

export function toPrimitive(value: unknown, depth = 0, seen?: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'function':
    case 'symbol':
      return String(value);
  }
  if (value === null) return null;
  const o = value as object;
  if (depth >= MAX_DEPTH) return '?';
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? null : o.toISOString();
  if (Buffer.isBuffer(o)) return o.toString('utf8');
  if (o instanceof Error) return `${o.name}: ${o.message}`;
  const s = seen ?? new Set<object>();
  if (s.has(o)) return '<circular>';
  s.add(o);
  try {
    if (Array.isArray(o)) return o.map((x) => toPrimitive(x, depth + 1, s));
    if (o instanceof Set) return [...o].map((x) => toPrimitive(x, depth + 1, s));
    if (o instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of o) out[String(k)] = toPrimitive(v, depth + 1, s);
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) {
      const v = (o as Record<string, unknown>)[k];
      if (v === undefined) continue; // as JSON: absent rather than null
      out[k] = toPrimitive(v, depth + 1, s);
    }
    return out;
  } finally {
    s.delete(o);
  }
}
