/**
 * Signed trace headers, byte-compatible with Python's `osprofiler._utils.signed_pack` /
 * `signed_unpack` (OSProfiler 3.4.3) plus the validity check of `osprofiler.web.WsgiMiddleware`.
 *
 *   X-Trace-Info = urlsafe_b64encode(json.dumps({"base_id": B, "parent_id": P}))  (WITH '=' padding)
 *   X-Trace-HMAC = hex(HMAC-SHA1(key = UTF-8 of the key, msg = the X-Trace-Info text))
 *
 * See shared/interop/osprofiler-wire.md §2.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { pyDumps, pyString } from './pyjson';

export interface TraceData {
  base_id: string;
  parent_id: string;
}

export interface SignedTraceData {
  info: string;
  hmac: string;
}

export interface UnpackedTraceData {
  /** May be '' (Python: a falsy base_id): the caller must then generate a fresh base id. */
  base_id: string;
  /** Already defaulted to base_id when absent/falsy, so '' only when base_id is ''. */
  parent_id: string;
  /** The server key that matched (whatever the client sent is overwritten). */
  hmac_key: string;
}

/**
 * Inputs longer than this (in characters) are rejected outright. Python has no limit; real
 * headers are ~140 (info) and 40 (hmac) characters, so this only sheds abuse.
 */
const MAX_INPUT_LENGTH = 8192;

/** An HMAC-SHA1 hex digest is always this long; no other length can match. */
const HMAC_HEX_LENGTH = 40;

/**
 * Python's json decoder fails (RecursionError -> signed_unpack returns None) once containers
 * nest deeper than its recursion limit (1000) minus the caller's stack depth: measured
 * ~985 through WsgiMiddleware from a shallow stack, fewer in a real server. We reject above
 * 900 levels (the top-level object counts as 1). Verdicts can differ only between 901 and
 * Python's actual, stack-dependent limit.
 */
const MAX_JSON_DEPTH = 900;

/**
 * Text shorter than this can neither nest deeper than MAX_JSON_DEPTH (each level takes two
 * characters) nor hold an integer of more than PY_INT_MAX_STR_DIGITS digits, so the native
 * JSON.parse gives exactly Python's verdict there (NaN/Infinity aside, see parsePyJson).
 */
const FAST_PATH_MAX_LENGTH = 2 * MAX_JSON_DEPTH;

/** Python 3.11's sys.get_int_max_str_digits(): json.loads fails on longer integer literals. */
const PY_INT_MAX_STR_DIGITS = 4300;

// ---------------------------------------------------------------------------------------
// Packing

/**
 * Signs `{base_id, parent_id}` exactly like Python's `signed_pack`: json.dumps defaults
 * (keys in this order, ", " and ": " separators, ensure_ascii), URL-safe base64 with '='
 * padding, HMAC-SHA1 lowercase hex over the ASCII of the base64 text.
 * Throws a TypeError on an empty key (Python would send no HMAC at all, which no server accepts)
 * or a key with a lone surrogate (not UTF-8 encodable; Python raises too).
 */
export function signedPack(data: TraceData, hmacKey: string): SignedTraceData {
  if (typeof hmacKey !== 'string' || hmacKey.length === 0) {
    throw new TypeError('signedPack: hmacKey must be a non-empty string');
  }
  const json = '{"base_id": ' + pyString(data.base_id) + ', "parent_id": ' + pyString(data.parent_id) + '}';
  // pyString output is pure ASCII. 'base64' keeps the '=' padding Python requires
  // ('base64url' would drop it); swap to the URL-safe alphabet afterwards.
  const info = Buffer.from(json, 'latin1').toString('base64').replaceAll('+', '-').replaceAll('/', '_');
  const kb = keyBytes(hmacKey);
  // Python cannot UTF-8 encode a lone surrogate either (UnicodeEncodeError).
  if (kb === null) throw new TypeError('signedPack: hmacKey contains a lone surrogate');
  const hmac = createHmac('sha1', kb).update(info, 'latin1').digest('hex');
  return { info, hmac };
}

// ---------------------------------------------------------------------------------------
// Keys

/**
 * Python's `osprofiler._utils.split` for a comma-separated key string: split on ',', strip
 * each item (Python's str.strip whitespace set), drop empty items.
 * An array is stripped and filtered the same way (empty and non-string items dropped, items
 * are NOT split on ','); Python passes lists through untouched, but every Python config path
 * delivers a string, and dropping empty keys is the safe reading.
 */
