/**
 * RESP (Redis's wire protocol, version 2) for the redis:// driver's write path: a batch of
 * commands encoded into ONE Buffer, and a reply parser that takes the socket's chunks as
 * they come. ioredis builds a Command object, a promise and reply objects
 * per command; the write path needs none of that (./writer.ts): a warm agent's batches of
 * 1-point traces cost 57.8–60.1k client instructions a line through ioredis, 31.2–32.1k
 * this way (callgrind, tools/bench/redis-lines.cjs).
 */
import { createHash } from 'node:crypto';
import type { LinePlaces, NodeBuffer } from '@osprofiler/core/instrument';

const CR = 13;
const LF = 10;

/** A Lua script sent as EVALSHA: its SHA1 computed once. */
export class Script {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

/** Where an EVALSHA sits in an encoded batch, to send it again after SCRIPT LOAD (NOSCRIPT). */
export interface ScriptCall {
  /** The command's position in the batch (its reply's index). */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly script: Script;
}

// allocUnsafeSlow: never a slice of Node's shared pool, so a released batch's whole
// ArrayBuffer is ours to write again.
/** Buffers bigger than this are not kept for the next batch. */
const KEEP_MAX = 4 << 20;
/** Released buffers kept at most (RespEncoder.spares). */
const SPARES = 2;
/** Texts this short are written by str() in JavaScript while ASCII (shortAscii). */
const SHORT = 16;

/**
 * Encodes commands into one growing Buffer. `take()` hands the batch's bytes over; the
 * next batch reuses the same memory only after `release()` gave it back (the socket and a
 * NOSCRIPT resend may still read it until then).
 */
export class RespEncoder {
  private buf: NodeBuffer;
  private pos = 0;
  /**
   * Released batches' memory for the next ones: two, as the driver has two batches on the
   * wire at once (a batch's lines, then its search index made while Redis stores them).
   */
  private readonly spares: NodeBuffer[] = [];
  /** Commands encoded since the last take(). */
  count = 0;
  scripts: ScriptCall[] | undefined;

  constructor(initial = 64 << 10) {
    this.buf = Buffer.allocUnsafeSlow(initial) as NodeBuffer;
  }

  /** Starts a command of `argc` arguments (its name included). */
  command(argc: number): this {
    this.ensure(24);
    this.buf[this.pos++] = 42; // '*'
    this.int(argc);
    this.count++;
    return this;
  }

  /** A whole command of string/byte arguments. */
  call(...args: (string | Uint8Array)[]): this {
    this.command(args.length);
    for (const a of args) this.arg(a);
    return this;
  }

  arg(a: string | Uint8Array): this {
    return typeof a === 'string' ? this.str(a) : this.bytes(a);
  }

  /** A bulk string of the text's UTF-8 bytes (as ioredis sends strings). */
  str(s: string): this {
    const n = s.length;
    // Written for the common case, ASCII (core's lines: ensure_ascii), right after a header
    // of its length; when the bytes come out longer, the header is redone and the text
    // written again after it. One utf8Write costs less than Buffer.byteLength + a latin1
    // write (80 vs 68 + 58 ns for a 300-character line, Node 20).
    this.ensure(n * 3 + 32);
    const start = this.pos;
    this.buf[this.pos++] = 36; // '$'
    this.int(n);
    const at = this.pos;
    const bytes = n === 0 ? 0 : n <= SHORT ? this.shortAscii(s, at) : this.buf.utf8Write(s, at);
    if (bytes === n) {
      this.pos = at + n;
    } else {
      this.pos = start;
      this.buf[this.pos++] = 36;
      this.int(bytes < 0 ? Buffer.byteLength(s) : bytes);
      this.pos += this.buf.utf8Write(s, this.pos);
    }
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
    return this;
  }

  /**
   * A short text's characters written here while they are ASCII (command names, keys): a
   * utf8Write call costs ~1.2k instructions. Returns how many bytes it wrote: n, or -1 at
   * the first character past ASCII (then str() writes it with utf8Write).
   */
  private shortAscii(s: string, at: number): number {
    const buf = this.buf;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return -1;
      buf[at + i] = c;
    }
    return n;
  }

  /** A bulk string of these bytes, copied as they are. */
  bytes(b: Uint8Array): this {
    const n = b.length;
    this.ensure(n + 32);
    this.buf[this.pos++] = 36; // '$'
    this.int(n);
    this.buf.set(b, this.pos);
    this.pos += n;
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
    return this;
  }

