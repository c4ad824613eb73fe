/**
 * The raw body of a BATCH frame: the points exactly as the store will hold them, so the
 * agent forwards them to a text-storing driver without parsing or re-serialising.
 *
 *   body = 'L'  u32 E  E × u32 (indexes of error points)  text
 *        | 'I'  u32 E  E × u32  u32 X  index (X bytes, lineindex.ts)  text
 *   text = line LF line LF …   (exactly `count` lines)
 *
 * Each line is Python's `json.dumps` of the notification with the wire's key order
 * (`{"name": "…", "base_id": "…", "trace_id": …, "parent_id": …, "timestamp": "…", …`),
 * ASCII only (ensure_ascii), so it holds no raw LF. The client writes core's batch text in
 * one piece; the agent finds each line's base_id and timestamp by position (a string's
 * content never holds an unescaped `"`, so the first `", "base_id": "` after the name is
 * the key). Error points are listed up front because the error index needs them; the
 * 'I' form also carries the search index the client's notifier built (so nothing
 * downstream parses a line to index it). PROTOCOL.md describes it for other clients.
 */
import { pyDumps } from '@osprofiler/core';
import { LINE_HEAD_TEST, eventAfterHead, parseStoredEvent, searchIndex, timeKey } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import type { LineBatch, LineFields, LineIndex, LinePlaces } from '@osprofiler/core/instrument';
import { BATCH_BODY_OFFSET, allocBatchFrame } from './protocol';
import { IndexCopier, IndexWriter, PointIndex, RECORD_BYTES, fillAt, readIndex, type IndexSource } from './lineindex';
import * as layout from './layout';

// Module-local copies: an imported binding compiles to a property load from the other
// module's exports object on every use, which cost the decode loop ~300 instructions a
// point (callgrind, 60 KiB bodies: 4.39k vs 4.07k).
const { BASE_KEY, CLOSE_BRACE, LF, LINE_START, MAGIC, MAGIC_INDEXED, PARENT_KEY, TIMESTAMP_KEY, TRACE_KEY, windowEnd } = layout;

// Lines without an index have their head (name, base_id, trace_id, parent_id, timestamp, up
// to INFO) checked once as core's LINE_HEAD would match it (readHead: by bytes, plainHead,
// else by LINE_HEAD without captures), and its fields found by position, for the decode's own
// fields and for the index (`heads`: where the name, parent_id and INFO are, handed to core's
// eventAfterHead). `exec` with the captures cost ~1.4k instructions a line more (the result
// array, four substrings; callgrind, agent-ir.cjs); checking the fields by a byte loop or
// DataView reads cost more than the RegExp's code, four bytes an Int32Array load less.
/** What follows the timestamp's closing quote: `, "info": ` and the quote itself. */
const INFO_KEY = '", "info": ';
/**
 * Int32s a point in `heads`: name's end, parent_id's start and end, INFO's start (from the
 * line's start; -1: parse the line), then the line's start and end in its window's text.
 * The line's place is read here by the index, not from its Buffer: `byteOffset` and `length`
 * of a LineBytes went through a LoadIC each (~150 instructions a line, callgrind, agent-ir.cjs).
 */
const HEAD_INTS = 6;

/**
 * A line's bytes: a Buffer (Buffer.prototype's methods, `instanceof Buffer`) made as a view
 * of the body's memory by a plain typed-array constructor. `body.subarray()` per line read
 * the body's `buffer` and `byteOffset` getters and checked its arguments in JavaScript:
 * 0.90-0.96k instructions a line against 0.38-0.40k (scratch callgrind, 200-line bodies,
 * alternated).
 */
class LineBytesClass extends Uint8Array {}
Object.setPrototypeOf(LineBytesClass.prototype, Buffer.prototype);
const LineBytes = LineBytesClass as unknown as new (memory: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * Bytes of a body's text decoded as one string at most (below V8's regular object size,
 * ~128 KiB): `append` of 600 KiB bodies 0.38 vs 1.60 µs a point as one string (user +
 * system CPU; 64 KiB windows did not differ measurably), bodies up to 120 KiB unchanged.
 * The windows are young-space strings: with 1–4 decoded bodies kept alive 0.39–0.48 vs
 * 1.46–1.55 µs, but with 32 kept (~20 MB copied by scavenges) 3.2 vs 2.3.
 */
const DECODE_WINDOW = 120 * 1024;

/** One notification as a line, in the wire's key order whatever order the object has. */
export function notificationText(n: Notification): string {
  const { name, base_id, trace_id, parent_id, timestamp, info, project, service, ...rest } = n as Notification & Record<string, unknown>;
  return pyDumps({ name, base_id, trace_id, parent_id, timestamp, info, project, service, ...rest });
}

/**
 * A text to send: `text` holds `count` lines, each ended by LF but the last, whose LF the
 * frame adds when the text does not end with one (a line always ends with `}`). The
 * client's text is `lines.join('\n')`: with `+ '\n'` after it, the text was a rope of
 * the joined lines and one LF, which writing it into the frame made flat again, a copy of
 * every byte (~3.7k instructions a traced /nested request under callgrind).
 * `errors` are indexes within it; `index` (from `from` on) their search index.
 */
export interface TextPart {
  /** The lines as text ('' when `bytes` holds them). */
  text: string;
  /** The lines' bytes instead of `text` (a queued chunk kept off V8's heap, client/driver.ts `park`). */
  bytes?: Uint8Array;
  count: number;
  errors: readonly number[] | null;
  index?: LineIndex;
  from?: number;
}

/**
 * One whole BATCH frame (length prefix, type, client id, seq, count, body) for `parts`;
 * with `withIndex` and every part carrying its index, the 'I' form.
 */
