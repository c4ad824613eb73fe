// The upstream's reused zlib handles (src/upstream/deflate.ts): each deflated message must
// stay byte for byte what `deflateRawSync` makes (an independent raw DEFLATE body that any
// collector inflates alone), and inflate must answer — and fail — exactly as
// `inflateRawSync` does, also for the messages after a bad one.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { RawDeflater, RawInflater } from '../src/upstream/deflate';

function text(bytes: number, seed: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const s = `{"name": "p-${(i * seed) % 13}", "base_id": "${(i * 7919 + seed).toString(36)}", "info": {"n": ${i}}}\n`;
    parts.push(s);
    n += s.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes), 'latin1');
}

function outcome(f: () => Buffer): string {
  try {
    return `ok ${f().toString('base64')}`;
  } catch (err) {
    return `error ${(err as Error).message}`;
  }
}

describe('upstream zlib handles, reused between messages', () => {
  it('deflate: each message is what deflateRawSync makes, and inflates alone', () => {
    const d = new RawDeflater();
    const inputs = [text(90_000, 1), Buffer.alloc(0), text(1_500, 2), randomBytes(200_000), text(3 << 20, 3), text(90_000, 1)];
    for (const input of inputs) {
      const out = d.deflate(input);
      expect(out.equals(deflateRawSync(input, { level: 1 }))).toBe(true);
      expect(inflateRawSync(out).equals(input)).toBe(true);
    }
    d.close();
    // Usable again after close (a reopened upstream): a new handle.
    expect(d.deflate(inputs[0]).equals(deflateRawSync(inputs[0], { level: 1 }))).toBe(true);
  });

  it('inflate: same bodies and same errors as inflateRawSync, good messages still read after bad ones', () => {
    const f = new RawInflater();
    const plain = text(300_000, 4);
    const good = deflateRawSync(plain, { level: 1 });
    const cases: [Buffer, number, number][] = [
      [good, 1 << 26, 64 * 1024],
      [good.subarray(0, good.length - 5), 1 << 26, 64 * 1024], // truncated
      [Buffer.from('this is not a deflate body at all'), 1 << 26, 64 * 1024],
      [Buffer.alloc(0), 1 << 26, 64 * 1024],
      [good, 100_000, 64 * 1024], // inflates past the limit
      [good, 1 << 26, 1024], // many output chunks
      [Buffer.concat([good, Buffer.from('trailing')]), 1 << 26, 4 << 20],
      [deflateRawSync(randomBytes(50_000)), 1 << 26, 64 * 1024],
    ];
    for (const [body, max, chunk] of cases) {
      const mine = outcome(() => f.inflate(body, max, chunk));
      expect(mine).toBe(outcome(() => inflateRawSync(body, { maxOutputLength: max, chunkSize: chunk })));
      expect(f.inflate(good, 1 << 26, 64 * 1024).equals(plain)).toBe(true);
    }
    f.close();
  });
});
