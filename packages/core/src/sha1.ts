/**
 * SHA-1's compression function (FIPS 180-4 §6.1.2) in JavaScript, for the signed headers'
 * HMAC (hmac.ts): HMAC-SHA1 from per-key midstates runs 4 compressions a header (3 for the
 * ~140-byte info, 1 outer) where node:crypto's one-shot `hash` runs 6 (each hash starts
 * from its key's 64-byte pad) and costs ~2.9k instructions a call besides them (the
 * algorithm's name lower-cased and rewritten, the encoding's, EVP set-up, OPENSSL_cleanse,
 * a string for the digest). Per header under callgrind: 11.0k instructions of `hash` calls
 * and ~1.4k of digest writes against 5.6k of blocks and 0.8k of padding here (session 19,
 * branch header19; tools/bench/README.md, header.cjs row).
 *
 * Written out round by round: the five working variables are renamed from round to round
 * instead of moved, and the 16-word schedule lives in locals, so TurboFan keeps them in
 * registers (~1.4k instructions a block; loops over an 80-word Int32Array cost ~4.5k, and
 * four byte reads a word instead of DataView's getInt32 ~2.1k; Ch and Maj in their 3- and
 * 4-operation forms save ~0.1k). Only the block's position, never its bytes, steers a
 * branch or an index.
 */

/** SHA-1's initial hash value H(0). */
export const SHA1_IV: readonly number[] = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];

