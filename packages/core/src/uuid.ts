/**
 * UUIDv4 ids for trace points, made in batches: one `randomFillSync` for BATCH ids, the
 * text of all of them written at once into one latin-1 string, each id a slice of it.
 * Node's `randomUUID()` concatenates 20 short strings per id (a rope, flattened again
 * when the line is built) after its options checks; a slice is flat and costs one
 * substring. Same randomness (the CSPRNG, 122 random bits, RFC 4122 version and variant).
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const random = Buffer.allocUnsafe(16 * BATCH);
const hex = Buffer.allocUnsafe(32 * BATCH);
const text = Buffer.allocUnsafe(36 * BATCH);
for (let k = 0; k < BATCH; k++) for (const d of [8, 13, 18, 23]) text[k * 36 + d] = 45; // '-'
let ids = '';
let next = BATCH;

// Measured under callgrind (tools/bench/compare, perf map): a JS loop writing two hex
// digits per random byte cost ~1.2k instructions an id; hex-encoding natively and moving
// the digits between the fixed dashes costs a few hundred.
function refill(): void {
  randomFillSync(random);
  for (let k = 0; k < BATCH; k++) {
    random[k * 16 + 6] = (random[k * 16 + 6] & 0x0f) | 0x40; // version 4
    random[k * 16 + 8] = (random[k * 16 + 8] & 0x3f) | 0x80; // variant 10xx
  }
  hex.write(random.toString('hex'), 0, 'latin1');
  for (let k = 0, s = 0, d = 0; k < BATCH; k++) {
    for (let e = s + 8; s < e; ) text[d++] = hex[s++];
    d++;
    for (let j = 0; j < 3; j++, d++) {
      text[d++] = hex[s++];
      text[d++] = hex[s++];
      text[d++] = hex[s++];
      text[d++] = hex[s++];
    }
    for (let e = s + 12; s < e; ) text[d++] = hex[s++];
  }
  ids = text.toString('latin1');
  next = 0;
}

/** A random UUIDv4, lowercase, as `crypto.randomUUID()` writes it. */
export function uuid4(): string {
  if (next === BATCH) refill();
  const o = next++ * 36;
  return ids.slice(o, o + 36);
}
