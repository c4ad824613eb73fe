/**
 * The line body's bytes and the wire's key strings (lines.ts describes the layout), shared
 * by the decode (lines.ts) and the upstream split (upstream/split.ts), and the windows
 * both read a body's text in.
 */
export const MAGIC = 0x4c; // 'L'
/** A line body with an index section. */
export const MAGIC_INDEXED = 0x49; // 'I'
export const LF = 0x0a;
export const CLOSE_BRACE = 0x7d;
export const LINE_START = '{"name": "';
export const BASE_KEY = '", "base_id": "';
export const TRACE_KEY = '", "trace_id": "';
export const PARENT_KEY = '", "parent_id": "';
export const TIMESTAMP_KEY = '", "timestamp": "';

/**
 * Bytes of text read as one string at most: a latin1 string past V8's regular object size
 * (~128 KiB) is made in large-object space on fresh pages each time, and `toString` of a
 * 620 KB record cost ~1.9 µs a point (kernel time, not seen in instruction counts) against
 * ~0.02 µs below it (one process, Node 20).
 */
export const WINDOW = 64 * 1024;

/**
 * The end of the window of `body`'s text that starts at `w` (a line's start): at most
 * `size` bytes, cut after a LF, or the body's end `len`; a line longer than the window
 * is taken whole, and a tail with no LF is one window (the callers then refuse it).
 */
export function windowEnd(body: Buffer, w: number, len: number, size = WINDOW): number {
  const wEnd = w + size;
  if (wEnd >= len) return len;
  const l = body.lastIndexOf(LF, wEnd - 1);
  if (l >= w) return l + 1;
  const next = body.indexOf(LF, wEnd);
  return next < 0 ? len : next + 1;
}
