import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SHA1_IV, sha1Block } from '../src/sha1';

/** SHA-1 of `msg` from sha1Block: FIPS 180-4's padding, blocks read through a DataView. */
function sha1(msg: Uint8Array): string {
  const padded = new Uint8Array((msg.length + 72) & ~63);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor((msg.length * 8) / 2 ** 32));
  view.setUint32(padded.length - 4, (msg.length * 8) >>> 0);
  const h = Int32Array.from(SHA1_IV);
  for (let o = 0; o < padded.length; o += 64) sha1Block(h, view, o);
  const out = new DataView(new ArrayBuffer(20));
  for (let i = 0; i < 5; i++) out.setInt32(4 * i, h[i]);
  return Buffer.from(out.buffer).toString('hex');
}

describe('sha1Block: the SHA-1 compression written out round by round', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    expect(sha1(Buffer.from('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1(Buffer.from(''))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(sha1(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });

  it("equals node:crypto's SHA-1 for every length across four blocks, random bytes (all bits, high ones included)", () => {
    for (let n = 0; n <= 260; n++) {
      const msg = randomBytes(n);
      expect(sha1(msg), `length ${n}`).toBe(createHash('sha1').update(msg).digest('hex'));
    }
    // Bytes at the extremes: every word's sign bit set or none.
    for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
      const msg = Buffer.alloc(200, fill);
      expect(sha1(msg)).toBe(createHash('sha1').update(msg).digest('hex'));
    }
  });

  it('continues from a state it is given (a midstate), block by block', () => {
    const msg = randomBytes(64 * 5);
    const h = Int32Array.from(SHA1_IV);
    const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
    for (let o = 0; o < msg.length; o += 64) sha1Block(h, view, o);
    // The same state reached in two runs: after the first block, then the other four.
    const g = Int32Array.from(SHA1_IV);
    sha1Block(g, view, 0);
    const mid = Int32Array.from(g);
    for (let o = 64; o < msg.length; o += 64) sha1Block(mid, view, o);
    expect([...mid]).toEqual([...h]);
  });
});
