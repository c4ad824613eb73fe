/**
 * Signed trace headers, byte-compatible with Python's `osprofiler._utils.signed_pack` /
 * `signed_unpack` (OSProfiler 3.4.3) plus the validity check of `osprofiler.web.WsgiMiddleware`.
 *
 *   X-Trace-Info = urlsafe_b64encode(json.dumps({"base_id": B, "parent_id": P}))  (WITH '=' padding)
 *   X-Trace-HMAC = hex(HMAC-SHA1(key = UTF-8 of the key, msg = the X-Trace-Info text))
 *
 * See shared/interop/osprofiler-wire.md §2.
 */
import { createHmac } from 'node:crypto';
import { hmacMatches, keyBytes, lastInfoWasAscii, MAX_INPUT_LENGTH, setGivenHmac } from './hmac';
import type { NodeBuffer } from './kit/node-buffer';
import { notePlainId } from './plain-ids';
import { pyDumps, pyString } from './pyjson';
import { pyUrlsafeB64Decode } from './py/base64';
import { NO_VALUE, parsePyJson } from './py/json-parse';
import { pyStrip } from './py/strip';

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
    // Only 40 characters can ever match (Python's compare_digest returns False on unequal
    // lengths): any other length fails every key.
    if (!setGivenHmac(pyStrip(hmac))) return null;
    for (const key of hmacKeys) {
      if (typeof key !== 'string') continue;
      const kb = keyBytes(key);
      if (kb === null) continue;
      if (hmacMatches(key, kb, info)) return decodeTraceInfo(info, key, lastInfoWasAscii());
    }
    return null;
  } catch {
    return null;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The shape every OSProfiler (Python's signed_pack, ours) sends: canonical base64 of
// `{"base_id": "…", "parent_id": "…"}` with plain ids. For it the native decoders give
// exactly Python's result, ~3 µs a traced request cheaper here than the general path
// (which decides every other input, as Python does).
const CANONICAL_INFO = /^\{"base_id": "[\x20\x21\x23-\x5b\x5d-\x7e]+", "parent_id": "[\x20\x21\x23-\x5b\x5d-\x7e]*"\}$/;
// Decoded into memory kept for it, not a new Buffer a header. (JavaScript reading the
// base64 and the ids byte by byte instead of RegExps was slower: 845 against 370–430 ns a
// header, and 7.5k instructions for that function alone.)
const decoded = Buffer.allocUnsafeSlow((MAX_INPUT_LENGTH / 4) * 3) as NodeBuffer;
const EQ = 0x3d; // '='
const BASE_AT = '{"base_id": "'.length;
const PARENT_GAP = '", "parent_id": "'.length;
// V8 makes a substring of at least this many characters a slice of its parent string.
const SLICED_MIN = 13;

/**
 * `info` decoded when it is canonical base64 (a multiple of 4 characters, only the base64
 * and URL-safe alphabets, at most two '=' at its end, as Python accepts) of the canonical
 * JSON; undefined for anything else. `ascii`: every character of `info` is below 0x80
 * (hmacMatches wrote its UTF-8 already). Buffer's decoder skips a character outside the
 * alphabets and stops at '=', so it writes all 3/4 of the length less the padding only when
 * every character before the padding is in them (an ASCII text's only way to get there):
 * that count replaces a RegExp over the base64 (~1.6k instructions a header).
 */
function decodeCanonical(info: string, key: string, ascii: boolean): UnpackedTraceData | undefined {
  const len = info.length;
  if (!ascii || len % 4 !== 0 || len === 0) return undefined;
  const pad = info.charCodeAt(len - 1) !== EQ ? 0 : info.charCodeAt(len - 2) !== EQ ? 1 : 2;
  const n = decoded.base64urlWrite(info, 0);
  if (n !== (len / 4) * 3 - pad) return undefined;
  const text = decoded.latin1Slice(0, n);
  // test(), not exec(): no match array and no captures made (exec's ~190 bytes a header);
  // the ids' bounds are known once it matched: the base id ends at the first '"' after its
  // start (CANONICAL_INFO's id characters exclude '"'), the parent id 2 before the end.
  if (!CANONICAL_INFO.test(text)) return undefined;
  const baseEnd = text.indexOf('"', BASE_AT);
  const parentAt = baseEnd + PARENT_GAP;
  // The base id copied out of the buffer as a string of its own: a substring of 13 or more
  // characters is a slice of the decoded text (V8's SlicedString), and the trace's every
  // point compares its base id (notifier.ts, the fresh-root check at each start) and its
  // lines' ropes copy it: with a slice, each such comparison went through the runtime
  // (String::SlowEquals, ~250 instructions; trace-lines.cjs nested-header). The parent id is
  // read by the first point's line only.
  const baseId = baseEnd - BASE_AT < SLICED_MIN ? text.slice(BASE_AT, baseEnd) : decoded.latin1Slice(BASE_AT, baseEnd);
  // CANONICAL_INFO's id characters are those a line writes unescaped: line.ts skips the check.
  notePlainId(baseId);
  return { base_id: baseId, parent_id: parentAt === n - 2 ? baseId : text.slice(parentAt, n - 2), hmac_key: key };
}

function decodeTraceInfo(info: string, key: string, ascii: boolean): UnpackedTraceData | null {
  const fast = decodeCanonical(info, key, ascii);
  if (fast !== undefined) return fast;
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
