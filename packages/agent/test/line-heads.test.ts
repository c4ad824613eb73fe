// The decode's head read by position (src/lines.ts readHead: lines without a carried index)
// against core's parse of every line: the same base_ids, timestamps and search index for
// lines at the edges of the layout (escapes and control characters in each field, keys in
// another order, INFO holding the tail's keys) and for thousands of lines mutated at random.
import { describe, expect, it } from 'vitest';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import { decode, expectAsParsed, line } from './support/decode-lines';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

describe("the decode's head read by position", () => {
  it("is core's parse of core's lines, one trace after another", () => {
    const { lines } = linesOfNotifications(notifications(3000, rng(11)));
    expectAsParsed(lines);
  });

  it('is the parse at the edges of the layout', () => {
    const odd = [
      line({}),
      line({ name: 'a\\"b-stop' }), // an escaped quote right before a field's end
      line({ name: 'x\\\\' }), // `\\` before the closing quote
      line({ parent: 'p\\\\' }),
      line({ trace: 't\\"x' }),
      line({ ts: '2026-12-05T06:00:00\\u0031' }),
      line({ base: 'b\\u0031' }),
      line({ name: 'n\u0001-start' }), // raw control characters: not JSON, indexed empty
      line({ base: 'b\u001f' }),
      line({ trace: 't\t' }),
      line({ parent: '\u0000' }),
      line({ ts: '2026\u0007' }),
      line({ name: 'naïve-start', parent: 'é' }), // non-ASCII (latin1 bytes of UTF-8)
      line({ name: '', trace: '', parent: '', ts: '' }), // empty fields
      line({ info: '{"project": "x", "service": "y"}' }),
      line({ info: '{"a": "\\", \\"project\\": null"}' }),
      line({ info: '{"nested": {"project": null, "service": null}}', tail: ', "project": null, "service": null}' }),
      line({ info: '"s, \\"project\\": null, \\"service\\": null}"' }),
      line({ info: '{"x": "y"}, "project": null, "service": null}, "project": null' }), // INFO holding the tail's keys
      line({ tail: ', "service": "s", "project": "p"}' }), // keys in another order
      line({ tail: ', "project": null, "service": null, "extra": 1}' }),
      line({ tail: ', "project": 1, "service": null}' }),
      line({ info: 'NaN' }),
      line({ info: '{"n": NaN}' }),
      line({ info: '' }),
      line({ info: '{"x": 1} ' }),
      '{"base_id": "b", "name": "db-start", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": {}, "project": null, "service": null}',
      '{"name": "db-start", "base_id": "b", "parent_id": "b", "trace_id": "t", "timestamp": "2026-12-05T06:00:00", "info": {}, "project": null, "service": null}',
      '{"name": "db-start", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info":{}, "project": null, "service": null}',
      '{"name": "db-start",  "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": {}, "project": null, "service": null}',
    ];
    // Lines the decode takes (one not starting with the name, or without `", "base_id": "`, is refused whole).
    const taken = odd.filter((l) => decode([l]) !== undefined);
    expect(odd.filter((l) => !taken.includes(l)).map((l) => l.slice(0, 12))).toEqual(['{"base_id": ', '{"name": "db']);
    expectAsParsed(taken);
    for (const l of taken) expectAsParsed([l]);
    // Between lines of one trace (the base_id compared in place): a control character after a plain one.
    expectAsParsed([line({}), line({ base: 'b\u0001' }), line({}), line({ base: 'bb' }), line({ base: 'b' })]);
  });

  it('is the parse when the fields change length from line to line', () => {
    // readHead tries each field's end at the last line's length first: every length from 1
    // to 60 after every other, so a guess lands on every place in the keys after it.
    const r = rng(13);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = () => 1 + Math.floor(r() * 60);
      lines.push(line({ name: 'x'.repeat(n()), base: 'b'.repeat(n()), trace: ', trace_id'.repeat(1 + (i % 3)).slice(0, n()), parent: 'p, time'.repeat(9).slice(0, n()) }));
    }
    expectAsParsed(lines);
  });

  it('is the parse of lines mutated at random', () => {
    const r = rng(12);
    const { lines } = linesOfNotifications(notifications(3000, r));
    let taken = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = r() < 0.9 ? mutate(r() < 0.3 ? mutate(lines[i], r) : lines[i], r) : lines[i];
      if (l.includes('\n') || decode([l]) === undefined) continue; // refused whole (no base_id, not a line)
      taken++;
      expectAsParsed([lines[(i + 1) % lines.length], l, lines[(i + 2) % lines.length]]);
    }
    expect(taken).toBeGreaterThan(1500);
  });
});
