/**
 * Reused memory for the client's BATCH frames. A frame of ~256 points is ~100 KB; a fresh
 * Buffer for each one cost the kernel its fresh pages on the way into the Unix socket
 * (writer to reader over a Unix socket, 100 KB writes: 0.50–0.62 µs of sys time a KB
 * from fresh Buffers, 0.23–0.28 from reused memory). Frames are carved one after the other
 * from a few slabs; a slab is written again only once nothing can read what it holds.
 *
 * Every frame from a slab holds one reference for its holder (the driver's `inflight` /
 * `resend`, released on the ACK or when replaced by a copy) and one for each socket write
 * not completed yet. A slab whose references are all gone is started over, on the same
 * pages. Bounded: at most MAX_SLABS slabs of SLAB_BYTES; a frame larger than a slab, or
 * with every slab busy, is a fresh Buffer as before (and is left to the GC).
 */

/** A slab's size: ten frames of 256 points, or one of ~2,600 (frames of the 5,000-point maximum go fresh). */
export const SLAB_BYTES = 1024 * 1024;
/** Slabs at most (4 MiB), against ~8 MB of frames held at the default 20,000 points in flight. */
export const MAX_SLABS = 4;

interface Slab {
  readonly buf: Buffer;
  /** Bytes handed out since the slab was last started over. */
  used: number;
  /** Frames and writes that may still read it. */
  refs: number;
  /** Bytes ever written (what a frame placed below this reuses). */
  high: number;
}

/** What the pool did (for tests and diagnostics). */
export interface FramePoolStats {
  /** Slabs made (never more than MAX_SLABS). */
  slabs: number;
  /** Frames placed in a slab. */
  pooled: number;
  /** Frames placed in a slab's memory that an earlier frame had used (the point of the pool). */
  reused: number;
  /** Frames given fresh memory: too large, or every slab busy. */
  fresh: number;
}

export class FramePool {
  readonly stats: FramePoolStats = { slabs: 0, pooled: 0, reused: 0, fresh: 0 };
  private readonly slabs: Slab[] = [];
  /** Slabs with no reference, ready to be started over. */
  private readonly free: Slab[] = [];
  private current: Slab | undefined;

  constructor(
    private readonly slabBytes = SLAB_BYTES,
    private readonly maxSlabs = MAX_SLABS,
  ) {}

  /** `bytes` of memory for one frame, holding one reference (its holder's) when it is from a slab. */
  alloc(bytes: number): Buffer {
    if (bytes > this.slabBytes) return this.allocFresh(bytes);
    let s = this.current;
    // Everything in it is acknowledged and written: start over on the same (warm) pages.
    if (s !== undefined && s.refs === 0) s.used = 0;
    if (s === undefined || s.used + bytes > this.slabBytes) {
      // The current slab (if any) goes back to `free` when its last reference is released.
      s = this.free.pop();
      if (s === undefined && this.slabs.length < this.maxSlabs) {
        s = { buf: Buffer.allocUnsafeSlow(this.slabBytes), used: 0, refs: 0, high: 0 };
        this.slabs.push(s);
        this.stats.slabs++;
      }
      this.current = s;
      if (s === undefined) return this.allocFresh(bytes);
      s.used = 0;
    }
    if (s.used < s.high) this.stats.reused++;
    const out = s.buf.subarray(s.used, s.used + bytes);
    s.used += bytes;
    if (s.used > s.high) s.high = s.used;
    s.refs++;
    this.stats.pooled++;
    return out;
  }

  /** References not released yet (0 once every pooled frame is acknowledged and written). */
  get held(): number {
    let n = 0;
    for (const s of this.slabs) n += s.refs;
    return n;
  }

  /** One more reader of `frame` (a socket write): `release` it when the write completes. No-op for fresh frames. */
  retain(frame: Buffer): boolean {
    const s = this.slabOf(frame);
    if (s === undefined) return false;
    s.refs++;
    return true;
  }

  /** One reader of `frame` is done with it. No-op for fresh frames. */
  release(frame: Buffer): void {
    const s = this.slabOf(frame);
    if (s === undefined || s.refs === 0) return;
    if (--s.refs === 0 && s !== this.current) this.free.push(s);
  }

  private slabOf(frame: Buffer): Slab | undefined {
    const ab = frame.buffer;
    for (const s of this.slabs) if (s.buf.buffer === ab) return s;
    return undefined;
  }

  private allocFresh(bytes: number): Buffer {
    this.stats.fresh++;
    return Buffer.allocUnsafe(bytes);
  }
}
