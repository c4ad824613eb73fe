// The search index carried with the lines ('I' bodies, src/lineindex.ts): what the client
// encodes decodes to exactly what parsing the lines gives; splitting and merging bodies
// keep it; a garbled section is dropped (the lines still decode and are parsed instead).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Notification } from '@osprofiler/core';
import { linesOfNotifications, searchIndex, type LineBatch } from '@osprofiler/core/instrument';
import { DecodedLines, bodyLayout, encodeLineBatch, encodeLinesBody, mergeLineBodies, notificationText, withoutIndex, type TextPart } from '../src/lines';
import { BATCH_BODY_OFFSET } from '../src/protocol';

const CLIENT = Buffer.alloc(16, 7);

/** Points of many shapes: requests with routes, SQL, errors, non-ASCII, null project/service, other hosts. */
function notes(n: number, seed = 0): Notification[] {
  const out: Notification[] = [];
  for (let i = 0; i < n; i++) {
    const base = `base-${(i + seed) % 5}`;
    const stop = i % 2 === 1;
    const k = i % 6;
    const info: Record<string, unknown> =
      k === 0
        ? { request: { method: 'GET', path: `/items/${i}`, ...(stop ? { route: '/items/:id' } : {}) } }
        : k === 1
          ? { db: { statement: `SELECT * FROM t WHERE id = ${i} — café ☕` } }
          : k === 2
            ? { etype: 'ValueError', message: `bad ${i}` }
            : k === 3
              ? { function: { name: `fn_${i % 3}` } }
              : k === 4
                ? { exec: { command: 'ls -l' } }
                : { nested: { deep: [1, 'two', null] } };
    out.push({
      name: `${k === 1 ? 'db' : 'wsgi'}${i % 7 === 0 ? '-ünï' : ''}-${stop ? 'stop' : 'start'}`,
      base_id: base,
      trace_id: `trace-${i}`,
      parent_id: i % 3 === 0 ? base : `parent-${i % 4}`,
      timestamp: `2026-12-04T10:00:00.${String(i).padStart(6, '0')}`,
      info: { ...info, host: i % 4 === 0 ? 'host-b' : 'host-a' },
      project: i % 5 === 0 ? null : 'proj',
      service: i % 8 === 0 ? null : `svc-${i % 2}`,
    });
  }
  return out;
}

function part(b: LineBatch, from = 0, count = b.lines.length): TextPart {
  const errors: number[] = [];
  for (let i = from; i < from + count; i++) if (b.errors?.[i] === 1) errors.push(i - from);
  return { text: b.lines.slice(from, from + count).join('\n') + '\n', count, errors: errors.length ? errors : null, index: b.index, from };
}

function body(frame: Buffer): Buffer {
  return frame.subarray(BATCH_BODY_OFFSET);
}

function decode(b: Buffer, count: number): DecodedLines {
  const d = new DecodedLines();
  expect(d.append(b, count)).toBe(true);
  return d;
}

/** What parsing the lines gives (the path without a carried index). */
function parsed(d: DecodedLines) {
  return searchIndex.indexOfLines({ lines: d.lines });
}

