// indexOfWireLines (src/wireindex.ts) against core's parse of every line (indexOfLines):
// the same index for core's own lines of every kind of point (requests, SQL with quotes
// and non-ASCII, errors, NaN, null and odd projects/services, extra keys) and for
// thousands of lines mutated at random (bytes changed, cut, keys renamed): a line the
// layout reader cannot take is parsed whole, so the two never differ.
import { describe, expect, it } from 'vitest';
import { linesOfNotifications, searchIndex } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { encodeLineBatch } from '../../agent/src/lines';
import { BATCH_BODY_OFFSET } from '../../agent/src/protocol';
import { PointSet } from '../src/points';
import { checkMessage, type Limits } from '../src/validate';
import { indexOfWireLines } from '../src/wireindex';

/** Deterministic: the same "random" lines on every run (a failure reproduces). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 0x100000000;
  };
}

const INFOS: Record<string, unknown>[] = [
  { host: 'h1' },
  { function: { name: 'f' }, host: 'bench' },
  { request: { method: 'GET', path: '/a/1', route: '/a/:id', query: 'x=1' }, host: 'web' },
  { request: { method: 'POST', url: 'http://x/"q"' }, host: 'web' },
  { db: { statement: 'SELECT "id" FROM t WHERE n = \'é\'', params: [1, 'two', null] }, host: 'db' },
  { exec: { command: 'ls -l\n/tmp' }, host: 'h' },
  { etype: 'ValueError', message: 'bad "value" \\ here', host: 'h' },
  { etype: 'E', message: null },
  { n: NaN, inf: Infinity, neg: -Infinity, host: 'h' },
  { nested: { project: 'p', service: 's', 'a", "project": null, "service": null}': 1 } },
  {},
];
const NAMES = ['wsgi-start', 'wsgi-stop', 'db-start', 'db-stop', 'x', 'a-start-stop', '-stop', 'naïve-start', 'q"uote-stop'];
const VALUES: (string | null)[] = [null, '', 'svc', 'p r/o"j', 'ünï', 'a\\b'];

function notifications(n: number, r: () => number): Notification[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const out: Notification[] = [];
  for (let i = 0; i < n; i++) {
    const base = `b${Math.floor(r() * 1e9)}`;
    const p: Record<string, unknown> = {
      name: pick(NAMES),
      base_id: base,
      trace_id: pick([`t${i}`, 'x'.repeat(128), 'x'.repeat(129), 'a b', '', 'ok:1.2_3-4']),
      parent_id: r() < 0.5 ? base : pick(['', 'p"x', `p${i}`]),
      timestamp: pick(['2026-12-05T06:00:00.123456', '2026-12-05T06:00:00', '2026-12-05T06:00:00.123456789', '2026-12-05T06:00:00.1234567890', '2026-12-05 06:00:00', '']),
      info: pick(INFOS),
      project: pick(VALUES),
      service: pick(VALUES),
    };
    if (r() < 0.05) p.extra = { project: 'x' };
    out.push(p as unknown as Notification);
  }
  return out;
}

/** `line` with a few random edits: a byte changed, a cut, a piece of a key moved. */
function mutate(line: string, r: () => number): string {
  const at = Math.floor(r() * line.length);
  const kind = Math.floor(r() * 5);
  const chars = '"\\{}:, \u0001nulx0';
  if (kind === 0) return line.slice(0, at) + chars[Math.floor(r() * chars.length)] + line.slice(at + 1);
  if (kind === 1) return line.slice(0, at) + chars[Math.floor(r() * chars.length)] + line.slice(at);
  if (kind === 2) return line.slice(0, at);
  if (kind === 3) return line.slice(0, at) + line.slice(at + 1 + Math.floor(r() * 12));
  const keys = [', "project": ', ', "service": ', '"info": ', '", "parent_id": "', 'null'];
  return line.slice(0, at) + keys[Math.floor(r() * keys.length)] + line.slice(at);
}

const parsed = (lines: readonly string[]) => searchIndex.indexOfLines({ baseIds: [], timestamps: [], lines, errors: null });

describe('indexOfWireLines', () => {
  it("is core's parse of core's lines", () => {
    const { lines } = linesOfNotifications(notifications(3000, rng(1)));
    expect(indexOfWireLines(lines)).toEqual(parsed(lines));
  });

  it("is core's parse of lines mutated at random", () => {
    const r = rng(2);
    const { lines } = linesOfNotifications(notifications(4000, r));
    const mutated = lines.map((l) => (r() < 0.9 ? mutate(r() < 0.3 ? mutate(l, r) : l, r) : l));
    expect(indexOfWireLines(mutated)).toEqual(parsed(mutated));
    // Lines one by one too (a difference names its line).
    for (const l of mutated.slice(0, 500)) expect([l, indexOfWireLines([l])]).toEqual([l, parsed([l])]);
  });

  it('takes the fields by position only from lines in the layout', () => {
    const { lines } = linesOfNotifications(notifications(1, rng(3)));
    const ok = '{"name": "db-start", "base_id": "b", "trace_id": "t", "parent_id": "b", "timestamp": "2026-12-05T06:00:00", "info": {"db": {"statement": "S"}, "host": "h"}, "project": null, "service": "s"}';
    expect(indexOfWireLines([ok])).toEqual(parsed([ok]));
    expect(indexOfWireLines([ok]).details).toEqual(['S']);
    // A control character in a fixed field: not JSON, indexed as the parse indexes it (empty).
    const ctl = ok.replace('db-start', 'db\u0001-start');
    expect(indexOfWireLines([ctl])).toEqual(parsed([ctl]));
    expect(indexOfWireLines([ctl]).names).toEqual(['']);
    // Anything after the object, or another key after service: parsed whole (and not JSON).
    for (const odd of [`${ok} `, `${ok}}`, `${ok.slice(0, -1)}, "x": 1}`, `${ok}, "project": null, "service": "t"}`]) {
      expect(indexOfWireLines([odd])).toEqual(parsed([odd]));
    }
    expect(indexOfWireLines(lines)).toEqual(parsed(lines));
  });

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