export function encodeLineBatch(clientId: Buffer, seq: number, parts: readonly TextPart[], withIndex = false): { frame: Buffer; count: number } {
  let count = 0;
  let errors = 0;
  let textBytes = 0;
  let indexed = withIndex;
  for (const p of parts) {
    count += p.count;
    errors += p.errors === null ? 0 : p.errors.length;
    textBytes += p.bytes !== undefined ? p.bytes.length + (p.bytes[p.bytes.length - 1] === LF ? 0 : 1) : p.text.length + (endsWithLf(p.text) ? 0 : 1); // ASCII: one byte per character
    if (p.index === undefined) indexed = false;
  }
  let ix: IndexWriter | undefined;
  if (indexed) {
    ix = new IndexWriter(count);
    for (const p of parts) ix.add(p.index as LineIndex, p.from ?? 0, p.count);
  }
  const indexBytes = ix === undefined ? 0 : 4 + ix.bytes;
  const out = allocBatchFrame(clientId, seq, count, 5 + 4 * errors + indexBytes + textBytes);
  let off = BATCH_BODY_OFFSET;
  out[off++] = ix === undefined ? MAGIC : MAGIC_INDEXED;
  out.writeUInt32BE(errors, off);
  off += 4;
  let base = 0;
  for (const p of parts) {
    if (p.errors !== null) {
      for (const i of p.errors) {
        out.writeUInt32BE(base + i, off);
        off += 4;
      }
    }
    base += p.count;
  }
  if (ix !== undefined) off = ix.write(out, out.writeUInt32BE(ix.bytes, off));
  for (const p of parts) {
    if (p.bytes !== undefined) {
      out.set(p.bytes, off);
      off += p.bytes.length;
      if (p.bytes[p.bytes.length - 1] !== LF) out[off++] = LF;
      continue;
    }
    off += out.write(p.text, off, 'latin1');
    if (!endsWithLf(p.text)) out[off++] = LF;
  }
  return { frame: out, count };
}

function endsWithLf(text: string): boolean {
  return text.charCodeAt(text.length - 1) === LF;
}

/**
 * A BATCH frame with its index section taken out ('I' body → 'L'), for an agent that
 * did not ask for it (a resend after the agent was replaced by an older one); other
 * frames as they are.
 */
export function withoutIndex(frame: Buffer): Buffer {
  const body = frame.subarray(BATCH_BODY_OFFSET);
  if (body[0] !== MAGIC_INDEXED) return frame;
  const l = bodyLayout(body);
  if (l === undefined) return frame;
  const out = Buffer.allocUnsafe(frame.length - (l.textStart - l.indexStart + 4));
  frame.copy(out, 0, 0, BATCH_BODY_OFFSET + l.indexStart - 4);
  frame.copy(out, BATCH_BODY_OFFSET + l.indexStart - 4, BATCH_BODY_OFFSET + l.textStart);
  out.writeUInt32BE(out.length - 4, 0);
  out[BATCH_BODY_OFFSET] = MAGIC;
  return out;
}

/** Whether a body is in this format (a JSON-array body, the older format, starts with `[`). */
export function isLinesBody(body: Buffer): boolean {
  return body.length >= 5 && (body[0] === MAGIC || body[0] === MAGIC_INDEXED) && body[body.length - 1] === LF;
}

/** Where a line body's parts are: E error indexes at 5, the index section [indexStart, textStart) (empty for 'L'), the text. */
export interface BodyLayout {
  errors: number;
  indexStart: number;
  textStart: number;
}

/** The layout of a line body, or undefined when its header does not fit in it. */
export function bodyLayout(body: Buffer): BodyLayout | undefined {
  if (body.length < 5) return undefined;
  const errors = body.readUInt32BE(1);
  const after = 5 + 4 * errors;
  if (after > body.length) return undefined;
  if (body[0] !== MAGIC_INDEXED) return { errors, indexStart: after, textStart: after };
  if (after + 4 > body.length) return undefined;
  const x = body.readUInt32BE(after);
  if (x > body.length - after - 4) return undefined;
  return { errors, indexStart: after + 4, textStart: after + 4 + x };
}

/**
 * Whether the `n` bytes at `a` and at `b` (all within `dv`) are the same: 8 at a time as
 * float64s when n ≥ 8, half the DataView reads of int32s (~18 instructions each). Two equal
 * float64s that are not zeros have the same bits; NaNs are never equal and zeros (+0 and -0
 * are equal with other bits) are taken as a difference: false then, and the caller takes the
 * id as a new one (the same text).
 */
function sameBytes(dv: DataView, a: number, b: number, n: number): boolean {
  if (n < 4) {
    for (let i = 0; i < n; i++) if (dv.getUint8(a + i) !== dv.getUint8(b + i)) return false;
    return true;
  }
  if (n < 8) return dv.getInt32(a, true) === dv.getInt32(b, true) && dv.getInt32(a + n - 4, true) === dv.getInt32(b + n - 4, true);
  for (let i = 0; i + 8 < n; i += 8) {
    const x = dv.getFloat64(a + i, true);
    if (x !== dv.getFloat64(b + i, true) || x === 0) return false;
  }
  const x = dv.getFloat64(a + n - 8, true);
  return x === dv.getFloat64(b + n - 8, true) && x !== 0;
}

const LINE_START_0 = Buffer.from(LINE_START, 'latin1').readDoubleLE(0);
const LINE_START_8 = Buffer.from(LINE_START, 'latin1').readUInt16LE(8);

/** A field's place in HEAD_KEY_BYTES and FIELD_LENGTHS: name, base_id, trace_id, parent_id, timestamp. */
const FIELDS = 5;
/**
 * The key after each head field as headKeyAt compares it: float64s (little-endian) of its
 * first 8 bytes, of its bytes 8-15 (its last 8 under 16) and of its last 8. ASCII text
 * without DEL: never a NaN or a zero, so a read equal to one is those very bytes.
 */
const HEAD_KEY_BYTES = new Float64Array(3 * FIELDS);
const HEAD_KEY_LENGTHS = new Int32Array(FIELDS);
/**
 * Where the second read of each is: held here, not computed from the length at the read (a
 * `len < 16 ? …` offset left that read a call of V8's DataView builtin, ~130 instructions, in
 * TurboFan's code: scratch callgrind).
 */
