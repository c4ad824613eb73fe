/** Python's `json.loads` (C scanner, strict=True) on a str: the verdicts signed_unpack depends on. */

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


export const NO_VALUE: unique symbol = Symbol('no value');

/**
 * json.loads semantics. Short text goes to the native JSON.parse, which agrees with Python
 * there except that Python also accepts the NaN, Infinity and -Infinity literals; when
 * JSON.parse fails, or the text is long enough to hit Python's nesting or integer-digit
 * limits, the small parser below decides.
 */
export function parsePyJson(text: string): unknown {
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