export function parseHmacKeys(value: string | readonly string[]): string[] {
  const out: string[] = [];
  if (typeof value === 'string') {
    for (const part of value.split(',')) {
      const k = pyStrip(part);
      if (k.length > 0) out.push(k);
    }
  } else if (Array.isArray(value)) {
    for (const item of value as readonly unknown[]) {
      if (typeof item !== 'string') continue;
      const k = pyStrip(item);
      if (k.length > 0) out.push(k);
    }
  }
  return out;
}

// UTF-8 bytes per key, computed once per distinct key (keys come from configuration, so
// there are few). null marks a key with a lone surrogate: Python cannot encode it (its
// generate_hmac raises, signed_unpack skips that key).
const keyCache = new Map<string, Buffer | null>();
const KEY_CACHE_MAX = 256;

function keyBytes(key: string): Buffer | null {
  let b = keyCache.get(key);
  if (b === undefined) {
    b = hasLoneSurrogate(key) ? null : Buffer.from(key, 'utf8');
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(key, b);
  }
  return b;
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (d < 0xdc00 || d > 0xdfff) return true;
    i++;
  }
  return false;
}

/** Python's str.isspace() for the BMP (no whitespace lies outside it). */
function isPySpace(c: number): boolean {
  if (c <= 0x20) return (c >= 0x09 && c <= 0x0d) || c >= 0x1c;
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python's str.strip() (differs from String#trim: strips \x1c-\x1f and \x85, keeps \ufeff). */
function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPySpace(s.charCodeAt(start))) start++;
  while (end > start && isPySpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

// ---------------------------------------------------------------------------------------
// Unpacking

/**
 * Verifies and decodes trace headers with Python's semantics (`signed_unpack` followed by
 * `WsgiMiddleware._trace_is_valid`), returning null for anything Python would not trace:
 *
 * - null when there are no keys, no HMAC, or the HMAC is empty after stripping whitespace;
 * - the keys are tried in order; the HMAC (stripped) is compared case-sensitively and in
 *   constant time with the lowercase hex HMAC-SHA1 of the info text;
 * - on the first match the info is URL-safe base64 decoded exactly like Python's
 *   urlsafe_b64decode ('-_' and '+/' both accepted, other characters skipped, missing
 *   padding rejected), UTF-8 decoded and parsed like json.loads; if that fails the result
 *   is null and no further key is tried;
 * - the result must be an object with base_id and no keys besides base_id, parent_id and
 *   hmac_key; hmac_key is replaced by the matched key.
 *
 * Values: base_id/parent_id are returned as strings. Python's profiler.init treats a falsy
 * base_id (missing is rejected, but "", null, 0, false, [], {}) as "generate a new one": we
 * return base_id '' for all of those. A falsy parent_id (absent, null, "", 0, ...) becomes
 * base_id, like Python's `parent_id or base_id`. Python accepts any other JSON value as an
 * id (e.g. 123) and uses it unchanged; we accept the same headers and return the value's
 * JSON text (pyDumps, e.g. "123", "NaN", "[1, 2]").
 *
 * Deliberate differences, all rejecting (never accepting) more than Python:
 * - info or hmac longer than 8 KiB is rejected (Python has no limit);
 * - JSON nested deeper than MAX_JSON_DEPTH is rejected (Python: stack-dependent, ~985);
 * - a non-ASCII HMAC is rejected; Python's hmac.compare_digest raises TypeError on it,
 *   which escapes signed_unpack (the Python middleware then fails the request).
 *
 * Never throws.
 */
export function signedUnpack(
  info: string | undefined | null,
  hmac: string | undefined | null,
  hmacKeys: readonly string[],
): UnpackedTraceData | null {
  try {
    if (typeof info !== 'string' || typeof hmac !== 'string') return null;
    if (info.length > MAX_INPUT_LENGTH || hmac.length > MAX_INPUT_LENGTH) return null;
    if (!Array.isArray(hmacKeys) || hmacKeys.length === 0) return null;
    const given = pyStrip(hmac);
    // Only a 40-char lowercase hex string can ever match; any other length fails every key's
    // comparison (Python's compare_digest returns False on unequal lengths).
    if (given.length !== HMAC_HEX_LENGTH) return null;
    for (let i = 0; i < HMAC_HEX_LENGTH; i++) {
      if (given.charCodeAt(i) > 0x7f) return null;
    }
    const givenBytes = Buffer.from(given, 'latin1');
    for (const key of hmacKeys) {
      if (typeof key !== 'string') continue;
      const kb = keyBytes(key);
      if (kb === null) continue;
      const expected = Buffer.from(createHmac('sha1', kb).update(info, 'utf8').digest('hex'), 'latin1');
      if (expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes)) {
        return decodeTraceInfo(info, key);
      }
    }
    return null;
  } catch {
    return null;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeTraceInfo(info: string, key: string): UnpackedTraceData | null {
  const raw = pyUrlsafeB64Decode(info);
  if (raw === null) return null;
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return null;
  }
  const parsed = parsePyJson(text);
  if (parsed === NO_VALUE || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const obj = parsed as Record<string, unknown>;
  let hasBase = false;
  for (const k of Object.keys(obj)) {
    if (k === 'base_id') hasBase = true;
    else if (k !== 'parent_id' && k !== 'hmac_key') return null;
  }
  if (!hasBase) return null;
  const baseId = idString(obj.base_id);
  const parentId = Object.prototype.hasOwnProperty.call(obj, 'parent_id') ? idString(obj.parent_id) : '';
  return { base_id: baseId, parent_id: parentId === '' ? baseId : parentId, hmac_key: key };
}

/** '' for Python-falsy values, the string itself, or the JSON text of any other value. */
function idString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (!pyTruthy(v)) return '';
  return pyDumps(v);
}

function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0; // NaN is truthy in Python
    case 'string':
      return v.length > 0;
    default:
      return Array.isArray(v) ? v.length > 0 : Object.keys(v as object).length > 0;
  }
}

