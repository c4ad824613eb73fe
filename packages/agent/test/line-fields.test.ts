// The decode's base_id and timestamp of lines that came with an index ('I' bodies) or off
// LINE_HEAD's layout (src/lines.ts: the keys found by their quotes and compared as bytes,
// `timestampKey`) against the key searches they replace (`reference` below): the same lines
// taken or refused, the same base_ids and timestamps, for lines at the edges (keys inside
// fields, values starting with `,`, escapes, control characters) and thousands mutated at
// random; and the same as the 'L' decode of the same lines.
import { describe, expect, it } from 'vitest';
import { linesOfNotifications, parseStoredEvent } from '@osprofiler/core/instrument';
import { decode, line } from './support/decode-lines';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

const LINE_START = '{"name": "';
const BASE_KEY = '", "base_id": "';
const TIMESTAMP_KEY = '", "timestamp": "';

/** The decode's fields of one line as the key searches found them (the code before), or undefined: refused. */
function reference(l: string): { base: string; ts: string } | undefined {
  if (l.length < LINE_START.length + 2 || !l.endsWith('}') || !l.startsWith(LINE_START)) return undefined;
  const b = l.indexOf(BASE_KEY, LINE_START.length);
  if (b < 0) return undefined;
  const b0 = b + BASE_KEY.length;
  const b1 = l.indexOf('"', b0);
  const t = b1 < 0 ? -1 : l.indexOf(TIMESTAMP_KEY, b1);
  const ts0 = t + TIMESTAMP_KEY.length;
  const ts1 = t < 0 ? -1 : l.indexOf('"', ts0);
  if (ts1 < 0) return undefined;
  if (l.slice(b0, b1).includes('\\') || l.slice(ts0, ts1).includes('\\')) {
    const ev = parseStoredEvent(l);
    if (ev === undefined || typeof ev.base_id !== 'string' || ev.base_id === '') return undefined;
    return { base: ev.base_id, ts: String(ev.timestamp) };
  }
  if (b1 === b0) return undefined;
  return { base: l.slice(b0, b1), ts: l.slice(ts0, ts1) };
}

/** Decoded as an 'I' body (one window, and small ones) and as an 'L' body: the reference's fields, or refused when it refuses a line. */
function expectAsReference(lines: readonly string[]): void {
  const want = lines.map(reference);
  const refused = want.some((x) => x === undefined);
  for (const indexed of [true, false]) {
    for (const w of [undefined, 200]) {
      const d = decode(lines, indexed, w);
      if (refused) {
        expect([lines, d]).toEqual([lines, undefined]);
        continue;
      }
      expect(d).toBeDefined();
      expect([lines, d!.baseIds]).toEqual([lines, want.map((x) => x!.base)]);
      expect([lines, d!.timestamps]).toEqual([lines, want.map((x) => x!.ts)]);
      expect(d!.lines).toEqual(lines);
      if (indexed) expect(d!.points.complete).toBe(true);
    }
  }
}

describe("the decode's base_id and timestamp found by the keys' quotes", () => {
  it("is core's lines' fields, trace after trace", () => {
    const { lines } = linesOfNotifications(notifications(3000, rng(21)));
    expectAsReference(lines);
  });

  it('is the key searches at the edges of the layout', () => {
    const odd = [
      line({}),
      line({ trace: ', "timestamp": "x' }), // a trace_id holding the timestamp's key
      line({ trace: ',' }),
      line({ trace: '' }),
      line({ parent: ', "timestamp": "y' }),
      line({ parent: ',' }),
      line({ parent: '' }),
      line({ trace: '", "parent_id": "q' }),
      line({ trace: 'a", "x": "', parent: 'p' }),
      line({ parent: 'p", "timestamp": "z' }),
      line({ name: 'n", "base_id": "inner' }), // the name holding the base_id's key
      line({ name: 'n\\", "base_id": "inner' }),
      line({ name: 'n", "base' }),
      line({ name: '"' }),
      line({ base: 'b", "trace_id": "t2' }),
      line({ base: 'b\\"q' }),
      line({ base: 'b\\u0031' }),
      line({ ts: '2026\\u0031' }),
      line({ ts: '' }),
      line({ base: '' }),
      line({ base: 'b\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000x' }), // zero bytes: compared in place as floats
      line({ base: '\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0080y' }),
      line({ base: 'b\u0001' }),
      line({ name: 'naïve-start', base: 'bé' }),
      '{"name": "x", "trace_id": "t", "base_id": "b", "parent_id": "b", "timestamp": "2026", "info": {}, "project": null, "service": null}',
      '{"name": "x", "base_id": "b", "parent_id": "b", "trace_id": "t", "timestamp": "2026", "info": {}, "project": null, "service": null}',
      '{"name": "x", "base_id": "b", "trace_id": "t",  "parent_id": "b", "timestamp": "2026", "info": {}, "project": null, "service": null}',
      '{"name": "x", "base_id": "b", "timestamp": "2026", "info": {}, "project": null, "service": null}',
      '{"name": "x", "base_id": "b", "info": {}, "project": null, "service": null, "timestamp": "2026"}',
      '{"name": "x", "base_id": "b"}',
      '{"name": "x", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026',
      '{"name": "x"}',
      '{"name":"x", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026", "info": {}}',
    ];
    for (const l of odd) {
      expectAsReference([l]);
      expectAsReference([line({}), l, line({ base: 'b' }), line({ base: 'c' })]);
    }
    // The same base_id in place after ids of every length around the 8-byte reads, and zero bytes.
    const ids = ['b', 'bb', 'bbbb', 'bbbbbbb', 'bbbbbbbb', 'bbbbbbbbb', 'bbbbbbbbbbbbbbbb', 'bbbbbbbbbbbbbbbbb', '\u0000'.repeat(8), '\u0000'.repeat(7) + '\u0080', '\u0000'.repeat(16)];
    const lines: string[] = [];
    for (const a of ids) for (const b of ids) lines.push(line({ base: a }), line({ base: a }), line({ base: b }), line({ base: b.slice(0, -1) + 'c' }));
    expectAsReference(lines);
  });

  it('is the key searches for lines mutated at random', () => {
    const r = rng(22);
    const { lines } = linesOfNotifications(notifications(3000, r));
    let taken = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = r() < 0.9 ? mutate(r() < 0.3 ? mutate(lines[i], r) : lines[i], r) : lines[i];
      if (l.includes('\n')) continue;
      if (reference(l) !== undefined) taken++;
      expectAsReference([lines[(i + 1) % lines.length], l, lines[(i + 2) % lines.length]]);
    }
    expect(taken).toBeGreaterThan(1500);
  });
});
