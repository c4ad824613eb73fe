// core's line layout reader (src/line-layout.ts, inside searchIndex.indexOfLines) against the
// parse of every line: the same index for core's own lines of every kind of point and for
// thousands of lines mutated at random (bytes changed, cut, keys renamed): a line the layout
// reader cannot take is parsed whole, so the two never differ.
import { describe, expect, it } from 'vitest';
import { linesOfNotifications, parseStoredEvent, searchIndex } from '../src/instrument';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

const parsed = (lines: readonly string[]) => searchIndex.indexOfEvents(lines.map((l) => parseStoredEvent(l)));
const byLayout = (lines: readonly string[]) => searchIndex.indexOfLines({ lines });

describe('indexOfLines reads the layout', () => {
  it("is core's parse of core's lines", () => {
    const { lines } = linesOfNotifications(notifications(3000, rng(1)));
    expect(byLayout(lines)).toEqual(parsed(lines));
  });

  it("is core's parse of lines mutated at random", () => {
    const r = rng(2);
    const { lines } = linesOfNotifications(notifications(4000, r));
    const mutated = lines.map((l) => (r() < 0.9 ? mutate(r() < 0.3 ? mutate(l, r) : l, r) : l));
    expect(byLayout(mutated)).toEqual(parsed(mutated));
    // Lines one by one too (a difference names its line).
    for (const l of mutated.slice(0, 500)) expect([l, byLayout([l])]).toEqual([l, parsed([l])]);
  });

  it('reads a repeated INFO from its cache as the parse reads it, past the cache\'s bound and for long INFOs', () => {
    const line = (info: string) => `{"name": "f-stop", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": ${info}, "project": null, "service": "s"}`;
    const infos = Array.from({ length: 2500 }, (_, i) => `{"function": {"name": "f${i % 1300}"}, "host": "h${i % 7}"${i % 500 === 0 ? `, "x": "${'y'.repeat(300)}"` : ''}}`);
    const lines = [...infos, ...infos.reverse()].map(line);
    expect(byLayout(lines)).toEqual(parsed(lines));
    expect(byLayout(lines).details[1]).toBe('f1');
  });

  it('tells apart INFOs kept last (one length, lengths 64 apart, one a prefix of another), as the parse reads them', () => {
    const line = (info: string) => `{"name": "f-start", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": ${info}, "project": null, "service": "s"}`;
    const infos = ['{"host": "a"}', '{"host": "b"}', '{"host": "a"}', `{"host": "${'x'.repeat(64)}"}`, '{"host": "b"}', `{"host": "${'y'.repeat(64)}"}`, '{"hosT": "b"}', '{"host": "b"}', '"ab"', '"ab"', '{"a": 1}', '{"a": 1}, "project": null, "service": "s"}', '{"a": 1}'];
    const lines = [...infos, ...infos].map(line);
    expect(byLayout(lines)).toEqual(parsed(lines));
    expect(byLayout(lines).hosts.slice(0, 8)).toEqual(['a', 'b', 'a', 'x'.repeat(64), 'b', 'y'.repeat(64), '', 'b']);
    // One line at a time too (each call starts from what the last left).
    for (const l of lines) expect(byLayout([l])).toEqual(parsed([l]));
  });

  it('takes the fields by position only from lines in the layout', () => {
    const { lines } = linesOfNotifications(notifications(1, rng(3)));
    const ok = '{"name": "db-start", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": {"db": {"statement": "S"}, "host": "h"}, "project": null, "service": "s"}';
    expect(byLayout([ok])).toEqual(parsed([ok]));
    expect(byLayout([ok]).details).toEqual(['S']);
    // A control character in a fixed field: not JSON, indexed as the parse indexes it (empty).
    const ctl = ok.replace('db-start', 'db\u0001-start');
    expect(byLayout([ctl])).toEqual(parsed([ctl]));
    expect(byLayout([ctl]).names).toEqual(['']);
    // Anything after the object, or another key after service: parsed whole (and not JSON).
    // …and a line that ends where INFO would start (nothing kept matches an empty rest).
    for (const odd of [`${ok} `, `${ok}}`, `${ok.slice(0, -1)}, "x": 1}`, `${ok}, "project": null, "service": "t"}`, ok.slice(0, ok.indexOf('"info": ') + 8)]) {
      expect(byLayout([odd])).toEqual(parsed([odd]));
    }
    expect(byLayout(lines)).toEqual(parsed(lines));
  });
});
