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
// Each random byte's two hex digits, as the 16-bit little-endian value of their ASCII
// codes: one DataView store a byte instead of two table reads and two byte stores
// (callgrind, 800,000 ids: 1,042–1,078 instructions an id against 1,193–1,223).
const HEX2 = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX2[b] = '0123456789abcdef'.charCodeAt(b >> 4) | ('0123456789abcdef'.charCodeAt(b & 15) << 8);
const view = new DataView(text.buffer, text.byteOffset, text.byteLength);

/** Writes the hex digits of random[r, r + n) at text[d…]; returns the next free offset. */
function digits(d: number, r: number, n: number): number {
  for (let j = r; j < r + n; j++) {
    view.setUint16(d, HEX2[random[j]], true);
    d += 2;
  }
  return d;
}

// JSON.parse makes the ids: each a flat string of its own. (Slices of one string were as
// cheap to make, but comparing a slice with another string goes through the runtime:
// line.ts compares ids with its cache; and `latin1Slice` per id, 1.5k instructions an id
// against 1.2k.) The digits go from a table straight into the text (HEX2 above): ~1.05k
// instructions an id under callgrind, 1.8k with `toString('hex')` and a loop moving the
// digits between the quotes and dashes.
function refill(): void {
  randomFillSync(random);
  for (let k = 0; k < BATCH; k++) {
    const r = k * 16;
    random[r + 6] = (random[r + 6] & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8] & 0x3f) | 0x80; // variant 10xx
    let d = 2 + k * SLOT;
    d = digits(d, r, 4) + 1; // the dash stays
    d = digits(d, r + 4, 2) + 1;
    d = digits(d, r + 6, 2) + 1;
    d = digits(d, r + 8, 2) + 1;
    digits(d, r + 10, 6);
  }
  ids = JSON.parse(text.toString('latin1')) as string[];
  next = 0;
}

/** A random UUIDv4, lowercase, as `crypto.randomUUID()` writes it. */
export function uuid4(): string {
  if (next === BATCH) refill();
  return ids[next++];
}

/**
 * Whether `s` is the id `uuid4()` returned last (a point's start passes the id it just
 * drew): such an id needs no escaping check when its line is written (notifier.ts).
 * One pointer comparison when it is; a string equal to it is as plain as it is.
 */
export function isLastUuid(s: string): boolean {
  return next !== 0 && s === ids[next - 1];
}
