// The raw body of BATCH frames (src/lines.ts): round trips, and bodies that must be refused.
import { describe, expect, it } from 'vitest';
import { decodeLines, isLinesBody, lineRecord } from '../src/lines';

const LINE = '{"name": "a-start", "base_id": "b", "info": {"host": "h"}}';

describe('line records', () => {
  it('round-trip ids, timestamps, lines and error flags', () => {
    const recs = [
      ['0b5d4f1e-4c1a-4f3e-9a57-9e4f3c2b1a00', '2026-11-23T06:30:00.000001', LINE, false],
      ['tab\there%', 'ts\nnewline é', LINE, true],
      ['é😀', '', '{}', false],
    ] as const;
    const body = Buffer.from(recs.map(([b, t, l, e]) => lineRecord(b, t, l, e)).join(''), 'utf8');
    expect(isLinesBody(body)).toBe(true);
    // Encoded fields keep the body ASCII, so the agent can split it as latin1.
    expect([...body].every((c) => c < 0x80)).toBe(true);
    const got = decodeLines(body, 3);
    expect(got?.baseIds).toEqual(recs.map((r) => r[0]));
    expect(got?.timestamps).toEqual(recs.map((r) => r[1]));
    expect(got?.lines).toEqual(recs.map((r) => r[2]));
    expect([...(got?.errors ?? [])]).toEqual([0, 1, 0]);
    expect(decodeLines(Buffer.from(lineRecord('b', 't', LINE, false)), 1)?.errors).toBeNull();
  });

  it('refuses bodies that are not exactly `count` well-formed records', () => {
    const good = lineRecord('b', 't', LINE, false);
    const bad: [string, string, number][] = [
      ['count too high', good, 2],
      ['count too low', good + good, 1],
      ['flag out of range', '8' + good.slice(1), 1],
      ['no tabs', '0b' + LINE + '\n', 1],
      ['one tab', '0b\t' + LINE + '\n', 1],
      ['line not an object', '0b\tt\tnot json\n', 1],
      ['line cut', '0b\tt\t{"name": \n', 1],
      ['empty base id', '0\tt\t' + LINE + '\n', 1],
      ['bad percent-encoding', '2%E0%A4%A\tt\t' + LINE + '\n', 1],
      ['no final newline', good.slice(0, -1), 1],
    ];
    for (const [why, text, count] of bad) expect(decodeLines(Buffer.from(text), count), why).toBeUndefined();
    expect(isLinesBody(Buffer.from('[{}]'))).toBe(false);
    expect(isLinesBody(Buffer.from(good.slice(0, -1)))).toBe(false);
  });
});
