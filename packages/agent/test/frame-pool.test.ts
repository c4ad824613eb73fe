// The client's frame memory (client/framepool.ts): frames carved from a few slabs, a slab
// written again only once every frame and write in it is released; bounded, with a fresh
// Buffer when nothing fits. (frame-pool.redis.test.ts runs it under a real agent.)
import { describe, expect, it } from 'vitest';
import { FramePool, MAX_SLABS, SLAB_BYTES } from '../src/client/framepool';

describe('FramePool', () => {
  it('carves frames one after the other and starts the slab over once all are released', () => {
    const pool = new FramePool(1000, 2);
    const a = pool.alloc(300);
    const b = pool.alloc(300);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 300);
    a.fill(1);
    b.fill(2);
    pool.release(a);
    // b still holds the slab: the next frame goes after it, a's bytes are not reused yet.
    const c = pool.alloc(300);
    expect(c.byteOffset).toBe(b.byteOffset + 300);
    expect(b.every((x) => x === 2)).toBe(true);
    pool.release(b);
    pool.release(c);
    expect(pool.held).toBe(0);
    const d = pool.alloc(300);
    expect(d.buffer).toBe(a.buffer);
    expect(d.byteOffset).toBe(a.byteOffset); // the same (warm) memory
    expect(pool.stats).toEqual({ slabs: 1, pooled: 4, reused: 1, fresh: 0 });
  });

  it('keeps a frame under a pending write even after its holder released it', () => {
    const pool = new FramePool(1000, 1);
    const a = pool.alloc(600);
    expect(pool.retain(a)).toBe(true); // socket.write in progress
    pool.release(a); // the ACK
    const b = pool.alloc(600); // does not fit after a, and the only slab is busy: fresh
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.stats.fresh).toBe(1);
    expect(pool.retain(b)).toBe(false); // fresh frames are not tracked
    pool.release(b);
    pool.release(a); // the write completed
    expect(pool.held).toBe(0);
    expect(pool.alloc(600).buffer).toBe(a.buffer);
  });

  it('moves to another slab when the frame does not fit, and back to a released one', () => {
    const pool = new FramePool(1000, 2);
    const a = pool.alloc(700);
    const b = pool.alloc(700); // second slab
    expect(b.buffer).not.toBe(a.buffer);
    pool.release(a); // first slab free (not current)
    const c = pool.alloc(700); // does not fit after b: the free first slab, from its start
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(pool.stats.slabs).toBe(2);
  });

  it('is bounded: never more than maxSlabs, frames larger than a slab are fresh', () => {
    const pool = new FramePool();
    const held: Buffer[] = [];
    for (let i = 0; i < 3 * MAX_SLABS; i++) held.push(pool.alloc(SLAB_BYTES / 2 + 1));
    expect(pool.stats.slabs).toBe(MAX_SLABS);
    expect(pool.stats.pooled).toBe(MAX_SLABS);
    expect(pool.stats.fresh).toBe(2 * MAX_SLABS);
    const big = pool.alloc(SLAB_BYTES + 1);
    expect(big.length).toBe(SLAB_BYTES + 1);
    expect(pool.stats.fresh).toBe(2 * MAX_SLABS + 1);
    for (const f of held) pool.release(f);
    expect(pool.held).toBe(0);
  });
});
