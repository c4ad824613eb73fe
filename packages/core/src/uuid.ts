/**
 * UUIDv4 ids for trace points, made in batches: one `randomFillSync` for BATCH ids, the
 * text of all of them written at once into one latin-1 string, each id a slice of it.
 * Node's `randomUUID()` concatenates 20 short strings per id (a rope, flattened again
 * when the line is built) after its options checks; a slice is flat and costs one
 * substring. Same randomness (the CSPRNG, 122 random bits, RFC 4122 version and variant).
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const HEX = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX[i] = '0123456789abcdef'.charCodeAt(i);

const random = new Uint8Array(16 * BATCH);
const text = Buffer.allocUnsafe(36 * BATCH);
let ids = '';
let next = BATCH;

function refill(): void {
  randomFillSync(random);
  let o = 0;
  for (let k = 0; k < BATCH; k++) {
    const r = k * 16;
    random[r + 6] = (random[r + 6] & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8] & 0x3f) | 0x80; // variant 10xx
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 45; // '-'
      const b = random[r + i];
      text[o++] = HEX[b >> 4];
      text[o++] = HEX[b & 15];
    }
  }
  ids = text.toString('latin1', 0, o);
  next = 0;
}

/** A random UUIDv4, lowercase, as `crypto.randomUUID()` writes it. */
export function uuid4(): string {
  if (next === BATCH) refill();
  const o = next++ * 36;
  return ids.slice(o, o + 36);
}