/** Updates the state `h` (5 words) with the 64-byte block of `m` at `o` (big-endian words). */
export function sha1Block(h: Int32Array, m: DataView, o: number): void {
  let a = h[0];
  let b = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  let w0 = m.getInt32(o + 0);
  let w1 = m.getInt32(o + 4);
  let w2 = m.getInt32(o + 8);
  let w3 = m.getInt32(o + 12);
  let w4 = m.getInt32(o + 16);
  let w5 = m.getInt32(o + 20);
  let w6 = m.getInt32(o + 24);
  let w7 = m.getInt32(o + 28);
  let w8 = m.getInt32(o + 32);
  let w9 = m.getInt32(o + 36);
  let w10 = m.getInt32(o + 40);
  let w11 = m.getInt32(o + 44);
  let w12 = m.getInt32(o + 48);
  let w13 = m.getInt32(o + 52);
  let w14 = m.getInt32(o + 56);
  let w15 = m.getInt32(o + 60);
  // Rounds 0–19: f = Ch.
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + w0 + 0x5a827999) | 0; b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + w1 + 0x5a827999) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + w2 + 0x5a827999) | 0; e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + w3 + 0x5a827999) | 0; d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + w4 + 0x5a827999) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + w5 + 0x5a827999) | 0; b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + w6 + 0x5a827999) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + w7 + 0x5a827999) | 0; e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + w8 + 0x5a827999) | 0; d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + w9 + 0x5a827999) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + w10 + 0x5a827999) | 0; b = (b << 30) | (b >>> 2);
  d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + w11 + 0x5a827999) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + w12 + 0x5a827999) | 0; e = (e << 30) | (e >>> 2);
  b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + w13 + 0x5a827999) | 0; d = (d << 30) | (d >>> 2);
  a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + w14 + 0x5a827999) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + w15 + 0x5a827999) | 0; b = (b << 30) | (b >>> 2);
  w0 ^= w13 ^ w8 ^ w2; w0 = (w0 << 1) | (w0 >>> 31); d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + w0 + 0x5a827999) | 0; a = (a << 30) | (a >>> 2);
  w1 ^= w14 ^ w9 ^ w3; w1 = (w1 << 1) | (w1 >>> 31); c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + w1 + 0x5a827999) | 0; e = (e << 30) | (e >>> 2);
  w2 ^= w15 ^ w10 ^ w4; w2 = (w2 << 1) | (w2 >>> 31); b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + w2 + 0x5a827999) | 0; d = (d << 30) | (d >>> 2);
  w3 ^= w0 ^ w11 ^ w5; w3 = (w3 << 1) | (w3 >>> 31); a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + w3 + 0x5a827999) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 20–39: f = Parity.
  w4 ^= w1 ^ w12 ^ w6; w4 = (w4 << 1) | (w4 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w4 + 0x6ed9eba1) | 0; b = (b << 30) | (b >>> 2);
  w5 ^= w2 ^ w13 ^ w7; w5 = (w5 << 1) | (w5 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w5 + 0x6ed9eba1) | 0; a = (a << 30) | (a >>> 2);
  w6 ^= w3 ^ w14 ^ w8; w6 = (w6 << 1) | (w6 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w6 + 0x6ed9eba1) | 0; e = (e << 30) | (e >>> 2);
  w7 ^= w4 ^ w15 ^ w9; w7 = (w7 << 1) | (w7 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w7 + 0x6ed9eba1) | 0; d = (d << 30) | (d >>> 2);
  w8 ^= w5 ^ w0 ^ w10; w8 = (w8 << 1) | (w8 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w8 + 0x6ed9eba1) | 0; c = (c << 30) | (c >>> 2);
  w9 ^= w6 ^ w1 ^ w11; w9 = (w9 << 1) | (w9 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w9 + 0x6ed9eba1) | 0; b = (b << 30) | (b >>> 2);
  w10 ^= w7 ^ w2 ^ w12; w10 = (w10 << 1) | (w10 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w10 + 0x6ed9eba1) | 0; a = (a << 30) | (a >>> 2);
  w11 ^= w8 ^ w3 ^ w13; w11 = (w11 << 1) | (w11 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w11 + 0x6ed9eba1) | 0; e = (e << 30) | (e >>> 2);
  w12 ^= w9 ^ w4 ^ w14; w12 = (w12 << 1) | (w12 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w12 + 0x6ed9eba1) | 0; d = (d << 30) | (d >>> 2);
  w13 ^= w10 ^ w5 ^ w15; w13 = (w13 << 1) | (w13 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w13 + 0x6ed9eba1) | 0; c = (c << 30) | (c >>> 2);
  w14 ^= w11 ^ w6 ^ w0; w14 = (w14 << 1) | (w14 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w14 + 0x6ed9eba1) | 0; b = (b << 30) | (b >>> 2);
  w15 ^= w12 ^ w7 ^ w1; w15 = (w15 << 1) | (w15 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w15 + 0x6ed9eba1) | 0; a = (a << 30) | (a >>> 2);
  w0 ^= w13 ^ w8 ^ w2; w0 = (w0 << 1) | (w0 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w0 + 0x6ed9eba1) | 0; e = (e << 30) | (e >>> 2);
  w1 ^= w14 ^ w9 ^ w3; w1 = (w1 << 1) | (w1 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w1 + 0x6ed9eba1) | 0; d = (d << 30) | (d >>> 2);
  w2 ^= w15 ^ w10 ^ w4; w2 = (w2 << 1) | (w2 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w2 + 0x6ed9eba1) | 0; c = (c << 30) | (c >>> 2);
  w3 ^= w0 ^ w11 ^ w5; w3 = (w3 << 1) | (w3 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w3 + 0x6ed9eba1) | 0; b = (b << 30) | (b >>> 2);
  w4 ^= w1 ^ w12 ^ w6; w4 = (w4 << 1) | (w4 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w4 + 0x6ed9eba1) | 0; a = (a << 30) | (a >>> 2);
  w5 ^= w2 ^ w13 ^ w7; w5 = (w5 << 1) | (w5 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w5 + 0x6ed9eba1) | 0; e = (e << 30) | (e >>> 2);
  w6 ^= w3 ^ w14 ^ w8; w6 = (w6 << 1) | (w6 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w6 + 0x6ed9eba1) | 0; d = (d << 30) | (d >>> 2);
  w7 ^= w4 ^ w15 ^ w9; w7 = (w7 << 1) | (w7 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w7 + 0x6ed9eba1) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 40–59: f = Maj.
  w8 ^= w5 ^ w0 ^ w10; w8 = (w8 << 1) | (w8 >>> 31); e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + w8 + 0x8f1bbcdc) | 0; b = (b << 30) | (b >>> 2);
  w9 ^= w6 ^ w1 ^ w11; w9 = (w9 << 1) | (w9 >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + w9 + 0x8f1bbcdc) | 0; a = (a << 30) | (a >>> 2);
  w10 ^= w7 ^ w2 ^ w12; w10 = (w10 << 1) | (w10 >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + w10 + 0x8f1bbcdc) | 0; e = (e << 30) | (e >>> 2);
  w11 ^= w8 ^ w3 ^ w13; w11 = (w11 << 1) | (w11 >>> 31); b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + w11 + 0x8f1bbcdc) | 0; d = (d << 30) | (d >>> 2);
  w12 ^= w9 ^ w4 ^ w14; w12 = (w12 << 1) | (w12 >>> 31); a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + w12 + 0x8f1bbcdc) | 0; c = (c << 30) | (c >>> 2);
  w13 ^= w10 ^ w5 ^ w15; w13 = (w13 << 1) | (w13 >>> 31); e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + w13 + 0x8f1bbcdc) | 0; b = (b << 30) | (b >>> 2);
  w14 ^= w11 ^ w6 ^ w0; w14 = (w14 << 1) | (w14 >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + w14 + 0x8f1bbcdc) | 0; a = (a << 30) | (a >>> 2);
  w15 ^= w12 ^ w7 ^ w1; w15 = (w15 << 1) | (w15 >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + w15 + 0x8f1bbcdc) | 0; e = (e << 30) | (e >>> 2);
  w0 ^= w13 ^ w8 ^ w2; w0 = (w0 << 1) | (w0 >>> 31); b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + w0 + 0x8f1bbcdc) | 0; d = (d << 30) | (d >>> 2);
  w1 ^= w14 ^ w9 ^ w3; w1 = (w1 << 1) | (w1 >>> 31); a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + w1 + 0x8f1bbcdc) | 0; c = (c << 30) | (c >>> 2);
  w2 ^= w15 ^ w10 ^ w4; w2 = (w2 << 1) | (w2 >>> 31); e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + w2 + 0x8f1bbcdc) | 0; b = (b << 30) | (b >>> 2);
  w3 ^= w0 ^ w11 ^ w5; w3 = (w3 << 1) | (w3 >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + w3 + 0x8f1bbcdc) | 0; a = (a << 30) | (a >>> 2);
  w4 ^= w1 ^ w12 ^ w6; w4 = (w4 << 1) | (w4 >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + w4 + 0x8f1bbcdc) | 0; e = (e << 30) | (e >>> 2);
  w5 ^= w2 ^ w13 ^ w7; w5 = (w5 << 1) | (w5 >>> 31); b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + w5 + 0x8f1bbcdc) | 0; d = (d << 30) | (d >>> 2);
  w6 ^= w3 ^ w14 ^ w8; w6 = (w6 << 1) | (w6 >>> 31); a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + w6 + 0x8f1bbcdc) | 0; c = (c << 30) | (c >>> 2);
  w7 ^= w4 ^ w15 ^ w9; w7 = (w7 << 1) | (w7 >>> 31); e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + w7 + 0x8f1bbcdc) | 0; b = (b << 30) | (b >>> 2);
  w8 ^= w5 ^ w0 ^ w10; w8 = (w8 << 1) | (w8 >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + w8 + 0x8f1bbcdc) | 0; a = (a << 30) | (a >>> 2);
  w9 ^= w6 ^ w1 ^ w11; w9 = (w9 << 1) | (w9 >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + w9 + 0x8f1bbcdc) | 0; e = (e << 30) | (e >>> 2);
  w10 ^= w7 ^ w2 ^ w12; w10 = (w10 << 1) | (w10 >>> 31); b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + w10 + 0x8f1bbcdc) | 0; d = (d << 30) | (d >>> 2);
  w11 ^= w8 ^ w3 ^ w13; w11 = (w11 << 1) | (w11 >>> 31); a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + w11 + 0x8f1bbcdc) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 60–79: f = Parity.
  w12 ^= w9 ^ w4 ^ w14; w12 = (w12 << 1) | (w12 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w12 + 0xca62c1d6) | 0; b = (b << 30) | (b >>> 2);
  w13 ^= w10 ^ w5 ^ w15; w13 = (w13 << 1) | (w13 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w13 + 0xca62c1d6) | 0; a = (a << 30) | (a >>> 2);
  w14 ^= w11 ^ w6 ^ w0; w14 = (w14 << 1) | (w14 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w14 + 0xca62c1d6) | 0; e = (e << 30) | (e >>> 2);
  w15 ^= w12 ^ w7 ^ w1; w15 = (w15 << 1) | (w15 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w15 + 0xca62c1d6) | 0; d = (d << 30) | (d >>> 2);
  w0 ^= w13 ^ w8 ^ w2; w0 = (w0 << 1) | (w0 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w0 + 0xca62c1d6) | 0; c = (c << 30) | (c >>> 2);
  w1 ^= w14 ^ w9 ^ w3; w1 = (w1 << 1) | (w1 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w1 + 0xca62c1d6) | 0; b = (b << 30) | (b >>> 2);
  w2 ^= w15 ^ w10 ^ w4; w2 = (w2 << 1) | (w2 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w2 + 0xca62c1d6) | 0; a = (a << 30) | (a >>> 2);
  w3 ^= w0 ^ w11 ^ w5; w3 = (w3 << 1) | (w3 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w3 + 0xca62c1d6) | 0; e = (e << 30) | (e >>> 2);
  w4 ^= w1 ^ w12 ^ w6; w4 = (w4 << 1) | (w4 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w4 + 0xca62c1d6) | 0; d = (d << 30) | (d >>> 2);
  w5 ^= w2 ^ w13 ^ w7; w5 = (w5 << 1) | (w5 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w5 + 0xca62c1d6) | 0; c = (c << 30) | (c >>> 2);
  w6 ^= w3 ^ w14 ^ w8; w6 = (w6 << 1) | (w6 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w6 + 0xca62c1d6) | 0; b = (b << 30) | (b >>> 2);
  w7 ^= w4 ^ w15 ^ w9; w7 = (w7 << 1) | (w7 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w7 + 0xca62c1d6) | 0; a = (a << 30) | (a >>> 2);
  w8 ^= w5 ^ w0 ^ w10; w8 = (w8 << 1) | (w8 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w8 + 0xca62c1d6) | 0; e = (e << 30) | (e >>> 2);
  w9 ^= w6 ^ w1 ^ w11; w9 = (w9 << 1) | (w9 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w9 + 0xca62c1d6) | 0; d = (d << 30) | (d >>> 2);
  w10 ^= w7 ^ w2 ^ w12; w10 = (w10 << 1) | (w10 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w10 + 0xca62c1d6) | 0; c = (c << 30) | (c >>> 2);
  w11 ^= w8 ^ w3 ^ w13; w11 = (w11 << 1) | (w11 >>> 31); e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w11 + 0xca62c1d6) | 0; b = (b << 30) | (b >>> 2);
  w12 ^= w9 ^ w4 ^ w14; w12 = (w12 << 1) | (w12 >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + w12 + 0xca62c1d6) | 0; a = (a << 30) | (a >>> 2);
  w13 ^= w10 ^ w5 ^ w15; w13 = (w13 << 1) | (w13 >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + w13 + 0xca62c1d6) | 0; e = (e << 30) | (e >>> 2);
  w14 ^= w11 ^ w6 ^ w0; w14 = (w14 << 1) | (w14 >>> 31); b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + w14 + 0xca62c1d6) | 0; d = (d << 30) | (d >>> 2);
  w15 ^= w12 ^ w7 ^ w1; w15 = (w15 << 1) | (w15 >>> 31); a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + w15 + 0xca62c1d6) | 0; c = (c << 30) | (c >>> 2);
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}
