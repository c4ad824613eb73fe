/**
 * HMAC-SHA1 for the signed trace headers (signing.ts): the key's UTF-8 bytes, and the
 * verification of an X-Trace-HMAC against one key without a string or Buffer made per
 * header (SHA-1 from each key's midstates, sha1.ts).
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { NodeBuffer } from './kit/node-buffer';
import { SHA1_IV, sha1Block } from './sha1';

/**
 * Inputs longer than this (in characters) are rejected outright. Python has no limit; real
 * headers are ~140 (info) and 40 (hmac) characters, so this only sheds abuse.
 */
export const MAX_INPUT_LENGTH = 8192;

const SHA1_BLOCK = 64;
const SHA1_LEN = 20;
const KEY_CACHE_MAX = 256;

// UTF-8 bytes per key, computed once per distinct key (keys come from configuration, so
// there are few). null marks a key with a lone surrogate: Python cannot encode it (its
// generate_hmac raises, signed_unpack skips that key).
const keyCache = new Map<string, Buffer | null>();

export function keyBytes(key: string): Buffer | null {
  let b = keyCache.get(key);
  if (b === undefined) {
    b = hasLoneSurrogate(key) ? null : Buffer.from(key, 'utf8');
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(key, b);
  }
  return b;
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (d < 0xdc00 || d > 0xdfff) return true;
    i++;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Verification: RFC 2104, H((K ^ opad) || H((K ^ ipad) || m)). The two pads are one SHA-1
// block each, so each key's state after its pad (its midstates) is computed once and every
// header starts from them: 3 compressions for a ~140-character info and 1 outer, in
// JavaScript (sha1.ts), against node:crypto's 6 plus ~2.9k instructions of set-up per `hash`
// call (per header under callgrind, session 19: see sha1.ts and tools/bench/README.md,
// header.cjs row). The info's UTF-8 is written into one buffer kept for it (no Buffer made
// per header), the digest into `expected`, which `timingSafeEqual` compares with the given
// HMAC's 20 bytes, read once from its hex by `setGivenHmac` in JavaScript. Infos over
// JS_MAX_BYTES (no real header: ~140 characters) go to node:crypto's HMAC, whose native
// blocks cost ~0.85k instructions against ~1.4k here: a forged 8 KiB header costs no more
// than before. (Until session 19 the pads were hashed with node:crypto's one-shot `hash`
// per header; until session 15 the pads were copied per key and both hex texts written into
// Buffers; see the README.)

const SHA1_WORDS = SHA1_LEN / 4;
// The info's UTF-8 bytes hashed in JavaScript at most: 8 blocks of it with its padding.
const JS_MAX_BYTES = 8 * SHA1_BLOCK - 9;
// Per key: the state after the inner pad (words 0–4) and after the outer pad (5–9).
const midCache = new Map<string, Int32Array>();
// Room for this many info characters at 3 UTF-8 bytes each before `message` is regrown.
const INNER_CHARS = 256;

// The info's UTF-8 then SHA-1's padding; `state` the running hash; `outerBlock` the inner
// digest and the outer hash's padding (its length: the outer pad's block and 20 bytes).
let message = Buffer.alloc(3 * INNER_CHARS + 2 * SHA1_BLOCK) as NodeBuffer;
let messageView = new DataView(message.buffer, message.byteOffset, message.length);
const state = new Int32Array(SHA1_WORDS);
const outerBlock = new Uint8Array(SHA1_BLOCK);
const outerView = new DataView(outerBlock.buffer);
outerBlock[SHA1_LEN] = 0x80;
outerBlock[SHA1_BLOCK - 2] = ((SHA1_BLOCK + SHA1_LEN) * 8) >>> 8;
outerBlock[SHA1_BLOCK - 1] = ((SHA1_BLOCK + SHA1_LEN) * 8) & 0xff;

// The given HMAC as 20 bytes (read from its hex in JavaScript, no Buffer write); `givenOk`
// false when it is not 40 lowercase hex digits (then it matches nothing, as Python's compare
// of the texts). `expected`: the digest's 20 bytes.
const given = Buffer.alloc(SHA1_LEN);
const expected = Buffer.alloc(SHA1_LEN);
const expectedView = new DataView(expected.buffer, expected.byteOffset, SHA1_LEN);
let givenOk = false;
const HEX_LEN = 2 * SHA1_LEN;
// Lowercase hex digit values; 16 (not a digit) for every other character code below 256.
const HEX = new Uint8Array(256).fill(16);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

// Whether the info last hashed by `hmacMatches` was ASCII (its UTF-8 one byte a character).
let lastInfoAscii = false;

// The key of the last `midstates` call and its midstates: the configured key is one string,
// compared by identity, where the Map hashes it (~0.25k instructions a header).
let lastKey: string | undefined;
let lastMid: Int32Array = new Int32Array(0);

function midstates(key: string, kb: Buffer): Int32Array {
  if (key === lastKey) return lastMid;
  let mid = midCache.get(key);
  if (mid === undefined) {
    const k = kb.length > SHA1_BLOCK ? hash('sha1', kb, 'buffer') : kb;
    mid = new Int32Array(2 * SHA1_WORDS);
    const block = new Uint8Array(SHA1_BLOCK);
    for (const [pad, at] of [
      [0x36, 0],
      [0x5c, SHA1_WORDS],
    ]) {
      block.fill(pad);
      for (let i = 0; i < k.length; i++) block[i] ^= k[i];
      state.set(SHA1_IV);
      sha1Block(state, new DataView(block.buffer), 0);
      mid.set(state, at);
    }
    if (midCache.size >= KEY_CACHE_MAX) midCache.clear();
    midCache.set(key, mid);
  }
  lastKey = key;
  lastMid = mid;
  return mid;
}

/** The 5 words of `h` into `out`, big-endian. */
function wordsInto(h: Int32Array, out: DataView): void {
  for (let i = 0; i < SHA1_WORDS; i++) out.setInt32(4 * i, h[i]);
}

/** HMAC-SHA1 of `message`'s first `n` bytes under the key of `mid` into `expected`. */
function digestInto(mid: Int32Array, n: number): void {
  // SHA-1's padding after the pad's block and the n bytes: 0x80, zeros, the length in bits
  // as 64 bits big-endian (below 2^32 here), to a multiple of the block size.
  const end = (n + 72) & ~(SHA1_BLOCK - 1);
  const m = messageView;
  m.setUint8(n, 0x80);
  let i = n + 1;
  for (; (i & 3) !== 0; i++) m.setUint8(i, 0);
  for (; i < end - 4; i += 4) m.setInt32(i, 0);
  m.setInt32(end - 4, (SHA1_BLOCK + n) * 8);
  const h = state;
  for (let i = 0; i < SHA1_WORDS; i++) h[i] = mid[i];
  for (let o = 0; o < end; o += SHA1_BLOCK) sha1Block(h, m, o);
  wordsInto(h, outerView);
  for (let i = 0; i < SHA1_WORDS; i++) h[i] = mid[SHA1_WORDS + i];
  sha1Block(h, outerView, 0);
  wordsInto(h, expectedView);
}

/**
 * Takes the X-Trace-HMAC (stripped) that `hmacMatches` compares with; false when it is not
 * 40 characters long, which no hex HMAC-SHA1 is.
 */
export function setGivenHmac(hex: string): boolean {
  if (hex.length !== HEX_LEN) return false;
  let bad = 0;
  for (let i = 0; i < SHA1_LEN; i++) {
    const c0 = hex.charCodeAt(2 * i);
    const c1 = hex.charCodeAt(2 * i + 1);
    const hi = c0 < 256 ? HEX[c0] : 16;
    const lo = c1 < 256 ? HEX[c1] : 16;
    bad |= hi | lo;
    given[i] = (hi << 4) | (lo & 15);
  }
  givenOk = (bad & 16) === 0;
  return true;
}

/**
 * Whether the lowercase hex HMAC-SHA1 of the UTF-8 of `info` (at most MAX_INPUT_LENGTH
 * characters) under `key` (its bytes `kb`) is the text last given to `setGivenHmac`:
 * compared in constant time (crypto.timingSafeEqual over the 20 bytes of the digest and of
 * the given hex). Python compares the texts: a given text that is not 40 lowercase hex
 * digits matches nothing (checked after the compare, which always runs).
 */
export function hmacMatches(key: string, kb: Buffer, info: string): boolean {
  if (3 * info.length + 2 * SHA1_BLOCK > message.length) {
    message = Buffer.alloc(3 * Math.max(info.length, 2 * INNER_CHARS) + 2 * SHA1_BLOCK) as NodeBuffer;
    messageView = new DataView(message.buffer, message.byteOffset, message.length);
  }
  // `message` has room for 3 bytes a character and the padding (at most 72 bytes).
  const n = message.utf8Write(info, 0);
  lastInfoAscii = n === info.length;
  if (n <= JS_MAX_BYTES) digestInto(midstates(key, kb), n);
  else createHmac('sha1', kb).update(message.subarray(0, n)).digest().copy(expected);
  return timingSafeEqual(expected, given) && givenOk;
}

/** Whether the info of the last `hmacMatches` call was ASCII (so its base64 can be read by Buffer's decoder, see signing.ts). */
export function lastInfoWasAscii(): boolean {
  return lastInfoAscii;
}