const HEAD_KEY_MIDDLES = new Int32Array(FIELDS);
[BASE_KEY, TRACE_KEY, PARENT_KEY, TIMESTAMP_KEY, INFO_KEY].forEach((key, f) => {
  const b = Buffer.from(key, 'latin1');
  const middle = key.length < 16 ? key.length - 8 : 8;
  HEAD_KEY_BYTES.set([b.readDoubleLE(0), b.readDoubleLE(middle), b.readDoubleLE(key.length - 8)], 3 * f);
  HEAD_KEY_LENGTHS[f] = key.length;
  HEAD_KEY_MIDDLES[f] = middle;
});
/** Field f's key, after it: the base_id's after the name, …, the timestamp's after the parent_id (INFO's is 4). */
const KEY_BASE = 0;
const KEY_TRACE = 1;
const KEY_PARENT = 2;
const KEY_TIMESTAMP = 3;

/**
 * Whether field f's key (HEAD_KEY_BYTES: KEY_BASE, KEY_TRACE, …) is at text position `at` of the
 * window at `w` in `dv` (the text `end` long). Three reads of 8 bytes, against a
 * multi-character `indexOf` (V8's StringSearch: ~500 instructions a call, callgrind,
 * agent-ir.cjs with --client-index).
 */
function headKeyAt(dv: DataView, w: number, at: number, end: number, f: number): boolean {
  const len = HEAD_KEY_LENGTHS[f];
  const x = w + at;
  const k = 3 * f;
  return at >= 0 && at + len <= end && dv.getFloat64(x, true) === HEAD_KEY_BYTES[k] && dv.getFloat64(x + HEAD_KEY_MIDDLES[f], true) === HEAD_KEY_BYTES[k + 1] && dv.getFloat64(x + len - 8, true) === HEAD_KEY_BYTES[k + 2];
}

/**
 * The first `", "timestamp": "` at or after the quote `b1` (a base_id's end) in the text of
 * the window at `w`: in a line of the wire's layout the third quote from there, after the
 * trace_id's and parent_id's keys, found by two single-character searches (memchr) and three
 * 8-byte compares a key instead of a multi-character search. Why it is the first: an
 * occurrence starts at a quote, and of the quotes up to it only the keys' own lie between
 * (the first quote after each key is the next key's); none of those can start one (a letter
 * or `:` follows each but a key's last, and an occurrence there would put `, "t` after it:
 * the next quote would then be followed by `t`, not the next key's `,`). Else (another
 * layout) searched.
 */
function timestampKey(dv: DataView, text: string, w: number, b1: number, end: number): number {
  if (headKeyAt(dv, w, b1, end, KEY_TRACE)) {
    const q2 = text.indexOf('"', b1 + TRACE_KEY.length);
    if (q2 >= 0 && headKeyAt(dv, w, q2, end, KEY_PARENT)) {
      const q3 = text.indexOf('"', q2 + PARENT_KEY.length);
      if (q3 >= 0 && headKeyAt(dv, w, q3, end, KEY_TIMESTAMP)) return q3;
    }
  }
  return text.indexOf(TIMESTAMP_KEY, b1);
}
const NOT_LAID_OUT = 0;
const SAME_BASE = 1;
const NEW_BASE = 2;
/** Where readHead found the fields (text positions): name's end, base_id's start and end, parent_id's, the timestamp's, INFO's start. */
const HEAD = new Int32Array(8);

/**
 * The last two lengths of each head field (field f's at f and f + FIELDS): the next line's
 * likely ones (a service's starts and stops alternate two names' lengths).
 */
const FIELD_LENGTHS = new Int32Array(2 * FIELDS);
/** Whether this machine's Int32Arrays are little-endian (plainBytes' edge masks assume it). */
const LITTLE_ENDIAN = new Uint8Array(new Int32Array([1]).buffer)[0] === 1;
/** OR-ed into the first word of a field at byte offset 0-3 (its bytes before the field made 0x40: neither < 0x23 nor a borrow). */
const LOW_MASK = new Int32Array([0, 0x40, 0x4040, 0x404040]);
/** OR-ed into the last word of a field whose last byte is byte 0-3 of it (the bytes after it made 0x40). */
const HIGH_MASK = new Int32Array([0x40404000, 0x40400000, 0x40000000, 0]);
const BELOW_23 = 0x23232323;
const HIGH_BITS = 0x80808080 | 0;

/**
 * Whether the bytes [a, b) of `words` (the body's memory as int32s, `a`, `b` byte offsets in
 * it) are all ≥ 0x23: no control character, no quote (nor a space or `!`: a field holding one
 * is left to the RegExp). Four bytes a load: `(x - 0x23232323) & ~x` has a byte's high bit
 * set for the lowest byte under 0x23 of x (bytes at or above it borrow nothing, and a byte
 * ≥ 0x80 has its high bit cleared by `~x`), so OR-ed over the words and masked it says
 * whether any byte is under 0x23; the bytes of the first and last words outside [a, b) are
 * made 0x40 first.
 */
function plainBytes(words: Int32Array, a: number, b: number): boolean {
  if (a >= b) return true;
  let i = a >> 2;
  const last = (b - 1) >> 2;
  let x = words[i] | LOW_MASK[a & 3];
  let acc = 0;
  while (i < last) {
    acc |= (x - BELOW_23) & ~x;
    x = words[++i];
  }
  x |= HIGH_MASK[(b - 1) & 3];
  return ((acc | ((x - BELOW_23) & ~x)) & HIGH_BITS) === 0;
}

/**
 * The end of head field f (from `from`) where its key follows: at the field's last two
 * lengths first (three 8-byte reads a try, against `indexOf`'s ~140 instructions a call),
 * else at the next quote; -1 when the key is at none of them. The field's bytes are not
 * checked here (plainHead does; after LINE_HEAD_TEST, with `end` the head's, the key found
 * is the field's end: a field holds no quote).
 */
