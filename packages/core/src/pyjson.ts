/**
 * Python `json.dumps` compatible serialisation, for byte-identical headers, stored
 * events and reports: ensure_ascii escaping, Python's default separators, insertion order.
 */
export interface PyDumpsOptions {
  /** Like Python's `indent`: pretty-print with this many spaces. */
  indent?: number;
  /** [item, key] separators; Python's default is [', ', ': '] without indent, [',', ': '] with. */
  separators?: [string, string];
}

// Python escapes everything outside printable ASCII (space..~) with ensure_ascii=True.
const NEEDS_ESCAPE = /[\\"\u0000-\u001f\u007f-\uffff]/;
const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function pyString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    const esc = ESCAPES[ch];
    if (esc !== undefined) out += esc;
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

export function pyDumps(value: unknown, options: PyDumpsOptions = {}): string {
  const indent = options.indent;
  const [itemSep, keySep] = options.separators ?? (indent === undefined ? [', ', ': '] : [',', ': ']);
  const write = (v: unknown, depth: number): string | undefined => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return pyString(v);
      case 'number':
        return pyNumber(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'bigint':
        return v.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    const obj = v as { toJSON?: () => unknown };
    if (typeof obj.toJSON === 'function') return write(obj.toJSON(), depth);
    const pad = indent === undefined ? '' : '\n' + ' '.repeat(indent * (depth + 1));
    const end = indent === undefined ? '' : '\n' + ' '.repeat(indent * depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const parts = v.map((x) => write(x, depth + 1) ?? 'null');
      return '[' + pad + parts.join(itemSep + pad) + end + ']';
    }
    const parts: string[] = [];
    for (const key of Object.keys(v as object)) {
      const s = write((v as Record<string, unknown>)[key], depth + 1);
      if (s !== undefined) parts.push(pyString(key) + keySep + s);
    }
    if (parts.length === 0) return '{}';
    return '{' + pad + parts.join(itemSep + pad) + end + '}';
  };
  return write(value, 0) ?? 'null';
}
