// The raw body of BATCH frames (src/lines.ts): what the client frames, what the agent
// decodes from it, and bodies that must be refused.
import { describe, expect, it } from 'vitest';
import { pyDumps, type Notification } from '@osprofiler/core';
import { searchIndex } from '@osprofiler/core/instrument';
import { DecodedLines, encodeLineBatch, isLinesBody, notificationText, type TextPart } from '../src/lines';
import { FrameReader } from '../src/protocol';

function note(baseId: string, i: number, info: Record<string, unknown> = {}): Notification {
  return {
    name: `step-${i % 2 ? 'stop' : 'start'}`,
    base_id: baseId,
    trace_id: `t-${i}`,
    parent_id: baseId,
    timestamp: `2026-11-23T06:30:00.${String(i).padStart(6, '0')}`,
    info: { ...info, host: 'h' },
    project: 'p',
    service: null,
  };
}

function frameBody(parts: TextPart[]): { body: Buffer; count: number } {
  const { frame, count } = encodeLineBatch(Buffer.alloc(16, 7), 9, parts);
  const [f] = new FrameReader(1 << 20).push(frame);
  expect(f.type).toBe(3);
  expect(f.payload.readUInt32BE(16)).toBe(9);
  expect(f.payload.readUInt32BE(20)).toBe(count);
  return { body: f.payload.subarray(24), count };
}

