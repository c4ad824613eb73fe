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
// codes; two bytes' four digits go into the text with one 32-bit DataView store (every
// group of an id's digits is a whole number of byte pairs): 8 stores an id instead of one
// 16-bit store per byte (callgrind, trace-lines nested: refill ~340 instructions an id
// with a store a byte; 1,042–1,078 an id with a store a byte against 1,193–1,223 for
// two table reads and two byte stores, 800,000 ids).
const HEX2 = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX2[b] = '0123456789abcdef'.charCodeAt(b >> 4) | ('0123456789abcdef'.charCodeAt(b & 15) << 8);
const view = new DataView(text.buffer, text.byteOffset, text.byteLength);

/** The four hex digits of random[r] and random[r + 1] at text[d…]. */
function pair(d: number, r: number): void {
  view.setUint32(d, HEX2[random[r]] | (HEX2[random[r + 1]] << 16), true);
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
    // 8-4-4-4-12 digits, the dashes left in place (o + 9, 14, 19, 24 in the slot).
    const d = 2 + k * SLOT;
    pair(d, r);
    pair(d + 4, r + 2);
    pair(d + 9, r + 4);
    pair(d + 14, r + 6);
    pair(d + 19, r + 8);
    pair(d + 24, r + 10);
    pair(d + 28, r + 12);
    pair(d + 32, r + 14);
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

/**
 * Whether `s` is the id `uuid4()` returned just before the last one: a root profiler draws
 * its base id (newProfiler) right before its first point's id, so a fresh start whose base
 * passes is a new trace's first point, its base plain (notifier.ts FRESH_ROOT).
 */
export function isUuidBeforeLast(s: string): boolean {
  return next > 1 && s === ids[next - 2];
}
