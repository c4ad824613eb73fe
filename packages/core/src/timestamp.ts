/**
 * OSProfiler timestamps (`%Y-%m-%dT%H:%M:%S.%f`, UTC, wire spec §3) as microseconds since
 * 1970 and back: read exactly as Python's `strptime` reads them (the report builder, the
 * search index, the SQL `ts` column), with one fast path for the writers' usual form.
 */

// Python's `_strptime` regex for "%Y-%m-%dT%H:%M:%S.%f" (compiled IGNORECASE, matched at the
// start, then "unconverted data remains" if it did not consume everything: no `$` here,
// so alternation picks exactly what Python's would).
const STRPTIME =
  /^(\d\d\d\d)-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])T(2[0-3]|[0-1]\d|\d):([0-5]\d|\d):(6[0-1]|[0-5]\d|\d)\.([0-9]{1,6})/i;

const US_PER_DAY = 86_400_000_000n;

/**
 * Parses an OSProfiler timestamp like Python's `strptime(s, "%Y-%m-%dT%H:%M:%S.%f")` and
 * returns integer microseconds since 1970-01-01 as a bigint (years 1..9999 do not fit a
 * double's exact range, and going through `Date` would drop the microseconds).
 * Returns undefined where Python raises ValueError.
 */
export function parseTimestamp(s: string): bigint | undefined {
  const us = fastMicros(s);
  return us >= 0 ? BigInt(us) : parseTimestampFull(s);
}

/**
 * The same as a decimal string of µs (what the SQL `ts` column and the Redis index hold), or
 * undefined where Python's strptime would fail; no bigint on the usual form.
 */
export function timestampMicrosText(s: string): string | undefined {
  const us = fastMicros(s);
  if (us < 0) return parseTimestampFull(s)?.toString();
  // The second's digits (cached with it) and the six fraction digits as they are: String()
  // of a 16-digit number cost more than the rest of the fast path (the redis:// index's two
  // per trace: 2.4k → 1.0–1.4k instructions a line of 1-point traces, callgrind).
  if (lastSecondMicros === 0) return String(us);
  lastSecondText ??= String(lastSecondMicros / 1_000_000);
  return lastSecondText + s.slice(20, 26);
}

/**
 * A timestamp's sort key: its µs since 1970 when it is in the writers' strict form
 * (`YYYY-MM-DDTHH:MM:SS.ffffff`, a valid date from 1970 to ~2255), else NaN. Two keyed
 * timestamps order as their texts do (same length, digits in the same places), so a reader
 * that has keys (the agent's decoded lines, LineBatch.timeKeys) compares numbers where V8
 * would compare two slices of a text in its runtime (~400 instructions, callgrind).
 */
export function timeKey(s: string): number {
  const us = fastMicros(s);
  return us < 0 ? NaN : us;
}

// The fast path: the writers' form is always 26 characters (`….ffffff`) and the events of
// one batch or trace share their second in runs, so only the six digits are new. Saves the
// regex and four bigint operations per event (10,000-point report: see buildReport). The
// last second is compared first (no hashing of the sliced prefix), then a bounded map of
// seconds seen; a second never seen is read without regex (a trace's first and last event
// often lie in different seconds, so a miss must be cheap too).
let lastSecond = '';
let lastSecondMicros = 0;
/** lastSecondMicros / 10^6 as text, made when timestampMicrosText first needs it. */
let lastSecondText: string | undefined;
const secondCache = new Map<string, number>();
const SECOND_CACHE_MAX = 4096;

/** µs of the usual form, or -1 when it is not that form (or not a date the fast path takes). */
function fastMicros(s: string): number {
  if (s.length !== 26 || s.charCodeAt(19) !== 46 /* . */) return -1;
  const frac = digits(s, 20, 26);
  if (frac < 0) return -1;
  const second = s.slice(0, 19);
  if (second === lastSecond) return lastSecondMicros + frac;
  let base = secondCache.get(second);
  if (base === undefined) {
    base = secondMicros(s);
    if (base < 0) return -1;
    if (secondCache.size >= SECOND_CACHE_MAX) secondCache.clear();
    secondCache.set(second, base);
  }
  lastSecond = second;
  lastSecondMicros = base;
  lastSecondText = undefined;
  return base + frac;
}

/** Digits s[a..b) as a number, or -1. */
function digits(s: string, a: number, b: number): number {
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * µs of `YYYY-MM-DDTHH:MM:SS` (the first 19 characters) by Date.UTC; -1 for anything
 * before 1970, past ~2255 (µs no longer exact in a double) or not a plain valid date and
 * time: those take the strptime-exact parser.
 */
function secondMicros(s: string): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return -1;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  const h = digits(s, 11, 13);
  const mi = digits(s, 14, 16);
  const se = digits(s, 17, 19);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return -1;
  const leap = mo === 2 && isLeap(y);
  if (d > MONTH_DAYS[mo - 1] + (leap ? 1 : 0)) return -1;
  const us = Date.UTC(y, mo - 1, d, h, mi, se) * 1000;
  return us > Number.MAX_SAFE_INTEGER - 1_000_000 ? -1 : us;
}

/** The strptime-exact parse (exported for the test that holds the fast path to it). */
export function parseTimestampFull(s: string): bigint | undefined {
  const m = STRPTIME.exec(s);
  if (m === null || m[0].length !== s.length) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3].trim());
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  // datetime() rejects what the regex lets through: year 0, Feb 30, second 60/61.
  if (year < 1 || second > 59 || day > daysInMonth(year, month)) return undefined;
  const micros = BigInt(m[7].padEnd(6, '0'));
  const days = BigInt(daysFromCivil(year, month, day));
  return days * US_PER_DAY + BigInt((hour * 3600 + minute * 60 + second) * 1_000_000) + micros;
}

/** Python's `datetime.strftime("%Y-%m-%dT%H:%M:%S.%f")` of microseconds since 1970 (years 1..9999). */
export function microsToTimestamp(us: bigint): string {
  let days = us / US_PER_DAY;
  let rest = us % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  const { y, m, d } = civilFromDays(Number(days));
  const secOfDay = Number(rest / 1_000_000n);
  const frac = Number(rest % 1_000_000n);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(y).padStart(4, '0')}-${two(m)}-${two(d)}T` +
    `${two(Math.floor(secOfDay / 3600))}:${two(Math.floor(secOfDay / 60) % 60)}:${two(secOfDay % 60)}` +
    `.${String(frac).padStart(6, '0')}`
  );
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Its inverse (civil_from_days).
function civilFromDays(z0: number): { y: number; m: number; d: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}
