/** OSProfiler timestamps (`%Y-%m-%dT%H:%M:%S.%f`, UTC) as integer microseconds and back. */
import { parseTimestamp } from '@osprofiler/core/instrument';

export { parseTimestamp as timestampToMicros };

const US_PER_DAY = 86_400_000_000n;

/** Python's `datetime.strftime("%Y-%m-%dT%H:%M:%S.%f")` of microseconds since 1970. */
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

// H. Hinnant's civil_from_days (proleptic Gregorian), the inverse of core's daysFromCivil.
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

// The second of the last timestamp seen, and its µs: events of one batch share seconds.
let cachedSecond = '';
let cachedSecondMicros = 0;

/**
 * The timestamp as a decimal string of µs since 1970 (what the SQL `ts` column holds), or
 * undefined where Python's strptime would fail. The usual 26-character form is parsed
 * without regex or bigint; everything else goes through core's exact parser.
 */
export function timestampMicrosText(s: string): string | undefined {
  if (s.length === 26 && s.charCodeAt(19) === 46 /* . */) {
    let frac = 0;
    for (let i = 20; i < 26; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return slowMicrosText(s);
      frac = frac * 10 + d;
    }
    const second = s.slice(0, 19);
    if (second !== cachedSecond) {
      // A trace's first and last event often lie in different seconds: a miss must be cheap too.
      const us = secondMicros(s);
      if (us === undefined) return slowMicrosText(s);
      cachedSecond = second;
      cachedSecondMicros = us;
    }
    return String(cachedSecondMicros + frac);
  }
  return slowMicrosText(s);
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
 * µs of `YYYY-MM-DDTHH:MM:SS` (the first 19 characters) by Date.UTC, with no regex or
 * bigint; undefined for anything before 1970, past ~2255 or not a plain valid date and time
 * (those take core's exact parser).
 */
function secondMicros(s: string): number | undefined {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  const h = digits(s, 11, 13);
  const mi = digits(s, 14, 16);
  const se = digits(s, 17, 19);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > MONTH_DAYS[mo - 1] + (leap ? 1 : 0)) return undefined;
  const us = Date.UTC(y, mo - 1, d, h, mi, se) * 1000;
  // Past ~2255 µs no longer fit a double exactly: core's bigint parser then.
  return us > Number.MAX_SAFE_INTEGER - 1_000_000 ? undefined : us;
}

function slowMicrosText(s: string): string | undefined {
  return parseTimestamp(s)?.toString();
}
