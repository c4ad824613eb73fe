/** Durations in connection strings (`?ttl=7d`); timestamps are core's (core/test/timestamp.test.ts). */
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../src/duration';

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
