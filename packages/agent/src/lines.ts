/**
 * The raw body of a BATCH frame: the points exactly as the store will hold them, so the
 * agent forwards them to a text-storing driver without parsing or re-serialising.
 *
 *   body = 'L'  u32 E  E × u32 (indexes of error points)  text
 *   text = line LF line LF …   (exactly `count` lines)
 *
 * Each line is Python's `json.dumps` of the notification with the wire's key order
 * (`{"name": "…", "base_id": "…", "trace_id": …, "parent_id": …, "timestamp": "…", …`),
 * ASCII only (ensure_ascii), so it holds no raw LF. The client writes core's batch text in
 * one piece; the agent finds each line's base_id and timestamp by position (a string's
 * content never holds an unescaped `"`, so the first `", "base_id": "` after the name is
 * the key). Error points are listed up front because the error index needs them.
 * PROTOCOL.md describes it for other clients.
 */
import { pyDumps } from '@osprofiler/core';
import { parseStoredEvent } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';
import { BATCH_BODY_OFFSET, allocBatchFrame } from './protocol';

const MAGIC = 0x4c; // 'L'
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
const LINE_START = Buffer.from('{"name": "', 'latin1');
const BASE_KEY = Buffer.from('", "base_id": "', 'latin1');
const TIMESTAMP_KEY = Buffer.from('", "timestamp": "', 'latin1');

/** One notification as a line, in the wire's key order whatever order the object has. */
export function notificationText(n: Notification): string {
  const { name, base_id, trace_id, parent_id, timestamp, info, project, service, ...rest } = n as Notification & Record<string, unknown>;
  return pyDumps({ name, base_id, trace_id, parent_id, timestamp, info, project, service, ...rest });
}

/** A text to send: `text` holds `count` lines; `errors` are indexes within it. */
export interface TextPart {
  text: string;
  count: number;
  errors: readonly number[] | null;
}

/** One whole BATCH frame (length prefix, type, client id, seq, count, body) for `parts`. */
export function encodeLineBatch(clientId: Buffer, seq: number, parts: readonly TextPart[]): { frame: Buffer; count: number } {
  let count = 0;
  let errors = 0;
  let textBytes = 0;
  for (const p of parts) {
    count += p.count;
    errors += p.errors === null ? 0 : p.errors.length;
    textBytes += p.text.length; // ASCII: one byte per character
  }
  const out = allocBatchFrame(clientId, seq, count, 5 + 4 * errors + textBytes);
  let off = BATCH_BODY_OFFSET;
  out[off++] = MAGIC;
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
  for (const p of parts) off += out.write(p.text, off, 'latin1');
  return { frame: out, count };
}

/** Whether a body is in this format (a JSON-array body, the older format, starts with `[`). */
export function isLinesBody(body: Buffer): boolean {
  return body.length >= 5 && body[0] === MAGIC && body[body.length - 1] === LF;
}

/** Whether `byte` occurs in body[from, to) (a short range: indexOf would scan the whole body). */
function hasByte(body: Buffer, byte: number, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (body[i] === byte) return true;
  return false;
}

/** Points decoded from bodies, appended to; `lines` are made from `buffers` on first use. */
export class DecodedLines implements LineBatch {
  readonly baseIds: string[] = [];
  readonly timestamps: string[] = [];
  readonly buffers: Buffer[] = [];
  private errorIndexes: number[] = [];
  private strings: string[] | undefined;

  get count(): number {
    return this.buffers.length;
  }

  get lines(): readonly string[] {
    return (this.strings ??= this.buffers.map((b) => b.toString('latin1')));
  }

  get errors(): Uint8Array | null {
    if (this.errorIndexes.length === 0) return null;
    const e = new Uint8Array(this.buffers.length);
    for (const i of this.errorIndexes) e[i] = 1;
    return e;
  }

  /**
   * Appends the `count` points of a raw body; false (and nothing appended) when it is not
   * exactly that many well-formed lines: the batch is then dropped and counted.
   */
  append(body: Buffer, count: number): boolean {
    const start = this.buffers.length;
    const errStart = this.errorIndexes.length;
    let failed = true;
    try {
      failed = !isLinesBody(body) || this.decode(body, count);
    } catch {
      failed = true; // never let a body from a socket throw
    }
    if (!failed) return true;
    this.baseIds.length = start;
    this.timestamps.length = start;
    this.buffers.length = start;
    this.errorIndexes.length = errStart;
    this.strings = undefined;
    return false;
  }

  /** True when the body did NOT decode (so `append` rolls back). */
  private decode(body: Buffer, count: number): boolean {
    const start = this.buffers.length;
    const e = body.readUInt32BE(1);
    let pos = 5 + 4 * e;
    if (e > count || pos > body.length) return true;
    for (let k = 0; k < e; k++) {
      const i = body.readUInt32BE(5 + 4 * k);
      if (i >= count) return true;
      this.errorIndexes.push(start + i);
    }
    let n = 0;
    while (pos < body.length) {
      if (n === count) return true;
      const lf = body.indexOf(LF, pos);
      if (lf < 0 || lf - pos < LINE_START.length + 2 || body[lf - 1] !== CLOSE_BRACE || body.compare(LINE_START, 0, LINE_START.length, pos, pos + LINE_START.length) !== 0) return true;
      const b = body.indexOf(BASE_KEY, pos + LINE_START.length);
      if (b < 0 || b > lf) return true;
      const b0 = b + BASE_KEY.length;
      const b1 = body.indexOf(QUOTE, b0);
      const t = b1 < 0 ? -1 : body.indexOf(TIMESTAMP_KEY, b1);
      const t0 = t + TIMESTAMP_KEY.length;
      const t1 = t < 0 ? -1 : body.indexOf(QUOTE, t0);
      if (t1 < 0 || t1 > lf) return true;
      if (hasByte(body, BACKSLASH, b0, b1) || hasByte(body, BACKSLASH, t0, t1)) {
        // An id or timestamp with escapes (never core's UUIDs): read them by parsing.
        const ev = parseStoredEvent(body.toString('latin1', pos, lf));
        if (ev === undefined || typeof ev.base_id !== 'string' || ev.base_id === '') return true;
        this.baseIds.push(ev.base_id);
        this.timestamps.push(String(ev.timestamp));
      } else {
        if (b1 === b0) return true; // empty base_id
        this.baseIds.push(body.toString('latin1', b0, b1));
        this.timestamps.push(body.toString('latin1', t0, t1));
      }
      this.buffers.push(body.subarray(pos, lf));
      this.strings = undefined;
      n++;
      pos = lf + 1;
    }
    return n !== count;
  }
}