  /**
   * Whole commands the caller framed itself (`*<argc>`, `$<length>` headers and CRLFs) as
   * one text, written with one utf8Write: a call costs ~1.2k instructions, more than framing
   * a short text in JavaScript (the search index's ~60 commands a batch). `ascii`: the
   * headers count characters, so the text must be all ASCII; when it is not, nothing is
   * written and false returned (frame it again counting bytes). `script`: the text's last
   * command, from `text[scriptAt]` on, is an EVALSHA of it, remembered for a resend after
   * SCRIPT LOAD (NOSCRIPT).
   */
  framedCommands(text: string, commands: number, ascii: boolean, script?: Script, scriptAt = 0): boolean {
    const n = text.length;
    this.ensure(n * 3);
    const start = this.pos;
    const bytes = this.buf.utf8Write(text, start);
    if (ascii && bytes !== n) return false;
    this.pos += bytes;
    this.count += commands;
    if (script !== undefined) {
      const at = start + (ascii ? scriptAt : Buffer.byteLength(text.slice(0, scriptAt)));
      (this.scripts ??= []).push({ index: this.count - 1, start: at, end: this.pos, script });
    }
    return true;
  }

  /**
   * `commands` whole commands of texts and byte arguments in turn: `text` up to `ends[0]`,
   * trace 0's lines as bulk strings, `text` up to `ends[1]`, trace 1's, …, then the rest of
   * `text`; trace k's lines are `lines` at positions [traceEnds[k - 1] (0 for k = 0),
   * traceEnds[k]) of `order` (of `lines` itself when null). The caller frames the text (all
   * ASCII: its headers count characters); it goes in with ONE utf8Write (a call costs ~1.2k
   * instructions: one a trace's LPUSH key before), written at the end of the room the whole
   * takes and moved into place piece by piece, each piece ahead of the bytes written before
   * it. False, and nothing kept, when the text is not all ASCII.
   */
  interleaved(text: string, ends: readonly number[], lines: readonly Uint8Array[], order: readonly number[] | null, traceEnds: readonly number[], commands: number): boolean {
    const h = text.length;
    const total = traceEnds.length === 0 ? 0 : traceEnds[traceEnds.length - 1];
    let room = h;
    for (let i = 0; i < total; i++) room += lines[order === null ? i : order[i]].length + 16; // `$`, the digits, two CRLFs
    // 32 more: bytes() asks for its value's length + 32, and must never move the buffer
    // (the staged text past `pos` would not be copied).
    this.ensure(room + 32);
    const stage = this.pos + room - h;
    if (this.buf.utf8Write(text, stage) !== h) return false;
    let from = 0;
    let i = 0;
    for (let k = 0; k < ends.length; k++) {
      const to = ends[k];
      this.buf.copyWithin(this.pos, stage + from, stage + to);
      this.pos += to - from;
      from = to;
      for (const last = traceEnds[k]; i < last; i++) this.bytes(lines[order === null ? i : order[i]]);
    }
    if (from < h) {
      this.buf.copyWithin(this.pos, stage + from, stage + h);
      this.pos += h - from;
    }
    this.count += commands;
    return true;
  }

  /**
   * As interleaved, the lines' bytes read where they are (LinePlaces: the agent's decoded
   * bodies) instead of from a Buffer a line (~100 bytes of V8's heap and ~0.4k instructions
   * each to make): a trace whose lines came together (`order` null, one region: one run of
   * bytes, lines apart by a LF) is copied in ONE piece, placed so that its last line lands
   * where it goes, the others then moved back into place by `copyWithin` (first first, so
   * nothing unread is written over) and their headers written in the gaps; other lines are
   * copied one by one through a view each.
   */
  interleavedPlaces(text: string, ends: readonly number[], lines: LinePlaces, order: readonly number[] | null, traceEnds: readonly number[], commands: number): boolean {
    const { regions, firsts, places, stride } = lines;
    const off = lines.at;
    const h = text.length;
    const total = traceEnds.length === 0 ? 0 : traceEnds[traceEnds.length - 1];
    let room = h;
    for (let i = 0; i < total; i++) {
      const p = stride * (order === null ? i : order[i]) + off;
      room += places[p + 1] - places[p] + 16; // `$`, the digits, two CRLFs
    }
    // As interleaved: the text staged at the end of the room, never overtaken.
    this.ensure(room + 32);
    const stage = this.pos + room - h;
    if (this.buf.utf8Write(text, stage) !== h) return false;
    const buf = this.buf;
    // Each region's memory and offset, read once (`buffer` is a getter V8 calls into C++ for).
    const memories: ArrayBufferLike[] = new Array<ArrayBufferLike>(regions.length);
    const bases: number[] = new Array<number>(regions.length);
    for (let q = 0; q < regions.length; q++) {
      memories[q] = regions[q].buffer;
      bases[q] = regions[q].byteOffset;
    }
    let from = 0;
    let i = 0;
    let r = 0;
    for (let k = 0; k < ends.length; k++) {
      const to = ends[k];
      buf.copyWithin(this.pos, stage + from, stage + to);
      this.pos += to - from;
      from = to;
      const last = traceEnds[k];
      if (order === null && last - i > 1) {
        if (i < firsts[r] || (r + 1 < firsts.length && i >= firsts[r + 1])) r = regionOf(firsts, i);
        if (r + 1 >= firsts.length || last <= firsts[r + 1]) {
          this.run(memories[r], bases[r], places, stride, off, i, last);
          i = last;
          continue;
        }
      }
      for (; i < last; i++) {
        const line = order === null ? i : order[i];
        if (line < firsts[r] || (r + 1 < firsts.length && line >= firsts[r + 1])) r = regionOf(firsts, line);
        const p = stride * line + off;
        this.bytes(new Uint8Array(memories[r], bases[r] + places[p], places[p + 1] - places[p]));
      }
    }
    if (from < h) {
      buf.copyWithin(this.pos, stage + from, stage + h);
      this.pos += h - from;
    }
    this.count += commands;
    return true;
  }