function keyEnd(dv: DataView, text: string, w: number, from: number, end: number, f: number): number {
  const guess = FIELD_LENGTHS[f];
  if (headKeyAt(dv, w, from + guess, end, f)) return from + guess;
  const other = FIELD_LENGTHS[f + FIELDS];
  if (headKeyAt(dv, w, from + other, end, f)) {
    FIELD_LENGTHS[f + FIELDS] = guess;
    FIELD_LENGTHS[f] = other;
    return from + other;
  }
  const q = text.indexOf('"', from);
  if (q < 0 || !headKeyAt(dv, w, q, end, f)) return -1;
  FIELD_LENGTHS[f + FIELDS] = guess;
  FIELD_LENGTHS[f] = q - from;
  return q;
}

/**
 * The head of the line at text position `pos` (window `w` of the body `dv`, its text `end`
 * long, at byte `a` of `words`) read without the RegExp: each key where the field before it
 * ends (keyEnd), every field's bytes ≥ 0x23 (plainBytes) and no backslash before INFO (the
 * next one is at `slash` ≥ pos). Such a head is in LINE_HEAD's language and its fields end
 * at their first quote, so this is LINE_HEAD_TEST's match, field for field. Fills HEAD and
 * returns INFO's start, or -1 (a field with a space, `!`, a quote, an escape or a control
 * character in it, an empty base_id, another layout: the RegExp decides). Against the
 * RegExp's ~8.5 instructions a character of the ~225-character head (~1.9k a line,
 * callgrind, agent-ir.cjs): ~2 a field's character and ~60 a key.
 */
export function plainHead(dv: DataView, words: Int32Array, a: number, text: string, w: number, pos: number, end: number, slash: number): number {
  if (!LITTLE_ENDIAN || dv.getFloat64(w + pos, true) !== LINE_START_0 || dv.getUint16(w + pos + 8, true) !== LINE_START_8) return -1;
  const n0 = pos + LINE_START.length;
  const n1 = keyEnd(dv, text, w, n0, end, 0);
  if (n1 < 0) return -1;
  const b0 = n1 + BASE_KEY.length;
  const b1 = keyEnd(dv, text, w, b0, end, 1);
  if (b1 <= b0) return -1;
  const t0 = b1 + TRACE_KEY.length;
  const t1 = keyEnd(dv, text, w, t0, end, 2);
  if (t1 < 0) return -1;
  const p0 = t1 + PARENT_KEY.length;
  const p1 = keyEnd(dv, text, w, p0, end, 3);
  if (p1 < 0) return -1;
  const s0 = p1 + TIMESTAMP_KEY.length;
  const s1 = keyEnd(dv, text, w, s0, end, 4);
  if (s1 < 0) return -1;
  const i0 = s1 + INFO_KEY.length;
  if (slash < i0 || !plainBytes(words, a + n0, a + n1) || !plainBytes(words, a + b0, a + b1) || !plainBytes(words, a + t0, a + t1) || !plainBytes(words, a + p0, a + p1) || !plainBytes(words, a + s0, a + s1)) return -1;
  setHead(n1, b0, b1, p0, p1, s0, s1, i0);
  return i0;
}

/** HEAD's fields, for plainHead and readHead's RegExp path alike. */
function setHead(n1: number, b0: number, b1: number, p0: number, p1: number, s0: number, s1: number, i0: number): void {
  HEAD[0] = n1;
  HEAD[1] = b0;
  HEAD[2] = b1;
  HEAD[3] = p0;
  HEAD[4] = p1;
  HEAD[5] = s0;
  HEAD[6] = s1;
  HEAD[7] = i0;
}

/**
 * Reads the head of the line text[pos, lf) (window `w` of the body `dv`, its text at byte
 * `a` of `words`, `end` long; the next backslash at `slash` ≥ pos) as core's LINE_HEAD
 * matches it: by plainHead, else by LINE_HEAD_TEST (the same RegExp without its captures)
 * and then its fields' quotes (the RegExp checked what lies between them). Fills HEAD and
 * says whether the base_id is the last one's (its bytes at `baseAt`, -1 for none; `baseLen`
 * long), or NOT_LAID_OUT (an empty base_id too: the key search then reads the line, and
 * refuses it).
 */
function readHead(dv: DataView, words: Int32Array, a: number, text: string, w: number, pos: number, end: number, slash: number, baseAt: number, baseLen: number): number {
  if (plainHead(dv, words, a, text, w, pos, end, slash) < 0) {
    LINE_HEAD_TEST.lastIndex = pos;
    if (!LINE_HEAD_TEST.test(text)) return NOT_LAID_OUT;
    // The RegExp checked the fields (no quote in one) and keys: each field's end is the first
    // place after its start where its key is, within the head (INFO may hold a key's text).
    const i0 = LINE_HEAD_TEST.lastIndex;
    const n1 = keyEnd(dv, text, w, pos + LINE_START.length, i0, 0);
    const b0 = n1 + BASE_KEY.length;
    const b1 = keyEnd(dv, text, w, b0, i0, 1);
    if (b1 === b0) return NOT_LAID_OUT;
    const p0 = keyEnd(dv, text, w, b1 + TRACE_KEY.length, i0, 2) + PARENT_KEY.length;
    const p1 = keyEnd(dv, text, w, p0, i0, 3);
    setHead(n1, b0, b1, p0, p1, p1 + TIMESTAMP_KEY.length, i0 - INFO_KEY.length, i0);
  }
  const b0 = HEAD[1];
  const n = HEAD[2] - b0;
  return baseAt >= 0 && n === baseLen && sameBytes(dv, w + b0, baseAt, n) ? SAME_BASE : NEW_BASE;
}

// The day timeKeyAt read last (`YYYYMMDD` as a number) and its midnight's µs since 1970.
let lastDay = -1;
let lastDayUs = NaN;

/** Not a digit: twoDigits' answer, which leaves any sum timeKeyAt makes of it negative (and small integers otherwise). */
const NOT_DIGITS = -1_000_000_000;

/** Two digits at b[i] as a number, NOT_DIGITS when one is not a digit. */
function twoDigits(b: Uint8Array, i: number): number {
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  return x >>> 0 <= 9 && y >>> 0 <= 9 ? x * 10 + y : NOT_DIGITS;
}

