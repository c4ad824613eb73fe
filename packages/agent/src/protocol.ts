/**
 * The wire protocol between `agent://` clients and the agent (described in PROTOCOL.md).
 *
 * Every frame: u32 big-endian length of what follows, u8 type, payload. A length above
 * the receiver's maximum, an unknown type or a payload that does not parse is a bad frame.
 */

export const PROTOCOL_VERSION = 1;
/** Frames larger than this are refused (the agent's limit is announced in WELCOME). */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

export const FrameType = {
  /** client → agent, JSON `{"v":1,"client":"<32 hex>","pid":N}` */
  HELLO: 1,
  /** agent → client, JSON `{"v":1,"maxFrameBytes":N,"pid":N}` */
  WELCOME: 2,
  /** client → agent: 16-byte client id, u32 seq, u32 point count, the points (line records, or a JSON array) */
  BATCH: 3,
  /** agent → client: u32 seq (that batch is written to the backend or an fsynced spool) */
  ACK: 4,
  /** either way, JSON `{"code":"…","message":"…"}`; the sender closes after it */
  ERROR: 5,
  /** client → agent, JSON `{"id":N,"op":"getReport"|"listTraces"|"listErrorTraces","args":[…]}` */
  REQUEST: 6,
  /** agent → client, JSON `{"id":N,"ok":true,"result":…}` or `{"id":N,"ok":false,"error":"…"}` */
  RESPONSE: 7,
} as const;

export const BATCH_HEADER_BYTES = 16 + 4 + 4;
/** Where a BATCH frame's body starts: length prefix, type, header. */
export const BATCH_BODY_OFFSET = 5 + BATCH_HEADER_BYTES;

/** One whole frame: length prefix, type, payload. */
export function encodeFrame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = type;
  body.copy(out, 5);
  return out;
}

/**
 * A BATCH frame with its header written and `bodyBytes` left for the body, at
 * BATCH_BODY_OFFSET. Fresh memory per frame on purpose: frames carved from a few reused
 * slabs (released on the ACK and after the write) were measured in session 8 and did not
 * pay: the kernel's copy into the socket (`_copy_from_iter`) stayed ~0.5 µs a request on
 * the compare app's traced /nested either way, server CPU and the client's system time
 * unchanged within the noise (tools/bench/README.md, issue 15).
 */
export function allocBatchFrame(clientId: Buffer, seq: number, count: number, bodyBytes: number): Buffer {
  const out = Buffer.allocUnsafe(BATCH_BODY_OFFSET + bodyBytes);
  // The header written by byte stores and a typed-array set, not Node's writeUInt32BE and
  // Buffer#copy (argument checks in JavaScript): the client's flush path runs rarely, in
  // baseline code, where those cost ~1.5k and ~2.6k instructions a call against ~0.3k and
  // ~0.1k here (callgrind, session 16, branch flush).
  putUInt32BE(out, 1 + BATCH_HEADER_BYTES + bodyBytes, 0);
  out[4] = FrameType.BATCH;
  out.set(clientId.length > 16 ? clientId.subarray(0, 16) : clientId, 5);
  putUInt32BE(out, seq, 21);
  putUInt32BE(out, count, 25);
  return out;
}

/** `v` as 4 big-endian bytes at `off` (a typed-array store keeps the low 8 bits). */
function putUInt32BE(out: Buffer, v: number, off: number): void {
  out[off] = v >>> 24;
  out[off + 1] = v >>> 16;
  out[off + 2] = v >>> 8;
  out[off + 3] = v;
}

/** A BATCH frame; `body` is its records (lines.ts) or, in the older format, a JSON array of notifications. */
export function encodeBatch(clientId: Buffer, seq: number, count: number, body: string): Buffer {
  const out = allocBatchFrame(clientId, seq, count, Buffer.byteLength(body, 'utf8'));
  out.write(body, BATCH_BODY_OFFSET, 'utf8');
  return out;
}

export function encodeAck(seq: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out.writeUInt32BE(5, 0);
  out[4] = FrameType.ACK;
  out.writeUInt32BE(seq >>> 0, 5);
  return out;
}

export interface Frame {
  type: number;
  payload: Buffer;
}

/**
 * Splits a byte stream into frames. `push` returns the complete frames; a length of 0 or
 * above `maxFrameBytes` makes the reader fail for good (the stream is out of sync).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set once the stream is out of sync; the connection must be closed. */
  failure: string | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes the frame being received needs in all (prefix included); 0 when unknown. */
  private need = 0;

  push(chunk: Buffer): Frame[] {
    if (this.failure !== undefined) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    // A large frame arrives in many chunks: join them once, when it is complete.
    if (this.buffered < 4 || this.buffered < this.need) return frames;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    let off = 0;
    this.need = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (len === 0 || len > this.maxFrameBytes + 1) {
        this.failure = len === 0 ? 'empty frame' : `frame of ${len} bytes exceeds the maximum of ${this.maxFrameBytes}`;
        this.chunks = [];
        this.buffered = 0;
        return frames;
      }
      if (buf.length - off - 4 < len) {
        this.need = 4 + len;
        break;
      }
      frames.push({ type: buf[off + 4], payload: buf.subarray(off + 5, off + 4 + len) });
      off += 4 + len;
    }
    // The usual case, whole frames only: nothing kept, no empty Buffer made (one a push before).
    this.chunks.length = 0;
    this.buffered = buf.length - off;
    if (this.buffered > 0) this.chunks.push(off === 0 ? buf : buf.subarray(off));
    return frames;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }
}

/** A JSON object payload, or undefined. */
export function parseJsonObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