  /** Lines [i, last) of `region` (one after the other there, apart by a LF) as bulk strings (interleavedPlaces). */
  private run(memory: ArrayBufferLike, base: number, places: Int32Array, stride: number, off: number, i: number, last: number): void {
    const m = last - i;
    if (RUN_AT.length < 2 * m) RUN_AT = new Int32Array(4 * m);
    const at = RUN_AT;
    // Where each line's header (at 2j + 1) and bytes (at 2j) go: `$`, its length's digits, CRLF.
    let q = this.pos;
    for (let j = 0; j < m; j++) {
      const p = stride * (i + j) + off;
      const n = places[p + 1] - places[p];
      at[2 * j + 1] = q;
      q += n < 10 ? 4 : n < 100 ? 5 : n < 1000 ? 6 : 3 + digits(n);
      at[2 * j] = q;
      q += n + 2;
    }
    const buf = this.buf;
    const a0 = places[stride * i + off];
    const pl = stride * (last - 1) + off;
    // The whole run, its last line where it goes; each other line then lies past its place
    // (by its later lines' headers: 1 + digits + 1 bytes more than a LF each), and is moved
    // back into it first line first, so no move writes over bytes still to be read.
    const out = at[2 * m - 2] - (places[pl] - a0);
    buf.set(new Uint8Array(memory, base + a0, places[pl + 1] - a0), out);
    for (let j = 0; j < m - 1; j++) {
      const p = stride * (i + j) + off;
      const src = out + places[p] - a0;
      buf.copyWithin(at[2 * j], src, src + places[p + 1] - places[p]);
    }
    for (let j = 0; j < m; j++) {
      const p = stride * (i + j) + off;
      const n = places[p + 1] - places[p];
      this.pos = at[2 * j + 1];
      buf[this.pos++] = 36; // '$'
      this.int(n);
      const e = at[2 * j] + n;
      buf[e] = CR;
      buf[e + 1] = LF;
    }
    this.pos = q;
  }

  /** The bytes of what was encoded since the last take(); the memory is this batch's until release(). */
  take(): { bytes: Buffer; commands: number; scripts: ScriptCall[] | undefined } {
    const out = { bytes: this.buf.subarray(0, this.pos), commands: this.count, scripts: this.scripts };
    const next = this.spares.pop();
    // Never more than KEEP_MAX: one burst's batch (an agent's 2,000-point writes grew it to
    // 12.5 MB) would otherwise be allocated again for every later batch, since release()
    // does not keep it — 125 MB/s at 10 small batches a second, a scavenge every ~150 ms
    // and a mark-compact every ~300 ms for "external memory pressure".
    this.buf = next ?? (Buffer.allocUnsafeSlow(Math.min(this.buf.length, KEEP_MAX)) as NodeBuffer);
    this.pos = 0;
    this.count = 0;
    this.scripts = undefined;
    return out;
  }

