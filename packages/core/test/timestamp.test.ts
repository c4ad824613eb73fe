/** The fast path (usual 26-character form, cached seconds) against the strptime-exact parse; Python itself: report.test.ts. */
import { describe, expect, it } from 'vitest';
import { formatTimestamp } from '../src/clock';
import { microsToTimestamp, parseTimestamp, parseTimestampFull, timestampMicrosText } from '../src/timestamp';

describe('timestamps', () => {
  it('the fast path agrees with the exact parse across seconds, days and years, hit or miss', () => {
    const samples: string[] = [];
    for (let i = 0; i < 3000; i++) samples.push(formatTimestamp(Date.UTC(1970, 0, 1) + Math.random() * (Date.UTC(9999, 11, 31) - Date.UTC(1970, 0, 1))));
    // Runs of one second (cache hits), then the same seconds again out of order (map hits).
    const base = Date.UTC(2026, 11, 4, 12, 0, 0);
    for (let i = 0; i < 3000; i++) samples.push(formatTimestamp(base + (i % 7) * 1000 + (i % 997) / 1000));
    for (const ts of samples) {
      const exact = parseTimestampFull(ts);
      expect(parseTimestamp(ts)).toBe(exact);
      expect(timestampMicrosText(ts)).toBe(exact!.toString());
      expect(microsToTimestamp(exact!)).toBe(ts);
    }
  });

  it("a second's text changed in one character right after that second was read: never taken for it", () => {
    // The fast path compares a second by the number its digits make (separators checked):
    // each of the first 19 characters replaced, the same second read just before.
    const ts = '2026-12-06T05:04:41.123456';
    const subs = ['0', '9', '-', ':', 'T', 't', ' ', '/', '.', 'a', '\u0660', '\u00b2'];
    for (let i = 0; i < 19; i++) {
      for (const c of subs) {
        const changed = ts.slice(0, i) + c + ts.slice(i + 1);
        expect(timestampMicrosText(ts)).toBe(parseTimestampFull(ts)!.toString());
        expect(timestampMicrosText(changed)).toBe(parseTimestampFull(changed)?.toString());
        expect(parseTimestamp(changed)).toBe(parseTimestampFull(changed));
        // and the other way: the changed one read first, then the usual one
        expect(timestampMicrosText(ts)).toBe(parseTimestampFull(ts)!.toString());
      }
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
    '1970-01-01T00:00:00.000123',
    '1970-01-01T00:00:01.000001',
    '2026-11-23T04:00:00',
    '2026-11-23T04:00:00.000000Z',
    '',
  ])('%j: fast path and exact parse agree (both undefined where strptime fails)', (ts) => {
    // Twice: the second call may find its second cached.
    for (let k = 0; k < 2; k++) {
      expect(parseTimestamp(ts)).toBe(parseTimestampFull(ts));
      expect(timestampMicrosText(ts)).toBe(parseTimestampFull(ts)?.toString());
    }
  });
});
