/**
 * Raw DEFLATE and inflate through one zlib handle kept for the publisher's (or the
 * collector's) life and reset between messages, instead of `deflateRawSync` /
 * `inflateRawSync`'s new handle and stream object a message. Each deflated body is still a
 * whole, independent raw DEFLATE body, byte for byte what `deflateRawSync` makes (tested),
 * which any collector inflates alone: the wire does not change. A new deflate handle cost
 * ~194k instructions a message (mostly zeroing its window and tables), and a zlib stream
 * object ~75k; a reset clears the hash table alone (tools/bench/collector-ir.cjs).
 *
 * Node's sync API closes its handle after each call, so this drives the handle the way
 * `zlib.deflateRawSync` does inside (`_handle.writeSync` and `_writeState`, unchanged
 * since Node 10). Whatever is unexpected falls back to Node's own sync function for that
 * message, so it behaves (and fails, with the same error) exactly as before: those
 * internals missing (then for good), a zlib error (a bad body: the handle is dropped and
 * the next message gets a new one), output past `maxOutputLength`.
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Transform } from 'node:stream';

const LEVEL = 1;
/** Deflate's output chunk: the bench's 87 KB bodies deflate to ~6 KB, so one chunk almost always holds a message. */
const DEFLATE_CHUNK = 64 * 1024;

interface Handle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
}

/** One reusable raw zlib handle; `run` is undefined where Node's own sync function must answer instead. */
class ReusedHandle {
  private z: Transform | undefined;
  private handle: Handle | undefined;
  private state: Uint32Array | undefined;
  private unsupported = false;

  constructor(private readonly make: () => Transform) {}

  /**
   * All of `input` through the handle with Z_FINISH: one Buffer (`scratch` given: copied
   * out of it; else fresh `chunk`-byte chunks, a single one returned as it is), or
   * undefined to let Node's sync function do it.
   */
  run(input: Uint8Array, chunk: number, maxOutput: number, scratch?: Buffer): Buffer | undefined {
    if (this.unsupported) return undefined;
    try {
      return this.pass(input, chunk, maxOutput, scratch);
    } catch {
      this.close();
      return undefined;
    }
  }

  close(): void {
    const z = this.z;
    this.z = this.handle = this.state = undefined;
    z?.destroy();
  }

  private open(): Handle | undefined {
    const z = this.make();
    const internal = z as unknown as { _handle?: Handle; _writeState?: Uint32Array };
    if (typeof internal._handle?.writeSync !== 'function' || typeof internal._handle.reset !== 'function' || !(internal._writeState instanceof Uint32Array)) {
      this.unsupported = true;
      z.destroy();
      return undefined;
    }
    z.on('error', () => {}); // a zlib error destroys the stream (seen below): never unhandled
    this.z = z;
    this.state = internal._writeState;
    return (this.handle = internal._handle);
  }

  private pass(input: Uint8Array, chunk: number, maxOutput: number, scratch: Buffer | undefined): Buffer | undefined {
    const h = this.handle ?? this.open();
    if (h === undefined) return undefined;
    const z = this.z as Transform;
    const state = this.state as Uint32Array;
    let chunks: Buffer[] | undefined;
    let total = 0;
    let inOff = 0;
    let inLen = input.length;
    for (;;) {
      const out = scratch ?? Buffer.allocUnsafe(chunk);
      h.writeSync(constants.Z_FINISH, input, inOff, inLen, out, 0, chunk);
      if (z.destroyed) {
        // zlib refused the input: Node's sync function says why, as it always did.
        this.close();
        return undefined;
      }
      const availOut = state[0];
      const availIn = state[1];
      const have = chunk - availOut;
      total += have;
      if (total > maxOutput) {
        this.close();
        return undefined;
      }
      let piece: Buffer;
      if (scratch === undefined) piece = have === chunk ? out : out.subarray(0, have);
      else {
        piece = Buffer.allocUnsafe(have);
        scratch.copy(piece, 0, 0, have);
      }
      if (availOut !== 0) {
        h.reset();
        if (chunks === undefined) return piece;
        chunks.push(piece);
        return Buffer.concat(chunks, total);
      }
      (chunks ??= []).push(piece);
      inOff += inLen - availIn;
      inLen = availIn;
    }
  }
}

/** Raw DEFLATE at level 1 (the upstream's schema 3) through one reused handle. */
export class RawDeflater {
  private readonly h = new ReusedHandle(() => createDeflateRaw({ level: LEVEL }));
  private scratch: Buffer | undefined;

  deflate(input: Uint8Array): Buffer {
    return this.h.run(input, DEFLATE_CHUNK, Infinity, (this.scratch ??= Buffer.allocUnsafe(DEFLATE_CHUNK))) ?? deflateRawSync(input, { level: LEVEL });
  }

  close(): void {
    this.h.close();
  }
}

/** Raw inflate through one reused handle: as `inflateRawSync(input, { maxOutputLength, chunkSize })`, and throws as it does. */
export class RawInflater {
  private readonly h = new ReusedHandle(() => createInflateRaw());

  inflate(input: Uint8Array, maxOutputLength: number, chunkSize: number): Buffer {
    return this.h.run(input, chunkSize, maxOutputLength) ?? inflateRawSync(input, { maxOutputLength, chunkSize });
  }

  close(): void {
    this.h.close();
  }
}
