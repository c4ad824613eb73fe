/** µs timestamps for the SQL `ts` column, checked against core's strptime-exact parser. */
import { formatTimestamp, parseTimestamp } from '@osprofiler/core/instrument';
import { describe, expect, it } from 'vitest';
import { microsToTimestamp, timestampMicrosText } from '../src/timestamp';
import { parseDurationMs } from '../src/duration';

describe('timestampMicrosText', () => {
  it('agrees with parseTimestamp when consecutive timestamps change second (no cached second)', () => {
    for (let i = 0; i < 2000; i++) {
      const ts = formatTimestamp(Date.UTC(1970, 0, 1) + Math.random() * (Date.UTC(9999, 11, 31) - Date.UTC(1970, 0, 1)));
      expect(timestampMicrosText(ts)).toBe(parseTimestamp(ts)!.toString());
    }
  });

  it('agrees with parseTimestamp on the usual form, across seconds, days and years', () => {
    for (let i = 0; i < 5000; i++) {
      const ms = Date.UTC(1971, 0, 1) + Math.random() * (Date.UTC(2200, 0, 1) - Date.UTC(1971, 0, 1));
      const ts = formatTimestamp(ms);
      expect(timestampMicrosText(ts)).toBe(parseTimestamp(ts)!.toString());
      expect(microsToTimestamp(BigInt(timestampMicrosText(ts)!))).toBe(ts);
    }
  });

  it.each([
    '2026-11-23T04:00:00.1',
    '2026-1-2T3:4:5.000001',
    '0001-01-01T00:00:00.000000',
    '9999-12-31T23:59:59.999999',
    '1969-12-31T23:59:59.999999',
    '2026-11-23T04:00:00.00000x',
    '2026-02-30T04:00:00.000000',
    '2024-02-29T23:59:59.000001',
    '2023-02-29T00:00:00.000000',
    '2100-02-29T00:00:00.000000',
    '2000-02-29T00:00:00.000000',
    '2026-04-31T00:00:00.000000',
    '2026-13-01T00:00:00.000000',
    '2026-11-23T24:00:00.000000',
    '2026-11-23T04:00:60.000000',
    '2026-11-23 04:00:00.000000',
    '1970-01-01T00:00:00.000000',
    '2026-11-23T04:00:00',
    '2026-11-23T04:00:00.000000Z',
    '',
  ])('%j as Python would read it', (ts) => {
    expect(timestampMicrosText(ts)).toBe(parseTimestamp(ts)?.toString());
  });

  it('microsToTimestamp inverts parseTimestamp down to year 1 and up to 9999', () => {
    for (const ts of ['0001-01-01T00:00:00.000000', '1969-12-31T23:59:59.999999', '2000-02-29T12:00:00.000001', '9999-12-31T23:59:59.999999']) {
      expect(microsToTimestamp(parseTimestamp(ts)!)).toBe(ts);
    }
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['7d', 604_800_000],
    ['12h', 43_200_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['2w', 1_209_600_000],
    ['90', 90_000],
    ['1.5h', 5_400_000],
  ])('%s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'soon', '-1d', '7 days', '1e3s'])('rejects %j', (text) => expect(parseDurationMs(text)).toBeUndefined());
});
