/**
 * UUIDv4 ids for trace points, made in batches: one `randomFillSync` for BATCH ids, the
 * text of all of them written at once, parsed into strings in one call.
 * Node's `randomUUID()` concatenates 20 short strings per id (a rope, flattened again
 * when the line is built) after its options checks.
 * Same randomness (the CSPRNG, 122 random bits, RFC 4122 version and variant).
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const SLOT = 39; // "<36 chars>",
const random = Buffer.allocUnsafe(16 * BATCH);
const hex = Buffer.allocUnsafe(32 * BATCH);
// The batch as a JSON array of strings: `["id","id",…]`, the quotes, commas and dashes fixed.
const text = Buffer.alloc(SLOT * BATCH + 1, 0x2c); // ','
text[0] = 0x5b; // '['
text[SLOT * BATCH] = 0x5d; // ']'
for (let k = 0; k < BATCH; k++) {
  const o = 1 + k * SLOT;
  text[o] = 0x22;
  text[o + 37] = 0x22;
  for (const d of [9, 14, 19, 24]) text[o + d] = 0x2d; // '-'
}
let ids: string[] = [];
let next = BATCH;

// Counted under callgrind (tools/bench/compare, with a perf map): a JS loop writing two
// hex digits per random byte cost ~1.2k instructions an id. Here the digits are made
// natively and moved between fixed quotes and dashes, and JSON.parse makes the ids: each
// a flat string of its own. (Slices of one string were as cheap to make, but comparing a
// slice with another string goes through the runtime: line.ts compares ids with its cache.)
function refill(): void {
  randomFillSync(random);
  for (let k = 0; k < BATCH; k++) {
    random[k * 16 + 6] = (random[k * 16 + 6] & 0x0f) | 0x40; // version 4
    random[k * 16 + 8] = (random[k * 16 + 8] & 0x3f) | 0x80; // variant 10xx
  }
  hex.write(random.toString('hex'), 0, 'latin1');
  for (let k = 0, s = 0; k < BATCH; k++) {
    let d = 2 + k * SLOT;
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
  ids = JSON.parse(text.toString('latin1')) as string[];
  next = 0;
}

/** A random UUIDv4, lowercase, as `crypto.randomUUID()` writes it. */
export function uuid4(): string {
  if (next === BATCH) refill();
  return ids[next++];
}