// ---------------------------------------------------------------------------------------
// base64: CPython's urlsafe_b64decode = ASCII check, translate '-_' -> '+/', then
// binascii.a2b_base64 in non-strict mode.

// 0..63 for alphabet characters ('-' and '_' as 62/63 too), -1 for anything else (ASCII).
const B64 = new Int8Array(128).fill(-1);
{
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) B64[abc.charCodeAt(i)] = i;
  B64[0x2d] = 62; // '-'
  B64[0x5f] = 63; // '_'
}
const PAD = 0x3d; // '='

/**
 * Exactly a2b_base64(strict_mode=False) over the translated text:
 * - any non-ASCII character anywhere -> error (str.encode('ascii') fails first);
 * - characters outside the alphabet are skipped;
 * - '=' only counts once at least 2 characters of a quad are in; a complete pad sequence
 *   ends decoding (the rest is ignored); stray '=' elsewhere are skipped;
 * - ending mid-quad is an error ("Incorrect padding", or 1 leftover character).
 * Leftover bits of a final partial quad are discarded, like CPython.
 */
function pyUrlsafeB64Decode(s: string): Buffer | null {
  const n = s.length;
  const out = Buffer.allocUnsafe(((n + 3) >> 2) * 3);
  let o = 0;
  let quadPos = 0;
  let leftchar = 0;
  let pads = 0;
  let i = 0;
  let done = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return null;
    if (c === PAD) {
      if (quadPos >= 2 && quadPos + ++pads >= 4) {
        done = true;
        i++;
        break;
      }
      continue;
    }
    const v = B64[c];
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftchar = v;
        break;
      case 1:
        quadPos = 2;
        out[o++] = ((leftchar << 2) | (v >> 4)) & 0xff;
        leftchar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out[o++] = ((leftchar << 4) | (v >> 2)) & 0xff;
        leftchar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out[o++] = ((leftchar << 6) | v) & 0xff;
        leftchar = 0;
    }
  }
  if (done) {
    // Python checks the whole string is ASCII before decoding anything.
    for (; i < n; i++) if (s.charCodeAt(i) > 0x7f) return null;
  } else if (quadPos !== 0) {
    return null;
  }
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------
// JSON: Python's json.loads (C scanner, strict=True) on a str.

const NO_VALUE: unique symbol = Symbol('no value');

/**
 * json.loads semantics. Short text goes to the native JSON.parse, which agrees with Python
 * there except that Python also accepts the NaN, Infinity and -Infinity literals; when
 * JSON.parse fails, or the text is long enough to hit Python's nesting or integer-digit
 * limits, the small parser below decides.
 */
