/**
 * CPython's `base64.urlsafe_b64decode`: ASCII check, translate '-_' -> '+/', then
 * `binascii.a2b_base64` in non-strict mode. Reproduced exactly so that our accept/reject
 * verdict on X-Trace-Info equals Python's.
 */


// 0..63 for alphabet characters ('-' and '_' as 62/63 too), -1 for anything else (ASCII).
const B64 = new Int8Array(128).fill(-1);
{
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) B64[abc.charCodeAt(i)] = i;
  B64[0x2d] = 62; // '-'
  B64[0x5f] = 63; // '_'
}
const PAD = 0x3d; // '='

/**
 * Exactly a2b_base64(strict_mode=False) over the translated text:
 * - any non-ASCII character anywhere -> error (str.encode('ascii') fails first);
 * - characters outside the alphabet are skipped;
 * - '=' only counts once at least 2 characters of a quad are in; a complete pad sequence
 *   ends decoding (the rest is ignored); stray '=' elsewhere are skipped;
 * - ending mid-quad is an error ("Incorrect padding", or 1 leftover character).
 * Leftover bits of a final partial quad are discarded, like CPython.
 */
export function pyUrlsafeB64Decode(s: string): Buffer | null {
  const n = s.length;
  const out = Buffer.allocUnsafe(((n + 3) >> 2) * 3);
  let o = 0;
  let quadPos = 0;
  let leftchar = 0;
  let pads = 0;
  let i = 0;
  let done = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return null;
    if (c === PAD) {
      if (quadPos >= 2 && quadPos + ++pads >= 4) {
        done = true;
        i++;
        break;
      }
      continue;
    }
    const v = B64[c];
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftchar = v;
        break;
      case 1:
        quadPos = 2;
        out[o++] = ((leftchar << 2) | (v >> 4)) & 0xff;
        leftchar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out[o++] = ((leftchar << 4) | (v >> 2)) & 0xff;
        leftchar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out[o++] = ((leftchar << 6) | v) & 0xff;
        leftchar = 0;
    }
  }
  if (done) {
    // Python checks the whole string is ASCII before decoding anything.
    for (; i < n; i++) if (s.charCodeAt(i) > 0x7f) return null;
  } else if (quadPos !== 0) {
    return null;
  }
  return out.subarray(0, o);
}
