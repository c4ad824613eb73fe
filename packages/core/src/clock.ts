import { flat } from './flat';

/**
 * Wall time = one anchor + monotonic offset: a trace point reads only the monotonic clock
 * (cheap) and formatting happens later, in batches. The anchor is refreshed
 * from time to time so that long uptimes do not drift from the system clock.
 */
const REANCHOR_MS = 60_000;

/**
 * The monotonic clock in milliseconds: `process.hrtime()`, the clock `performance.now()`
 * reads too (uv_hrtime), without the latter's brand check (Node 20: `validateInternalField`,
 * a `hasOwnProperty` of a symbol on `performance`, ~100 instructions a call; callgrind,
 * traced /nested: 0.6k a trace for its 6 points). Its [s, ns] array does not escape. Taken
 * once: Node 20's global `process` is a getter.
 */
const hrtime = process.hrtime;
function monotonicMs(): number {
  const t = hrtime();
  return t[0] * 1000 + t[1] / 1e6;
}

let anchorWall = Date.now();
let anchorPerf = monotonicMs();

/** Milliseconds since the epoch, with sub-millisecond precision. */
export function nowMs(): number {
  return anchorWall + (monotonicMs() - anchorPerf);
}

/** Re-reads the system clock if the anchor is older than a minute (called off the hot path). */
export function maybeReanchor(): void {
  // monotonicMs written out: called once a batch on its own, it was compiled late (in
  // trace-lines.cjs's counted window), where nowMs has it inlined.
  const t = hrtime();
  if (t[0] * 1000 + t[1] / 1e6 - anchorPerf >= REANCHOR_MS) {
    anchorWall = Date.now();
    anchorPerf = monotonicMs();
  }
}

let cachedSecond = -1;
let cachedPrefix = '';
// '000'…'999': the microseconds as two table entries, not String() + padStart (a number
// to string conversion missing V8's cache, ~350 instructions a timestamp under callgrind).
const DIGITS3: string[] = [];
for (let i = 0; i < 1000; i++) DIGITS3.push(String(i).padStart(3, '0'));

/** `%Y-%m-%dT%H:%M:%S.%f` in UTC with exactly six fractional digits, as Python writes it. */
export function formatTimestamp(ms: number): string {
  const micros = timestampMicros(ms);
  return cachedPrefix + micros;
}

/**
 * The six fractional digits of `formatTimestamp(ms)`, one flat string (6 characters are
 * copied, not a rope); its part up to the '.' is then `timestampSecond()`. The line builder
 * writes the two apart, so a line's timestamp is 2 pieces, not a rope of 3.
 */
export function timestampMicros(ms: number): string {
  const sub = timestampSub(ms);
  return cachedMilli + sub;
}

/**
 * The last three of the six fractional digits of `formatTimestamp(ms)`, from the table (no
 * string made); the first three are then `timestampMilli()` and the part up to the '.'
 * `timestampSecond()`. The line builder keeps the second and millisecond's text as one piece
 * while the lines' millisecond repeats, so a line's timestamp makes no string of its own
 * (timestampMicros' 6-character string, 24 bytes a line: trace-lines.cjs BENCH_ALLOC).
 */
export function timestampSub(ms: number): string {
  const micros = Math.floor(ms * 1000);
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = flat(new Date(second * 1000).toISOString().slice(0, 20)); // up to the '.', in one piece
  }
  const frac = micros - second * 1_000_000;
  const hi = Math.floor(frac / 1000);
  cachedMilli = DIGITS3[hi];
  return DIGITS3[frac - hi * 1000];
}

let cachedMilli = '000';

/** The first three fractional digits of the last `timestampSub` call (a table's string). */
export function timestampMilli(): string {
  return cachedMilli;
}

/** `%Y-%m-%dT%H:%M:%S.` of the last `timestampMicros`, `timestampSub` (or `formatTimestamp`) call. */
export function timestampSecond(): string {
  return cachedPrefix;
}