function parsePyJson(text: string): unknown {
  if (text.length < FAST_PATH_MAX_LENGTH) {
    try {
      return JSON.parse(text);
    } catch {
      // fall through: maybe NaN/Infinity, which Python accepts
    }
  }
  try {
    return new PyJsonParser(text).parseDocument();
  } catch {
    return NO_VALUE;
  }
}

class PyJsonParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length) throw new SyntaxError('Extra data');
    return v;
  }

  private ws(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++;
      else break;
    }
    this.pos = p;
  }

  private fail(): never {
    throw new SyntaxError('Expecting value');
  }

  private value(): unknown {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x6e: // n
        return this.literal('null', null);
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x4e: // N
        return this.literal('NaN', NaN);
      case 0x49: // I
        return this.literal('Infinity', Infinity);
      case 0x2d: // -
        if (s.startsWith('-Infinity', this.pos)) return this.literal('-Infinity', -Infinity);
        return this.number();
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail();
    this.pos += word.length;
    return v;
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw new RangeError('nested too deeply');
  }

  private object(): Record<string, unknown> {
    this.enter();
    const s = this.s;
    const obj = Object.create(null) as Record<string, unknown>;
    this.pos++;
    this.ws();
    if (s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (s.charCodeAt(this.pos) !== 0x22) this.fail();
      const key = this.string();
      this.ws();
      if (s.charCodeAt(this.pos) !== 0x3a) this.fail();
      this.pos++;
      this.ws();
      obj[key] = this.value();
      this.ws();
      const c = s.charCodeAt(this.pos++);
      if (c === 0x7d) break;
      if (c !== 0x2c) this.fail();
      this.ws();
    }
    this.depth--;
    return obj;
  }

  private array(): unknown[] {
    this.enter();
    const s = this.s;
    const arr: unknown[] = [];
    this.pos++;
    this.ws();
    if (s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return arr;
    }
    for (;;) {
      arr.push(this.value());
      this.ws();
      const c = s.charCodeAt(this.pos++);
      if (c === 0x5d) break;
      if (c !== 0x2c) this.fail();
      this.ws();
    }
    this.depth--;
    return arr;
  }

  private string(): string {
    const s = this.s;
    let p = this.pos + 1;
    let out = '';
    let chunk = p;
    for (;;) {
      if (p >= s.length) this.fail();
      const c = s.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) this.fail(); // strict: control characters must be escaped
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += s.slice(chunk, p);
      const e = s.charCodeAt(p + 1);
      p += 2;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          let u = 0;
          for (let k = 0; k < 4; k++) {
            const h = s.charCodeAt(p + k);
            const d =
              h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x61 && h <= 0x66 ? h - 0x57 : h >= 0x41 && h <= 0x46 ? h - 0x37 : -1;
            if (d < 0) this.fail();
            u = (u << 4) | d;
          }
          p += 4;
          // UTF-16 code units: a \ud83d\ude00 pair joins by itself, lone ones stay, like Python.
          out += String.fromCharCode(u);
          break;
        }
        default:
          this.fail();
      }
      chunk = p;
    }
    out += s.slice(chunk, p);
    this.pos = p + 1;
    return out;
  }

  /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? ; Python caps integer literals at 4300 digits. */
  private number(): number {
    const s = this.s;
    const start = this.pos;
    let p = start;
    if (s.charCodeAt(p) === 0x2d) p++;
    const first = s.charCodeAt(p);
    if (first === 0x30) p++;
    else if (first >= 0x31 && first <= 0x39) {
      p++;
      while (isDigit(s.charCodeAt(p))) p++;
    } else this.fail();
    const intEnd = p;
    let isFloat = false;
    if (s.charCodeAt(p) === 0x2e && isDigit(s.charCodeAt(p + 1))) {
      isFloat = true;
      p += 2;
      while (isDigit(s.charCodeAt(p))) p++;
    }
    const e = s.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      let q = p + 1;
      const sign = s.charCodeAt(q);
      if (sign === 0x2b || sign === 0x2d) q++;
      if (isDigit(s.charCodeAt(q))) {
        while (isDigit(s.charCodeAt(q))) q++;
        isFloat = true;
        p = q;
      }
    }
    if (!isFloat && intEnd - start - (s.charCodeAt(start) === 0x2d ? 1 : 0) > PY_INT_MAX_STR_DIGITS) {
      throw new RangeError('Exceeds the limit for integer string conversion');
    }
    this.pos = p;
    return Number(s.slice(start, p));
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