/**
 * The timestamp at t of `text` (its bytes `b`, `n` long) as core's timeKey reads it: its
 * digits read here, and its day's µs when it is the last day read (else core reads the
 * text, and a valid day is kept). NaN when it has no key. ~420 instructions a line
 * (agent-ir.cjs's profile, 6-point traces); charCodeAt of the text made 10.8 KB of
 * optimized code and cost ~900, twoDigits answering NaN (float arithmetic) ~570.
 */
function timeKeyAt(b: Uint8Array, text: string, t: number, n: number): number {
  if (n !== 26 || b[t + 4] !== 45 || b[t + 7] !== 45 || b[t + 10] !== 84 || b[t + 13] !== 58 || b[t + 16] !== 58 || b[t + 19] !== 46) return NaN;
  const day = (twoDigits(b, t) * 100 + twoDigits(b, t + 2)) * 10_000 + twoDigits(b, t + 5) * 100 + twoDigits(b, t + 8);
  const h = twoDigits(b, t + 11);
  const mi = twoDigits(b, t + 14);
  const se = twoDigits(b, t + 17);
  const frac = (twoDigits(b, t + 20) * 100 + twoDigits(b, t + 22)) * 100 + twoDigits(b, t + 24);
  if (day < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 || frac < 0) return NaN;
  const inDay = ((h * 60 + mi) * 60 + se) * 1_000_000 + frac;
  if (day === lastDay) {
    const us = lastDayUs + inDay;
    // core's bound: a second's µs past MAX_SAFE_INTEGER − 10⁶ has no key.
    return us - frac > Number.MAX_SAFE_INTEGER - 1_000_000 ? NaN : us;
  }
  return newDay(text, t, day, inDay);
}

/** timeKeyAt's key on a day other than the last (kept when valid), read by core. */
function newDay(text: string, t: number, day: number, inDay: number): number {
  const us = timeKey(text.slice(t, t + 26));
  if (us !== us) return NaN;
  lastDay = day;
  lastDayUs = us - inDay;
  return us;
}

/** The first backslash at or after `from`, or `end`. */
function nextSlash(text: string, from: number, end: number): number {
  const i = text.indexOf('\\', from);
  return i < 0 ? end : i;
}

/** Points of a first body's arrays made at their length up front (`new Array(n)` past 100,000 makes a dictionary). */
const PRESIZE_MAX = 50_000;

/**
 * Points decoded from bodies, appended to; `buffers` (a Buffer a line) and `lines` are made
 * on first use: the redis:// driver copies the bytes from `linePlaces`, and a Buffer a line
 * was ~100 bytes of V8's heap and a typed array's construction (~0.4k instructions) each.
 */
export class DecodedLines implements LineBatch {
  /** Made as long as the first body's count (grown a point at a time, each was copied ~3 times over). */
  baseIds: string[] = [];
  timestamps: string[] = [];
  private lineBuffers: Buffer[] | undefined;
  /**
   * Per point (HEAD_INTS each): where readHead found its head's fields in a body without an
   * index (-1: not read so), then the line's start and end in its window's text (every point).
   */
  private heads = new Int32Array(0);
  /** Per point, its carried index entry (or none). */
  readonly points = new PointIndex();
  /** Bodies whose index section did not check out (dropped; their lines are parsed when indexed). */
  badIndexes = 0;
  private errorIndexes: number[] = [];
  /**
   * Per body (per window of a big body): its text (one string), its bytes (`region`) and
   * its first point. Point k's line is at `heads[HEAD_INTS × k + 4]` in its window's text and
   * region: `lines` slices them on first use (no copy: sliced strings). Per body, not three
   * arrays pushed per point as before (4,073–4,116 vs 4,141–4,223 instructions a line of decode + `lines`, 2,000-point bodies, same callgrind run).
   */
  private readonly texts: { text: string; region: Uint8Array; first: number }[] = [];
  private strings: string[] | undefined;
  private lineIndex: LineIndex | undefined | null = null;
  private keys: Float64Array | undefined | null = null;

  /**
   * @param windowBytes bytes of a body's text read as one string at most (tests pass a small
   *   one to put window edges everywhere, or Infinity for one string a body).
   */
  constructor(private readonly windowBytes = DECODE_WINDOW) {}

  get count(): number {
    return this.baseIds.length;
  }

  /** One value a line, in order, from its body and its place there (`at`, `end`): the lines' strings or Buffers, made on first use. */
  private eachLine<T>(make: (body: { text: string; region: Uint8Array }, at: number, end: number) => T): T[] {
    const n = this.baseIds.length;
    const out: T[] = new Array<T>(n);
    const { heads, texts } = this;
    for (let j = 0; j < texts.length; j++) {
      const body = texts[j];
      const last = j + 1 < texts.length ? texts[j + 1].first : n;
      for (let k = body.first; k < last; k++) out[k] = make(body, heads[HEAD_INTS * k + 4], heads[HEAD_INTS * k + 5]);
    }
    return out;
  }

  /** Each line's bytes: a view of its body's memory (made on first use, see the class). */
  get buffers(): Buffer[] {
    return (this.lineBuffers ??= this.eachLine<Buffer>(({ region }, at, end) => new LineBytes(region.buffer, region.byteOffset + at, end - at)));
  }

  /** Where the lines' bytes are (LinePlaces), for a driver that copies them as they are. */
  get linePlaces(): LinePlaces {
    const { texts } = this;
    const regions: Uint8Array[] = new Array<Uint8Array>(texts.length);
    const firsts: number[] = new Array<number>(texts.length);
    for (let j = 0; j < texts.length; j++) {
      regions[j] = texts[j].region;
      firsts[j] = texts[j].first;
    }
    return { regions, firsts, places: this.heads, stride: HEAD_INTS, at: 4 };
  }

  get lines(): readonly string[] {
    return (this.strings ??= this.eachLine<string>(({ text }, at, end) => text.slice(at, end)));
  }