describe('raw line bodies', () => {
  it('carry whole texts; the agent finds every base_id, timestamp and error point', () => {
    const a = [note('b1', 0), note('b1', 1, { etype: 'E' }), note('b2', 2)];
    const odd = [note('q"uo\\te', 3), note('é😀', 4, { etype: 'X' })];
    const parts: TextPart[] = [
      { text: a.map((n) => pyDumps(n) + '\n').join(''), count: 3, errors: [1] },
      { text: odd.map((n) => notificationText(n) + '\n').join(''), count: 2, errors: [1] },
    ];
    const { body, count } = frameBody(parts);
    expect(count).toBe(5);
    expect(isLinesBody(body)).toBe(true);
    const d = new DecodedLines();
    expect(d.append(body, count)).toBe(true);
    const all = [...a, ...odd];
    expect(d.baseIds).toEqual(all.map((n) => n.base_id));
    expect(d.timestamps).toEqual(all.map((n) => n.timestamp));
    expect(d.lines).toEqual(all.map((n) => pyDumps(n)));
    expect(d.buffers.map((b) => b.toString('latin1'))).toEqual(all.map((n) => pyDumps(n)));
    expect([...(d.errors ?? [])]).toEqual([0, 1, 0, 0, 1]);
    // A second body appends after the first.
    expect(d.append(frameBody([{ text: pyDumps(note('b3', 5)) + '\n', count: 1, errors: null }]).body, 1)).toBe(true);
    expect(d.count).toBe(6);
    expect(d.baseIds[5]).toBe('b3');
    // Lines are sliced from each body's one text: read again after the append, they cover both.
    expect(d.lines).toEqual([...all, note('b3', 5)].map((n) => pyDumps(n)));
    expect(d.lines[0]).toBe(d.buffers[0].toString('latin1'));
  });

  it('finds escaped ids and timestamps wherever the backslashes before them are (info, earlier lines)', () => {
    // The decoder looks for the next backslash once and again only past it: escapes in
    // infos, in the id of one line and the timestamp of another, several in one line, one
    // in a trace_id before an escaped timestamp.
    const ts = (n: Notification, t: string): Notification => ({ ...n, timestamp: t });
    const all = [
      note('plain', 0, { db: { statement: 'a\\b "c"' } }),
      note('plain', 1),
      note('e\\sc', 2, { x: '\\' }),
      ts(note('p2', 3, { y: 'q"' }), '2026-11-23T06:30:00.\\u0031'),
      note('p3', 4),
      note('"', 5, { z: '\\\\' }),
      ts(note('p4', 6), 'x"y'),
      // A backslash between the id and the timestamp (trace_id), then one in the timestamp.
      ts({ ...note('p5', 7), trace_id: 't\\' }, 'z\\'),
      note('last', 8),
    ];
    const { body, count } = frameBody([{ text: all.map((n) => pyDumps(n) + '\n').join(''), count: all.length, errors: null }]);
    const d = new DecodedLines();
    expect(d.append(body, count)).toBe(true);
    expect(d.baseIds).toEqual(all.map((n) => n.base_id));
    expect(d.timestamps).toEqual(all.map((n) => n.timestamp));
    expect(d.lines).toEqual(all.map((n) => pyDumps(n)));
    // Heads without escapes are read by position for the index; it is the parse's either way.
    expect(d.index).toEqual(searchIndex.indexOfLines({ lines: d.lines }));
    const deltas = searchIndex.deltasOfBatch({ baseIds: d.baseIds, timestamps: d.timestamps, lines: d.lines, errors: d.errors });
    expect(searchIndex.deltasOfBatch(d)).toEqual(deltas);
    // Read again (a driver's retry): the same.
    expect(searchIndex.deltasOfBatch(d)).toEqual(deltas);
  });

  it('ends a text without its last LF (the client joins lines with LF) exactly as one with it', () => {
    const a = [note('b1', 0), note('b1', 1, { etype: 'E' })];
    const b = [note('b2', 2), note('b2', 3), note('b2', 4)];
    const lines = (ns: Notification[]): string[] => ns.map((n) => pyDumps(n));
    const withLf = frameBody([
      { text: lines(a).join('\n') + '\n', count: 2, errors: [1] },
      { text: lines(b).join('\n') + '\n', count: 3, errors: null },
    ]);
    // Joined only, and a text cut after a line's LF (what the client sends of a chunk it splits).
    const joined = lines(b).join('\n');
    const cut = joined.indexOf('\n') + 1;
    const without = frameBody([
      { text: lines(a).join('\n'), count: 2, errors: [1] },
      { text: joined.slice(0, cut), count: 1, errors: null },
      { text: joined.slice(cut), count: 2, errors: null },
    ]);
    expect(without.body.equals(withLf.body)).toBe(true);
    const d = new DecodedLines();
    expect(d.append(without.body, 5)).toBe(true);
    expect(d.lines).toEqual([...lines(a), ...lines(b)]);
  });

  it('writes objects in the wire key order whatever order they were built in', () => {
    const n = note('b', 1);
    const shuffled = { info: n.info, service: n.service, base_id: n.base_id, timestamp: n.timestamp, name: n.name, project: n.project, parent_id: n.parent_id, trace_id: n.trace_id } as Notification;
    expect(notificationText(shuffled)).toBe(pyDumps(n));
  });

  it('refuses bodies that are not exactly `count` well-formed lines, and appends nothing of them', () => {
    const good = pyDumps(note('b', 0)) + '\n';
    const body = (text: string, errors: number[] = []): Buffer => {
      const b = Buffer.alloc(5 + 4 * errors.length + text.length);
      b[0] = 0x4c;
      b.writeUInt32BE(errors.length, 1);
      errors.forEach((e, i) => b.writeUInt32BE(e, 5 + 4 * i));
      b.write(text, 5 + 4 * errors.length, 'latin1');
      return b;
    };
    const bad: [string, Buffer, number][] = [
      ['count too high', body(good), 2],
      ['count too low', body(good + good), 1],
      ['error index out of range', body(good, [1]), 1],
      ['more error indexes than points', body(good, [0, 0]), 1],
      ['not a notification line', body('{"x": 1}\n'), 1],
      ['no base_id key', body('{"name": "a", "trace_id": "t", "timestamp": "x"}\n'), 1],
      ['empty base_id', body(pyDumps(note('', 0)) + '\n'), 1],
      ['line cut', body('{"name": "a", "base_id": "b\n'), 1],
      ['no final newline', body(good.slice(0, -1)), 1],
      ['wrong magic', Buffer.concat([Buffer.from('X'), body(good).subarray(1)]), 1],
      ['JSON array', Buffer.from('[' + good.trim() + ']'), 1],
    ];
    const d = new DecodedLines();
    expect(d.append(body(good), 1)).toBe(true);
    for (const [why, b, count] of bad) {
      expect(d.append(b, count), why).toBe(false);
      expect(d.count, why).toBe(1);
      expect(d.errors, why).toBeNull();
      expect(d.lines, why).toEqual([good.slice(0, -1)]);
    }
    // Bytes above 0x7f (not ensure_ascii: a foreign client) read as latin1, as the store gets them.
    const raw = Buffer.from(good.replace('"h"', '"h\xe9"'), 'latin1');
    const d2 = new DecodedLines();
    expect(d2.append(body(raw.toString('latin1')), 1)).toBe(true);
    expect(d2.lines).toEqual([raw.toString('latin1').slice(0, -1)]);
    expect(d2.buffers[0].equals(raw.subarray(0, raw.length - 1))).toBe(true);
  });
});