  /** Gives a taken batch's memory back for the next batch. */
  release(bytes: Buffer): void {
    const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.buffer.byteLength - bytes.byteOffset) as NodeBuffer;
    if (whole.length > KEEP_MAX || whole.length < 1024) return;
    const spares = this.spares;
    if (spares.length < SPARES) spares.push(whole);
    else if (spares[0].length < whole.length) spares[0] = whole;
  }

  /** Drops what was encoded since the last take() (a batch that failed to encode). */
  reset(): void {
    this.pos = 0;
    this.count = 0;
    this.scripts = undefined;
  }

  /**
   * A non-negative integer's digits and CRLF (room for them was ensured), written here: a
   * latin1Write of String(n) (every line's length header) cost ~600 instructions a line.
   */
  private int(n: number): void {
    const buf = this.buf;
    let p = this.pos;
    if (n < 10) {
      buf[p++] = 48 + n;
    } else {
      let digits = 1;
      for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
      p += digits;
      let q = p;
      let m = n;
      while (m > 0) {
        buf[--q] = 48 + (m % 10);
        m = Math.floor(m / 10);
      }
    }
    buf[p++] = CR;
    buf[p++] = LF;
    this.pos = p;
  }

  private ensure(more: number): void {
    if (this.pos + more <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + more)) as NodeBuffer;
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** Where interleavedPlaces' runs put each line (grown as needed). */
let RUN_AT = new Int32Array(64);

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) d++;
  return d;
}

/** The region of line `line`: the last whose first line is at or before it. */
function regionOf(firsts: readonly number[], line: number): number {
  let lo = 0;
  let hi = firsts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (firsts[mid] <= line) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** An error reply (`-ERR …`): the server refused one command. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

export type Reply = string | number | null | RedisReplyError | Reply[];

/** Thrown by the parser on bytes that are not RESP: the connection cannot be trusted further. */
export class RespProtocolError extends Error {}

/** Marks "this reply is not complete in the bytes at hand". */
const INCOMPLETE = -1;

/**
 * RESP 2 replies from a socket's 'data' chunks, a reply split anywhere across them:
 * simple strings, errors, integers, bulk strings (as UTF-8 text; null for `$-1`), arrays
 * (nested; null for `*-1`). `onReply` gets each complete top-level reply in order.
 * An incomplete reply is parsed again from its start when more bytes come (the write
 * path's replies are a few bytes; a large one split in many chunks costs more).
 */
export class RespParser {
  private rest: Buffer | undefined;
  private value: Reply = null;

  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: Buffer): void {
    const buf = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const end = this.parse(buf, pos);
      if (end === INCOMPLETE) {
        this.rest = Buffer.from(buf.subarray(pos)); // a copy: the chunk is not kept whole
        return;
      }
      pos = end;
      this.onReply(this.value);
    }
  }

  /** Parses one reply at `pos` into this.value; its end, or INCOMPLETE. */
  private parse(buf: Buffer, pos: number): number {
    const lineEnd = buf.indexOf(LF, pos + 1);
    if (lineEnd === -1) return INCOMPLETE;
    if (buf[lineEnd - 1] !== CR) throw new RespProtocolError(`RESP: a line without CR at ${lineEnd}`);
    const type = buf[pos];
    switch (type) {
      case 43: // '+'
        this.value = buf.toString('latin1', pos + 1, lineEnd - 1);
        return lineEnd + 1;
      case 45: // '-'
        this.value = new RedisReplyError(buf.toString('utf8', pos + 1, lineEnd - 1));
        return lineEnd + 1;
      case 58: // ':'
        this.value = integer(buf, pos + 1, lineEnd - 1);
        return lineEnd + 1;
      case 36: {
        // '$'
        const n = integer(buf, pos + 1, lineEnd - 1);
        if (n < 0) {
          this.value = null;
          return lineEnd + 1;
        }
        const end = lineEnd + 1 + n;
        if (end + 2 > buf.length) return INCOMPLETE;
        this.value = buf.toString('utf8', lineEnd + 1, end);
        return end + 2;
      }
      case 42: {
        // '*'
        const n = integer(buf, pos + 1, lineEnd - 1);
        if (n < 0) {
          this.value = null;
          return lineEnd + 1;
        }
        const items: Reply[] = new Array<Reply>(n);
        let at = lineEnd + 1;
        for (let i = 0; i < n; i++) {
          if (at >= buf.length) return INCOMPLETE;
          at = this.parse(buf, at);
          if (at === INCOMPLETE) return INCOMPLETE;
          items[i] = this.value;
        }
        this.value = items;
        return at;
      }
      default:
        throw new RespProtocolError(`RESP: unexpected type byte ${type} at ${pos}`);
    }
  }
}

/** The decimal integer in buf[from, to). */
function integer(buf: Buffer, from: number, to: number): number {
  let neg = false;
  let i = from;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) throw new RespProtocolError(`RESP: not an integer at ${from}`);
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