  /**
   * The timestamps' keys (LineBatch.timeKeys) when every point has one, made on first use: a
   * head read by position has its timestamp's place (between parent_id's end and INFO's
   * start), read by timeKeyAt; another point's timestamp is read by core's timeKey. Made in
   * decode's loop, they cost ~0.5k instructions a point more there (decode no longer
   * inlined readHead, agent-ir.cjs's profile). At 6 points a trace they cost ~1.0k a point
   * and save ~1.8k of V8's runtime comparing the timestamps' slices (deltasOfBatch, the
   * redis:// index's durations).
   */
  get timeKeys(): Float64Array | undefined {
    if (this.keys === null) this.keys = this.keysOfHeads();
    return this.keys;
  }

  private keysOfHeads(): Float64Array | undefined {
    const n = this.baseIds.length;
    if (n === 0) return undefined;
    const keys = new Float64Array(n);
    const { texts, heads, timestamps } = this;
    for (let j = 0; j < texts.length; j++) {
      const { text, region } = texts[j];
      const last = j + 1 < texts.length ? texts[j + 1].first : n;
      for (let k = texts[j].first; k < last; k++) {
        const o = HEAD_INTS * k;
        let key: number;
        if (heads[o] >= 0) {
          const at = heads[o + 4];
          const t0 = at + heads[o + 2] + TIMESTAMP_KEY.length;
          key = timeKeyAt(region, text, t0, at + heads[o + 3] - INFO_KEY.length - t0);
        } else {
          key = timeKey(timestamps[k]);
        }
        if (key !== key) return undefined;
        keys[k] = key;
      }
    }
    return keys;
  }

  get errors(): Uint8Array | null {
    if (this.errorIndexes.length === 0) return null;
    const e = new Uint8Array(this.baseIds.length);
    for (const i of this.errorIndexes) e[i] = 1;
    return e;
  }

  /**
   * The search index: carried entries, and for points without one what core reads of their
   * heads read by position (eventAfterHead; a line off the layout parsed whole), as
   * `indexOfLines` would make it, without making the lines' strings.
   */
  get index(): LineIndex | undefined {
    if (this.lineIndex === null) this.lineIndex = this.points.none && this.baseIds.length > 0 ? this.indexOfHeads() : this.points.lineIndex(() => this.lines, (ids) => this.events(ids));
    return this.lineIndex;
  }

  /**
   * The index of points none of which came with an entry: each laid-out line's entry written
   * by core's eventAfterHead into the arrays (made at their length), the others' (off the
   * layout) from `events` and indexOfEvents. Before, a LineFields object a line handed to
   * indexOfEvents, whose setIndexEntry read INFO again for every line.
   */
  private indexOfHeads(): LineIndex {
    const n = this.baseIds.length;
    const index: LineIndex = {
      names: new Array<string>(n),
      phases: new Uint8Array(n),
      parentIds: new Array<string>(n),
      projects: new Array<string | null>(n),
      services: new Array<string | null>(n),
      hosts: new Array<string>(n),
      details: new Array<string | null>(n),
      routes: new Array<string | null>(n),
    };
    let missing: number[] | undefined;
    const { texts, heads, baseIds } = this;
    for (let j = 0; j < texts.length; j++) {
      const { text, region } = texts[j];
      const last = j + 1 < texts.length ? texts[j + 1].first : n;
      const dv = new DataView(region.buffer, region.byteOffset, region.length);
      for (let k = texts[j].first; k < last; k++) {
        const o = HEAD_INTS * k;
        const nameEnd = heads[o];
        if (nameEnd >= 0) {
          const at = heads[o + 4];
          const p0 = at + heads[o + 1];
          const p1 = at + heads[o + 2];
          const base = baseIds[k];
          // A root's parent_id is its base_id: the base_id's string then (as in `events`).
          const parent = p1 - p0 === base.length && sameBytes(dv, p0, at + nameEnd + BASE_KEY.length, p1 - p0) ? base : text.slice(p0, p1);
          if (eventAfterHead(text, heads[o + 5], text.slice(at + LINE_START.length, at + nameEnd), parent, at + heads[o + 3], dv, index, k) !== undefined) continue;
        }
        (missing ??= []).push(k);
      }
    }
    if (missing !== undefined) fillAt(index, missing, searchIndex.indexOfEvents(this.events(missing)));
    return index;
  }

  /** What the index reads of points `ids` (all when null), in that order. */
  private events(ids: readonly number[] | null): (Record<string, unknown> | undefined)[] {
    const n = ids === null ? this.baseIds.length : ids.length;
    const out = new Array<Record<string, unknown> | undefined>(n);
    const { texts, heads, baseIds } = this;
    let j = 0;
    let text = texts[0].text;
    let region = texts[0].region;
    let dv = new DataView(region.buffer, region.byteOffset, region.length);
    for (let q = 0; q < n; q++) {
      const k = ids === null ? q : ids[q];
      if (j + 1 < texts.length && texts[j + 1].first <= k) {
        while (j + 1 < texts.length && texts[j + 1].first <= k) j++;
        text = texts[j].text;
        region = texts[j].region;
        dv = new DataView(region.buffer, region.byteOffset, region.length);
      }
      const o = HEAD_INTS * k;
      const at = heads[o + 4];
      const end = heads[o + 5];
      const nameEnd = heads[o];
      let ev: LineFields | undefined;
      if (nameEnd >= 0) {
        // A root's parent_id is its base_id: the base_id's string then (no slice; the same
        // string object makes core's compares of the two a pointer compare).
        const p0 = at + heads[o + 1];
        const p1 = at + heads[o + 2];
        const base = baseIds[k];
        const parent = p1 - p0 === base.length && sameBytes(dv, p0, at + nameEnd + BASE_KEY.length, p1 - p0) ? base : text.slice(p0, p1);
        ev = eventAfterHead(text, end, text.slice(at + LINE_START.length, at + nameEnd), parent, at + heads[o + 3], dv);
      }
      out[q] = (ev as unknown as Record<string, unknown> | undefined) ?? parseStoredEvent(text.slice(at, end));
    }
    return out;
  }

