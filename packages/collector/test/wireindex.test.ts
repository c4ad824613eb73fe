// Lines that came without an index: the PointSet's index (core's layout reader given the
// heads checkMessage matched, src/wireindex.ts) is core's parse of every line, and the
// checks made by the head RegExp refuse and keep exactly what the usual checks do.
// (The layout reader itself: packages/core/test/line-layout.test.ts.)
import { describe, expect, it } from 'vitest';
import { linesOfNotifications, parseStoredEvent, searchIndex } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { encodeLineBatch } from '../../agent/src/lines';
import { BATCH_BODY_OFFSET } from '../../agent/src/protocol';
import { PointSet } from '../src/points';
import { checkMessage, type Limits } from '../src/validate';
import { mutate, notifications, rng } from '../../../tools/testing/random-lines';

const parsed = (lines: readonly string[]) => searchIndex.indexOfEvents(lines.map((l) => parseStoredEvent(l)));

describe('lines without a carried index', () => {
  it("is what a PointSet of lines without a carried index gives the drivers", () => {
    const { lines } = linesOfNotifications(notifications(200, rng(4)));
    const set = new PointSet();
    for (const l of lines) set.push(Buffer.from(l, 'latin1'), 'b', '2026-12-05T06:00:00', false);
    expect(set.index).toEqual(parsed(lines));
    expect(new PointSet().index).toBeUndefined();
    // Checked messages joined (the SQL drivers' write): the heads follow their lines.
    const limits: Limits = { partitions: 1, maxPointBytes: 65_536, maxMessagePoints: 1000, maxInflatedBytes: 1 << 20 };
    // Lines of one length up to INFO, so a head read against another line would not fall back to the parse.
    const same = Array.from({ length: 10 }, (_, k) => ({ name: `n${k}-start`, base_id: `b${k}`, trace_id: `t${k}`, parent_id: `p${k}`, timestamp: '2026-12-05T06:00:00.123456', info: { host: `h${k}` }, project: null, service: 's' }));
    const good = linesOfNotifications(same as unknown as Notification[]).lines;
    const msg = (ls: string[]) => checkMessage(encodeLineBatch(Buffer.alloc(16), 1, [{ text: ls.join('\n'), count: ls.length, errors: null }]).frame.subarray(BATCH_BODY_OFFSET), '1', String(ls.length), 0, limits, undefined);
    const half = good.length >> 1;
    const a = msg(good.slice(0, half));
    const b = msg(good.slice(half));
    if (!a.ok || !b.ok) throw new Error('refused');
    expect(a.bad.length + b.bad.length).toBe(0);
    const all = new PointSet();
    all.concat(a.points);
    all.concat(b.points);
    expect(all.lines).toEqual(good);
    expect(all.index).toEqual(parsed(good));
  });

  it('checks lines without an index (trace_id and timestamp in the head RegExp) exactly as lines with one', () => {
    const r = rng(5);
    const limits: Limits = { partitions: 1, maxPointBytes: 65_536, maxMessagePoints: 100, maxInflatedBytes: 1 << 20 };
    const ns = notifications(3000, r);
    const { lines, index } = linesOfNotifications(ns);
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < lines.length; i++) {
      const l = r() < 0.5 ? mutate(lines[i], r) : lines[i];
      const text = `${lines[(i + 1) % lines.length]}\n${l}\n`;
      const part = { text, count: 2, errors: null, index, from: i === lines.length - 1 ? 0 : i };
      const plain = encodeLineBatch(Buffer.alloc(16), 1, [{ ...part, index: undefined }]).frame.subarray(BATCH_BODY_OFFSET);
      const indexed = encodeLineBatch(Buffer.alloc(16), 1, [part], true).frame.subarray(BATCH_BODY_OFFSET);
      expect(indexed[0]).toBe(0x49);
      const a = checkMessage(plain, '1', '2', 0, limits, undefined);
      const b = checkMessage(indexed, '2', '2', 0, limits, undefined);
      const seen = (c: typeof a) => (c.ok ? { bad: c.bad, lines: c.points.lines, base: c.points.baseIds } : { reason: c.reason, message: c.message });
      expect([l, seen(a)]).toEqual([l, seen(b)]);
      if (a.ok) refused += a.bad.length;
      if (a.ok && a.bad.length === 0) {
        passed++;
        expect(a.points.index).toEqual(parsed(a.points.lines));
      }
    }
    // Enough of both kinds: lines passed and lines sent to bad.
    expect(passed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });
});
