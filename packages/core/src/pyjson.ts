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

// JSON.stringify already escapes `"`, `\\` and control characters exactly as Python does
// (lower-case \u00xx, short forms for \b \f \n \r \t, lone surrogates as \udxxx);
// Python's ensure_ascii additionally escapes DEL and everything above ASCII.
const NON_ASCII = /[\u007f-\uffff]/g;
const HAS_NON_ASCII = /[\u007f-\uffff]/;

function escapeNonAscii(ch: string): string {
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

// Most strings (ids, timestamps, names) need no escaping at all; testing for that is
// ~6x cheaper here than JSON.stringify of a short string. The RegExp looks for the first
// character that needs escaping (a search, not a match of the whole string).
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

// Short strings (names, keys, most values) are tested with a loop the JIT inlines, longer
// ones (ids, URLs, SQL) with the RegExp: its builtin entry and match set-up cost ~500
// instructions a call under callgrind, its scan a few a character, while the loop's
// `charCodeAt` dispatches on the string's representation for every character once the
// function has seen more than one kind (ids, info values): ~25-30 instructions a character,
// ~1k for a 36-character id.
const LOOP_MAX = 16;

/** Whether Python's json.dumps writes `s` between quotes as it is (printable ASCII, no `"` or `\\`). */
export function isPlainString(s: string): boolean {
  const n = s.length;
  if (n > LOOP_MAX) return !NOT_PLAIN.test(s);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * A string as `JSON.stringify` writes it (no ensure_ascii), without calling it for the
 * usual plain string: for JSON that JavaScript or Lua's cjson read, not Python's bytes.
 */
export function jsonString(s: string): string {
  return isPlainString(s) ? '"' + s + '"' : JSON.stringify(s);
}

export function pyString(s: string): string {
  if (isPlainString(s)) return '"' + s + '"';
  const json = JSON.stringify(s);
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, escapeNonAscii) : json;
}

/** A number as Python's json.dumps writes it (bare NaN and Infinity). */
export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

// What `scalar` returns for an object or array, which the callers lay out themselves.
const COMPOUND = 1;

/** JSON text for a primitive (undefined for values JSON leaves out), or COMPOUND. */
function scalar(v: unknown): string | undefined | typeof COMPOUND {
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
  return v === null ? 'null' : COMPOUND;
}

/** Python's default `json.dumps(value)`: separators `", "` and `": "`, no indent. Hot: every stored point. */
function compact(v: unknown): string | undefined {
  const text = scalar(v);
  if (text !== COMPOUND) return text;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return compact((v as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ', ') + (compact(v[i]) ?? 'null');
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const key in v as object) {
    if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
    const s = compact((v as Record<string, unknown>)[key]);
    if (s === undefined) continue;
    out += (first ? '' : ', ') + pyString(key) + ': ' + s;
    first = false;
  }
  return out + '}';
}

export function pyDumps(value: unknown, options?: PyDumpsOptions): string {
  if (options === undefined || (options.indent === undefined && options.separators === undefined)) return compact(value) ?? 'null';
  const indent = options.indent;
  const [itemSep, keySep] = options.separators ?? (indent === undefined ? [', ', ': '] : [',', ': ']);
  const write = (v: unknown, depth: number): string | undefined => {
    const text = scalar(v);
    if (text !== COMPOUND) return text;
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
