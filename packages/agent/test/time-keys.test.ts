// Each decoded point's timestamp key (src/lines.ts `timeKeyAt`, `DecodedLines.timeKeys`), read
// from the frame's bytes where the head was read by position: core's timeKey of its timestamp
// for every point, or none for the batch when one point has none (then the search index
// compares the texts, as before).
import { describe, expect, it } from 'vitest';
import { timeKey } from '@osprofiler/core/instrument';
import { DecodedLines } from '../src/lines';
import { decode, line } from './support/decode-lines';
import { rng } from '../../../tools/testing/random-lines';
import { KEYED_STAMPS } from '../../../tools/testing/time-stamps';

/** Every point keyed, each key core's timeKey of its timestamp. */
function expectKeyed(d: DecodedLines | undefined, stamps: readonly string[], label: string): void {
  expect(d, label).toBeDefined();
  expect(d!.timestamps, label).toEqual(stamps);
  const keys = d!.timeKeys;
  expect(keys, label).toBeDefined();
  expect([...keys!], label).toEqual(stamps.map(timeKey));
}

describe('decoded timestamp keys', () => {
  it("are core's timeKey of each timestamp, for 300 seeded bodies of stamps in any order, heads read by position or by the carried index, one string or small windows", () => {
    const r = rng(2026_12_06);
    for (let b = 0; b < 300; b++) {
      const n = 1 + Math.floor(r() * 40);
      const stamps = Array.from({ length: n }, () => KEYED_STAMPS[Math.floor(r() * KEYED_STAMPS.length)]);
      // Runs of one trace's points, as clients send them.
      const lines = stamps.map((ts, i) => line({ ts, base: `b${Math.floor(i / 3)}`, parent: r() < 0.5 ? `b${Math.floor(i / 3)}` : 'p' }));
      for (const indexed of [false, true]) for (const w of [undefined, 300]) expectKeyed(decode(lines, indexed, w), stamps, `body ${b}, indexed ${indexed}, window ${w}`);
    }
  });

  it('alternating days and seconds each get their own key (the last day read is kept, not assumed)', () => {
    const stamps = ['2027-01-01T00:00:01.000001', '2027-01-01T00:00:02.000002', '2027-01-02T00:00:01.000003', '2027-01-01T23:59:59.999999', '2027-01-02T00:00:02.000005'];
    expectKeyed(decode(stamps.map((ts) => line({ ts }))), stamps, 'alternating');
    expect(timeKey(stamps[1]) - timeKey(stamps[0])).toBe(1_000_001);
  });

  it.each([
    ['a date that does not exist, after its neighbour day', '2028-02-30T00:00:00.000000'],
    ['before 1970', '1969-12-31T23:59:59.999999'],
    ['a lower-case T', '2027-01-01t00:00:00.000000'],
    ['a short fraction', '2027-01-01T00:00:00.5'],
    ['a letter in the fraction', '2027-01-01T00:00:00.00000a'],
    ['a space for the T', '2027-01-01 00:00:00.000000'],
    ['an hour past 23', '2027-01-01T24:00:00.000000'],
  ])('are none for the batch when one point has %s; its timestamp is still read', (_, odd) => {
    // The stamp before it is on 2027-01-01: an odd one on that day is read against the kept day.
    const stamps = ['2028-02-28T00:00:00.000000', '2027-01-01T00:00:00.000001', odd, '2027-01-01T00:00:00.000002'];
    const lines = stamps.map((ts) => line({ ts }));
    for (const indexed of [false, true]) {
      const d = decode(lines, indexed);
      expect(d).toBeDefined();
      expect(d!.timestamps.slice(0, 2)).toEqual(stamps.slice(0, 2));
      expect(d!.timestamps[2]).toBe(odd);
      expect(d!.timeKeys).toBeUndefined();
    }
  });

  it('are read from the parsed timestamp where the head has an escape', () => {
    const stamps = ['2027-01-01T00:00:00.000001', '2027-01-01T00:00:00.00000\\u0032', '2027-01-01T00:00:01.000003'];
    const d = decode(stamps.map((ts) => line({ ts })));
    expect(d!.timestamps[1]).toBe('2027-01-01T00:00:00.000002');
    expect([...d!.timeKeys!]).toEqual(d!.timestamps.map(timeKey));
  });

  it('a refused body leaves the keys of the bodies before it', () => {
    const good = decode(['2027-01-01T00:00:00.000001', '2027-01-01T00:00:00.000002'].map((ts) => line({ ts })))!;
    const d = new DecodedLines();
    const body = Buffer.concat([Buffer.from([0x4c, 0, 0, 0, 0]), Buffer.from(good.lines.join('\n') + '\n', 'latin1')]);
    expect(d.append(body, 2)).toBe(true);
    // Its count wrong: refused, though its only point has no key.
    const bad = Buffer.concat([Buffer.from([0x4c, 0, 0, 0, 0]), Buffer.from(line({ ts: '1969-01-01T00:00:00.000000' }) + '\n', 'latin1')]);
    expect(d.append(bad, 2)).toBe(false);
    expect(d.count).toBe(2);
    expect([...d.timeKeys!]).toEqual(good.timestamps.map(timeKey));
    expect(new DecodedLines().timeKeys).toBeUndefined();
  });
});
