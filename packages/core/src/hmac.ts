/**
 * HMAC-SHA1 for the signed trace headers (signing.ts): the key's UTF-8 bytes, and the
 * verification of an X-Trace-HMAC against one key without a string or Buffer made per
 * header but the two digests node:crypto returns.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { NodeBuffer } from './kit/node-buffer';

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
// Verification: RFC 2104, H((K ^ opad) || H((K ^ ipad) || m)), from one-shot hashes over
// buffers kept per key. createHmac(...).update().digest() builds a Hmac object and reruns
// the key set-up for every header (~21k against ~17k instructions a verify, session 9).
// Per header no Buffer is made and only the info is written into one: each key has its
// `inner` (ipad, then the info's UTF-8) and `outer` (opad, then the inner digest) buffers,
// so trying several keys copies no pads. The digests come as latin1 text (no hex encoding):
// the inner one is copied into `outer` as it stands, the outer one into `expected`, which
// `timingSafeEqual` compares with the given HMAC's 20 bytes, read once from its hex by
// `setGivenHmac` in JavaScript. (Until session 15 both hex texts were written into Buffers,
// the pads copied per key tried; see tools/bench/README.md, header.cjs row. A SHA-1 in
// JavaScript from per-key states, 4 compressions instead of node:crypto's 6, was tried:
// ~5k instructions a compression against ~0.85k natively, 24.6k against 17.4k a forged
// header. Session 19 wrote its rounds out one by one, ~1.4k a block: a header's verify
// 21.8k → 16.4k instructions, the whole server's within its spread. Not kept: until V8
// optimises it, such code's timing follows the values it handles (small integers or heap
// numbers), here the key's states; the HMAC stays in OpenSSL.)

interface Pads {
  /** ipad, then the info last hashed with this key. */
  inner: NodeBuffer;
  /** `inner` up to that info's end. */
  view: Buffer;
  /** opad, then the inner digest. */
  readonly outer: NodeBuffer;
}
const padCache = new Map<string, Pads>();
const HEX_LEN = 2 * SHA1_LEN;
// Room for this many info characters at 3 UTF-8 bytes each before `inner` is regrown.
const INNER_CHARS = 256;

// The given HMAC as 20 bytes (read from its hex in JavaScript, no Buffer write); `givenOk`
// false when it is not 40 lowercase hex digits (then it matches nothing, as Python's compare
// of the texts). `expected`: the digest's 20 bytes.
const given = Buffer.alloc(SHA1_LEN);
const expected = Buffer.alloc(SHA1_LEN) as NodeBuffer;
let givenOk = false;
// Lowercase hex digit values; 16 (not a digit) for every other character code below 256.
const HEX = new Uint8Array(256).fill(16);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

// Whether the info last hashed by `hmacMatches` was ASCII (its UTF-8 one byte a character).
let lastInfoAscii = false;

function pads(key: string, kb: Buffer): Pads {
  let p = padCache.get(key);
  if (p === undefined) {
    const k = kb.length > SHA1_BLOCK ? hash('sha1', kb, 'buffer') : kb;
    const inner = Buffer.alloc(SHA1_BLOCK + 3 * INNER_CHARS, 0x36) as NodeBuffer;
    const outer = Buffer.alloc(SHA1_BLOCK + SHA1_LEN, 0x5c) as NodeBuffer;
    for (let i = 0; i < k.length; i++) {
      inner[i] ^= k[i];
      outer[i] ^= k[i];
    }
    p = { inner, view: inner.subarray(0, SHA1_BLOCK), outer };
    if (padCache.size >= KEY_CACHE_MAX) padCache.clear();
    padCache.set(key, p);
  }
  return p;
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
  const p = pads(key, kb);
  if (3 * info.length > p.inner.length - SHA1_BLOCK) {
    const grown = Buffer.alloc(SHA1_BLOCK + 3 * Math.max(info.length, 2 * INNER_CHARS)) as NodeBuffer;
    p.inner.copy(grown, 0, 0, SHA1_BLOCK);
    p.inner = grown;
    p.view = grown.subarray(0, SHA1_BLOCK);
  }
  // `inner` has room for 3 bytes a character (above), so the whole info is written.
  const written = p.inner.utf8Write(info, SHA1_BLOCK);
  lastInfoAscii = written === info.length;
  if (p.view.length !== SHA1_BLOCK + written) p.view = p.inner.subarray(0, SHA1_BLOCK + written);
  const outer = p.outer;
  // 'binary' is latin1 (the name node:crypto's types accept).
  outer.latin1Write(hash('sha1', p.view, 'binary'), SHA1_BLOCK);
  expected.latin1Write(hash('sha1', outer, 'binary'), 0);
  return timingSafeEqual(expected, given) && givenOk;
}

/** Whether the info of the last `hmacMatches` call was ASCII (so its base64 can be read by Buffer's decoder, see signing.ts). */
export function lastInfoWasAscii(): boolean {
  return lastInfoAscii;
}
