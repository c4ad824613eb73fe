/**
 * Timestamps for tests of timestamp keys (core `timeKey`, `LineBatch.timeKeys`): across a
 * second, a minute, a day, a leap day and a year, and 1970's first. Each has a key, and
 * their texts order as their times.
 */
export const KEYED_STAMPS: readonly string[] = [
  '2026-12-31T23:59:59.999999',
  '2027-01-01T00:00:00.000000',
  '2027-01-01T00:00:00.000001',
  '2027-01-01T00:00:59.999999',
  '2027-01-01T00:01:00.000000',
  '2028-02-28T23:59:59.500000',
  '2028-02-29T00:00:00.000000',
  '2028-03-01T00:00:00.000000',
  '1970-01-01T00:00:00.000000',
];