  /**
   * Appends the `count` points of a raw body; false (and nothing appended) when it is not
   * exactly that many well-formed lines: the batch is then dropped and counted. A bad
   * index section alone only drops the index (`badIndexes`).
   */
  append(body: Buffer, count: number): boolean {
    const start = this.baseIds.length;
    const errStart = this.errorIndexes.length;
    let failed = true;
    try {
      failed = !isLinesBody(body) || this.decode(body, count);
    } catch {
      failed = true; // never let a body from a socket throw
    }
    this.lineIndex = null;
    this.keys = null;
    this.strings = undefined;
    this.lineBuffers = undefined;
    if (!failed) return true;
    this.baseIds.length = start;
    this.timestamps.length = start;
    while (this.texts.length > 0 && this.texts[this.texts.length - 1].first >= start) this.texts.pop();
    this.points.truncate(start);
    this.errorIndexes.length = errStart;
    return false;
  }

  /**
   * True when the body did NOT decode (so `append` rolls back). The body's text is read as
   * latin1 strings (one for a body up to DECODE_WINDOW, else windows cut after a LF, so no
   * line straddles two) and searched with string operations; the Buffer methods this replaced
   * (indexOf ×4, compare, toString ×2 a line, then toString again for `lines`) each crossed
   * into C++: decode + `lines` of 200-line bodies of 1-point traces took 505–604 ns a line
   * that way, 280–295 now (same process, alternated, best of 30 rounds; session 9).
   */
  private decode(body: Buffer, count: number): boolean {
    const start = this.baseIds.length;
    const layout = bodyLayout(body);
    if (layout === undefined) return true;
    const e = layout.errors;
    if (e > count) return true;
    for (let k = 0; k < e; k++) {
      const i = body.readUInt32BE(5 + 4 * k);
      if (i >= count) return true;
      this.errorIndexes.push(start + i);
    }
    let src: IndexSource | null = null;
    if (layout.textStart !== layout.indexStart) {
      src = readIndex(body, layout.indexStart, layout.textStart, count) ?? null;
      if (src === null) this.badIndexes++;
    }
    const len = body.length;
    const memory = body.buffer;
    const at0 = body.byteOffset;
    let n = 0;
    // The previous point's base_id: a trace's points come together, and the same string
    // object again makes every later `===` between them (checks, per-trace grouping, search
    // deltas) a pointer compare, where two slices of the text go through the runtime.
    let lastBase = '';
    // Where lastBase's bytes are in the body when it came from a head read by position (no
    // control character), else -1: the same base_id again (a trace's lines) is then compared
    // in place, not sliced and checked.
    let baseAt = -1;
    // Stored by index (the arrays are `start + n` long here, or the first body's count), not
    // pushed: a `push` on an array loaded from `this` is a builtin call (~55 instructions), a
    // store that grows it is inlined.
    if (start === 0 && count <= PRESIZE_MAX) {
      // Filled: stores of strings into holes of a new array (SMI kind) transitioned it, and
      // the store sites went megamorphic (~120 instructions a store, callgrind).
      this.baseIds = new Array<string>(count).fill('');
      this.timestamps = new Array<string>(count).fill('');
    }
    const { baseIds, timestamps } = this;
    // The body's bytes, to compare a base_id with the last 4 bytes at a time: `===` of two
    // slices goes to V8's runtime (~450 instructions), and V8 compiles `startsWith` into a
    // loop of ~30 instructions a character.
    const dv = new DataView(memory, at0, len);
    // The same memory as int32s from its start, for plainHead's field checks (a field ends
    // ≥ 11 bytes before the body does, so its last word is within the view).
    const words = new Int32Array(memory, 0, memory.byteLength >> 2);
    let heads = this.heads;
    if (heads.length < HEAD_INTS * (start + count)) {
      heads = new Int32Array(Math.max(HEAD_INTS * (start + count), 2 * heads.length));
      heads.set(this.heads);
      this.heads = heads;
    }
    // The text is read as latin1 strings of at most DECODE_WINDOW bytes cut after a LF (one
    // string, as before, for a body up to that size): a bigger string is made in V8's
    // large-object space on fresh pages each time (layout.ts).
    for (let w = layout.textStart; w < len; ) {
      const wEnd = windowEnd(body, w, len, this.windowBytes);
      const text = body.toString('latin1', w, wEnd);
      const end = text.length;
      this.texts.push({ text, region: new Uint8Array(memory, at0 + w, wEnd - w), first: start + n });
      // Escapes in a base_id or timestamp: `slash` is the next backslash at or after the
      // field being read, searched natively and again only once passed, so the text is
      // scanned about once (a charCodeAt loop over each id cost ~30 instructions a character).
      let slash = nextSlash(text, 0, end);
      let pos = 0;
      while (pos < end) {
        if (n === count) return true;
        const lf = text.indexOf('\n', pos);
        if (lf < 0 || lf - pos < LINE_START.length + 2 || text.charCodeAt(lf - 1) !== CLOSE_BRACE) return true;
        const o = HEAD_INTS * (start + n);
        heads[o] = -1;
        heads[o + 4] = pos;
        heads[o + 5] = lf;
        if (src === null) {
          if (slash < pos) slash = nextSlash(text, pos, end);
          const how = readHead(dv, words, at0 + w, text, w, pos, end, slash, baseAt, lastBase.length);
          if (how !== NOT_LAID_OUT) {
            // HEAD: name's end, base_id, parent_id, timestamp (start, end each), INFO's start.
            if (how === NEW_BASE) {
              lastBase = text.slice(HEAD[1], HEAD[2]);
              baseAt = w + HEAD[1];
            }
            const k = start + n;
            baseIds[k] = lastBase;
            timestamps[k] = text.slice(HEAD[5], HEAD[6]);
            heads[o] = HEAD[0] - pos;
            heads[o + 1] = HEAD[3] - pos;
            heads[o + 2] = HEAD[4] - pos;
            heads[o + 3] = HEAD[7] - pos;
            n++;
            pos = lf + 1;
            continue;
          }
        }
        // The base_id and timestamp as the first `", "base_id": "` after the name and the
        // first `", "timestamp": "` after the base_id find them, by the quotes (headKeyAt, timestampKey).
        if (dv.getFloat64(w + pos, true) !== LINE_START_0 || dv.getUint16(w + pos + 8, true) !== LINE_START_8) return true;
        let b = text.indexOf('"', pos + LINE_START.length);
        if (b >= 0 && !headKeyAt(dv, w, b, end, KEY_BASE)) b = text.indexOf(BASE_KEY, b);
        if (b < 0 || b > lf) return true;
        const b0 = b + BASE_KEY.length;
        const b1 = text.indexOf('"', b0);
        const t = b1 < 0 ? -1 : timestampKey(dv, text, w, b1, end);
        const ts0 = t + TIMESTAMP_KEY.length;
        const ts1 = t < 0 ? -1 : text.indexOf('"', ts0);
        if (ts1 < 0 || ts1 > lf) return true;
        if (slash < b0) slash = nextSlash(text, b0, end);
        let escaped = slash < b1;
        if (!escaped) {
          if (slash < ts0) slash = nextSlash(text, ts0, end);
          escaped = slash < ts1;
        }
        if (escaped) {
          // An id or timestamp with escapes (never core's UUIDs): read them by parsing.
          const ev = parseStoredEvent(text.slice(pos, lf));
          if (ev === undefined || typeof ev.base_id !== 'string' || ev.base_id === '') return true;
          baseIds[start + n] = ev.base_id;
          timestamps[start + n] = String(ev.timestamp);
        } else {
          if (b1 === b0) return true; // empty base_id
          // The last base_id again (a trace's lines): compared in place, no slice.
          if (baseAt < 0 || b1 - b0 !== lastBase.length || !sameBytes(dv, w + b0, baseAt, b1 - b0)) {
            lastBase = text.slice(b0, b1);
            baseAt = w + b0;
          }
          baseIds[start + n] = lastBase;
          timestamps[start + n] = text.slice(ts0, ts1);
        }
        n++;
        pos = lf + 1;
      }
      w = wEnd;
    }
    if (n !== count) return true;
    this.points.pushBody(src, n);
    return false;
  }
}

