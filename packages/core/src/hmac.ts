/**
 * HMAC-SHA1 for the signed trace headers (signing.ts): the key's UTF-8 bytes, and the
 * verification of an X-Trace-HMAC against one key without a string or Buffer made per
 * header but the two digests node:crypto returns.
 */
import { hash, timingSafeEqual } from 'node:crypto';

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
// preallocated buffers. createHmac(...).update().digest() builds a Hmac object and reruns
// the key set-up for every header (~21k against ~17k instructions a verify, session 9).
// Per header no Buffer is made (a 'buffer' digest costs node:crypto two toLowerCase calls
// and a new ArrayBuffer; a 'hex' write converts the text to UTF-16 first; a RegExp check
// of the given text cost ~1k): the inner digest comes as latin1 text and is copied into
// `outer` as it stands, the outer one as hex text, copied into `expected` and compared
// with the given text. The key's ipad/opad stay in
// `inner`/`outer` while the same key is used, and the view hashed while the info's length
// stays the same (every header of one client has one length).
// extract() of one signed header, one key (tools/bench/header.cjs --instructions, with the
// build before in the same run): 25.6k instructions against 32.0k (digests as Buffers,
// Buffer.from of both texts); with 'hex' digests written back as bytes 26.9k.

interface Pads {
  readonly ipad: Buffer;
  readonly opad: Buffer;
}
const padCache = new Map<string, Pads>();
// ipad then the info's UTF-8 (at most 3 bytes a character).
const inner = Buffer.alloc(SHA1_BLOCK + 3 * MAX_INPUT_LENGTH);
const outer = Buffer.alloc(SHA1_BLOCK + SHA1_LEN);
const HEX_LEN = 2 * SHA1_LEN;
const given = Buffer.alloc(HEX_LEN);
const expected = Buffer.alloc(HEX_LEN);
let givenHex = '';
let innerPads: Pads | undefined;
let outerPads: Pads | undefined;
let innerView = inner.subarray(0, SHA1_BLOCK);

function pads(key: string, kb: Buffer): Pads {
  let p = padCache.get(key);
  if (p === undefined) {
    const k = kb.length > SHA1_BLOCK ? hash('sha1', kb, 'buffer') : kb;
    const ipad = Buffer.alloc(SHA1_BLOCK, 0x36);
    const opad = Buffer.alloc(SHA1_BLOCK, 0x5c);
    for (let i = 0; i < k.length; i++) {
      ipad[i] ^= k[i];
      opad[i] ^= k[i];
    }
    p = { ipad, opad };
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
  given.write(hex, 0, 'latin1');
  givenHex = hex;
  return true;
}

/**
 * Whether the lowercase hex HMAC-SHA1 of the UTF-8 of `info` (at most MAX_INPUT_LENGTH
 * characters) under `key` (its bytes `kb`) is the text last given to `setGivenHmac`:
 * compared in constant time (crypto.timingSafeEqual over the 40 bytes), then, once equal,
 * as text — latin1 keeps a character's low byte only, so 'š' (U+0161) wrote the byte of
 * 'a'; Python compares the texts. That second compare only tells the caller whether the
 * text it sent has such characters.
 */
export function hmacMatches(key: string, kb: Buffer, info: string): boolean {
  const p = pads(key, kb);
  if (innerPads !== p) {
    p.ipad.copy(inner, 0);
    innerPads = p;
  }
  const n = SHA1_BLOCK + inner.write(info, SHA1_BLOCK, 'utf8');
  if (innerView.length !== n) innerView = inner.subarray(0, n);
  if (outerPads !== p) {
    p.opad.copy(outer, 0);
    outerPads = p;
  }
  // 'binary' is latin1 (the name node:crypto's types accept).
  outer.write(hash('sha1', innerView, 'binary'), SHA1_BLOCK, 'latin1');
  const digest = hash('sha1', outer, 'hex');
  expected.write(digest, 0, 'latin1');
  return timingSafeEqual(expected, given) && digest === givenHex;
}