describe('carried LineIndex', () => {
  it('decodes to exactly what parsing the lines gives (and the deltas agree)', () => {
    const b = linesOfNotifications(notes(60), notificationText);
    const { frame } = encodeLineBatch(CLIENT, 1, [part(b, 0, 25), part(b, 25, 35)], true);
    expect(body(frame)[0]).toBe(0x49);
    const d = decode(body(frame), 60);
    expect(d.badIndexes).toBe(0);
    expect(d.points.complete).toBe(true);
    expect(d.index).toEqual(parsed(d));
    expect(d.index).toEqual(b.index);
    const withIndex = searchIndex.deltasOfBatch(d);
    const without = searchIndex.deltasOfBatch({ baseIds: d.baseIds, timestamps: d.timestamps, lines: d.lines, errors: d.errors, timeKeys: d.timeKeys });
    expect(d.timeKeys).toBeDefined();
    expect([...withIndex.entries()]).toEqual([...without.entries()]);
  });

  it('without withIndex (an agent that did not ask) or a part without index the body is plain L', () => {
    const b = linesOfNotifications(notes(10), notificationText);
    expect(body(encodeLineBatch(CLIENT, 1, [part(b)]).frame)[0]).toBe(0x4c);
    expect(body(encodeLineBatch(CLIENT, 1, [part(b), { ...part(b), index: undefined }], true).frame)[0]).toBe(0x4c);
    const d = decode(body(encodeLineBatch(CLIENT, 1, [part(b)]).frame), 10);
    expect(d.index).toEqual(parsed(d)); // read by position, as indexOfLines reads the lines
  });

  it('withoutIndex turns an I frame into the L frame an older agent reads', () => {
    const b = linesOfNotifications(notes(12), notificationText);
    const i = encodeLineBatch(CLIENT, 3, [part(b)], true).frame;
    const l = encodeLineBatch(CLIENT, 3, [part(b)], false).frame;
    expect(withoutIndex(i).equals(l)).toBe(true);
    expect(withoutIndex(l)).toBe(l);
  });

  it('split by subject and merged again, every piece keeps an index equal to its parsed lines', () => {
    const b = linesOfNotifications(notes(40), notificationText);
    const d = decode(body(encodeLineBatch(CLIENT, 1, [part(b)], true).frame), 40);
    const errs = d.errors;
    const isError = (i: number): boolean => errs?.[i] === 1;
    const odd = encodeLinesBody(d, [1, 3, 5, 7, 9, 39], isError);
    const even = encodeLinesBody(d, [0, 2, 4, 38], isError);
    for (const [piece, n] of [[odd, 6], [even, 4]] as const) {
      expect(piece[0]).toBe(0x49);
      const p = decode(piece, n);
      expect(p.index).toEqual(parsed(p));
    }
    const merged = mergeLineBodies([{ count: 6, body: odd }, { count: 4, body: even }]);
    const m = decode(merged, 10);
    expect(m.badIndexes).toBe(0);
    expect(m.index).toEqual(parsed(m));
    expect(m.errors).toEqual(new Uint8Array([...[1, 3, 5, 7, 9, 39], ...[0, 2, 4, 38]].map((i) => (isError(i) ? 1 : 0))));
    // One body without an index: the merge is plain L (the receiver parses).
    const l = body(encodeLineBatch(CLIENT, 1, [part(b, 0, 3)]).frame);
    expect(encodeLinesBody(decode(l, 3), [0, 2], () => false)[0]).toBe(0x4c);
    const mixed = mergeLineBodies([{ count: 6, body: odd }, { count: 3, body: l }]);
    expect(mixed[0]).toBe(0x4c);
    expect(decode(mixed, 9).lines).toEqual([...decode(odd, 6).lines, ...b.lines.slice(0, 3)]);
  });

  it('points with and without a carried entry in one batch: the missing ones are parsed, the index equals the parsed one', () => {
    const b = linesOfNotifications(notes(60, 3), notificationText);
    const indexed = body(encodeLineBatch(CLIENT, 1, [part(b, 0, 20)], true).frame);
    const plain = body(encodeLineBatch(CLIENT, 2, [part(b, 20, 25)], false).frame);
    const indexedAgain = body(encodeLineBatch(CLIENT, 3, [part(b, 45, 15)], true).frame);
    expect([indexed[0], plain[0], indexedAgain[0]]).toEqual([0x49, 0x4c, 0x49]);
    const d = new DecodedLines();
    expect(d.append(indexed, 20) && d.append(plain, 25) && d.append(indexedAgain, 15)).toBe(true);
    expect(d.points.complete).toBe(false);
    expect(d.index).toEqual(parsed(d));
    expect(d.index).toEqual(b.index);
  });
  it('a garbled index section is dropped and counted; the lines decode as they are', () => {
    const b = linesOfNotifications(notes(30, 3), notificationText);
    const good = body(encodeLineBatch(CLIENT, 1, [part(b)], true).frame);
    const l = bodyLayout(good)!;
    const lines = decode(good, 30).lines;
    const s = good.readUInt32BE(l.indexStart);
    const rec0 = l.textStart - 30 * 29;
    const forge: [string, (x: Buffer) => void][] = [
      ['string count above 7 a point', (x) => x.writeUInt32BE(7 * 30 + 1, l.indexStart)],
      ['string count one short', (x) => x.writeUInt32BE(s - 1, l.indexStart)],
      ['string length past the section', (x) => x.writeUInt32BE(0xfffffff0, l.indexStart + 4)],
      ['ref out of range', (x) => x.writeUInt32BE(s, rec0 + 1)],
      ['phase 7', (x) => (x[rec0 + 29 * 3] = 7)],
    ];
    for (const [what, f] of forge) {
      const bad = Buffer.from(good);
      f(bad);
      const d = decode(bad, 30);
      expect(d.badIndexes, what).toBe(1);
      expect(d.lines, what).toEqual(lines);
      expect(d.index, what).toEqual(parsed(d)); // the lines read as if they came without one
    }
    // A section length that runs into the text: the body does not decode at all (as a bad body).
    const over = Buffer.from(good);
    over.writeUInt32BE(good.length, l.indexStart - 4);
    expect(new DecodedLines().append(over, 30)).toBe(false);
    // Random bytes over the whole section, many times: never a throw, never a line lost.
    for (let k = 0; k < 300; k++) {
      const bad = Buffer.from(good);
      const at = l.indexStart + (k % (l.textStart - l.indexStart));
      randomBytes(1 + (k % 9)).copy(bad, at, 0, Math.min(1 + (k % 9), l.textStart - at));
      const d = new DecodedLines();
      expect(d.append(bad, 30)).toBe(true);
      expect(d.lines).toEqual(lines);
      const ix = d.index; // when the structure still checks out, strings may differ, never the shape
      if (ix !== undefined) for (const a of [ix.names, ix.parentIds, ix.projects, ix.services, ix.hosts, ix.details, ix.routes]) expect(a.length).toBe(30);
    }
    // A merge that holds a garbled section is plain L (the bad refs are never shifted onto other strings).
    const bad = Buffer.from(good);
    bad.writeUInt32BE(s, rec0 + 1);
    expect(mergeLineBodies([{ count: 30, body: good }, { count: 30, body: bad }])[0]).toBe(0x4c);
  });
});