/**
 * A line body of some points of `d` (positions `idx`, in that order), with an index
 * section when every one of them has an entry (copied by ref, no strings made).
 */
export function encodeLinesBody(d: { buffers: readonly Buffer[]; points: PointIndex }, idx: readonly number[], isError: (i: number) => boolean): Buffer {
  let bytes = 0;
  const errors: number[] = [];
  let ix: IndexCopier | undefined = new IndexCopier();
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    bytes += d.buffers[i].length + 1;
    if (isError(i)) errors.push(k);
    if (ix !== undefined) {
      const src = d.points.srcs[i];
      if (src === null) ix = undefined;
      else ix.add(src, d.points.pos[i]);
    }
  }
  const body = Buffer.allocUnsafe(5 + 4 * errors.length + (ix === undefined ? 0 : 4 + ix.bytes) + bytes);
  body[0] = ix === undefined ? MAGIC : MAGIC_INDEXED;
  let off = body.writeUInt32BE(errors.length, 1);
  for (const e of errors) off = body.writeUInt32BE(e, off);
  if (ix !== undefined) off = ix.write(body, body.writeUInt32BE(ix.bytes, off));
  for (const i of idx) {
    off += d.buffers[i].copy(body, off);
    body[off++] = LF;
  }
  return body;
}

/**
 * Several line bodies as one (error indexes shifted, texts one after the other), by
 * copying bytes: index sections are joined (string tables one after the other, refs
 * shifted) when every body has one, else the result is 'L'. Bodies must be line bodies.
 */
export function mergeLineBodies(bodies: readonly { count: number; body: Buffer }[]): Buffer {
  let errors = 0;
  let text = 0;
  let strings = 0;
  let tableBytes = 0;
  let indexed = true;
  const layouts: BodyLayout[] = [];
  for (const r of bodies) {
    const l = bodyLayout(r.body) as BodyLayout;
    layouts.push(l);
    errors += l.errors;
    text += r.body.length - l.textStart;
    // Only checked sections are joined (a bad ref shifted could land on another body's string).
    if (!indexed || l.textStart === l.indexStart || readIndex(r.body, l.indexStart, l.textStart, r.count) === undefined) indexed = false;
    else {
      strings += r.body.readUInt32BE(l.indexStart);
      tableBytes += l.textStart - l.indexStart - 4 - r.count * RECORD_BYTES;
    }
  }
  let count = 0;
  for (const r of bodies) count += r.count;
  const indexBytes = indexed ? 4 + 4 + tableBytes + count * RECORD_BYTES : 0;
  const out = Buffer.allocUnsafe(5 + 4 * errors + indexBytes + text);
  out[0] = indexed ? MAGIC_INDEXED : MAGIC;
  out.writeUInt32BE(errors, 1);
  let eo = 5;
  let base = 0;
  bodies.forEach((r, j) => {
    for (let k = 0; k < layouts[j].errors; k++) eo = out.writeUInt32BE(base + r.body.readUInt32BE(5 + 4 * k), eo);
    base += r.count;
  });
  let off = eo;
  if (indexed) {
    off = out.writeUInt32BE(indexBytes - 4, off);
    off = out.writeUInt32BE(strings, off);
    // The tables, one after the other…
    bodies.forEach((r, j) => {
      const l = layouts[j];
      off += r.body.copy(out, off, l.indexStart + 4, l.textStart - r.count * RECORD_BYTES);
    });
    // …then the records, each body's refs shifted past the strings before it (a ref the
    // receiver finds out of range makes it drop the merged index, as any bad section).
    let shift = 0;
    bodies.forEach((r, j) => {
      const l = layouts[j];
      const rec0 = l.textStart - r.count * RECORD_BYTES;
      for (let p = rec0; p < l.textStart; p += RECORD_BYTES) {
        out[off++] = r.body[p];
        for (let k = 0; k < 7; k++) {
          const ref = r.body.readUInt32BE(p + 1 + 4 * k);
          off = out.writeUInt32BE(ref === 0xffffffff ? ref : (ref + shift) >>> 0, off);
        }
      }
      shift += r.body.readUInt32BE(l.indexStart);
    });
  }
  for (let j = 0; j < bodies.length; j++) off += bodies[j].body.copy(out, off, layouts[j].textStart);
  return out;
}
