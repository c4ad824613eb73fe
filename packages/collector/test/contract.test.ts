// The upstream contract's pure parts (PROTOCOL.md §Upstream): FNV-1a 32 partitions,
// project tokens, subjects, the project read by position, and splitting a batch by subject.
import { describe, expect, it } from 'vitest';
import { fnv1a32, lineProject, notificationText, partitionOf, pointsSubject, projectToken, splitBatch, DecodedLines } from '@osprofiler/agent';
import { baseIn, body, point } from './support/messages';

describe('upstream contract', () => {
  it('FNV-1a 32 matches the reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // UTF-8 bytes, not UTF-16 units.
    expect(fnv1a32('é')).toBe(Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0);
    expect(partitionOf('a', 16)).toBe(0xe40c292c % 16);
  });

  it('project tokens: safe bytes kept, others %XX, none as _', () => {
    expect(projectToken('shop_2-x')).toBe('shop_2-x');
    expect(projectToken('a.b c*>')).toBe('a%2Eb%20c%2A%3E');
    expect(projectToken('é')).toBe('%C3%A9');
    expect(projectToken(null)).toBe('_');
    expect(projectToken('')).toBe('_');
    expect(pointsSubject('osprofiler', 'shop', 3)).toBe('osprofiler.points.shop.3');
  });

  it('reads the top-level project by position, not one inside info', () => {
    const n = point('b', 'x-start', { project: 'top', info: { project: 'inner', s: 'a", "project": "fake' } });
    expect(lineProject(Buffer.from(notificationText(n), 'latin1'))).toBe('top');
    expect(lineProject(Buffer.from(notificationText({ ...n, project: null }), 'latin1'))).toBeNull();
    expect(lineProject(Buffer.from(notificationText({ ...n, project: 'q"x' }), 'latin1'))).toBe('q"x');
  });

  it('splits a batch by subject, keeping order and error indexes, with ids fixed by content', () => {
    const a = baseIn(0, 4);
    const b = baseIn(1, 4);
    const lines = [point(a, 'w-start'), point(b, 'w-start'), point(a, 'w-stop', { info: { etype: 'E' } }), point(b, 'w-stop', { project: 'other' })].map((n) => notificationText(n));
    const data = body(lines, [2]);
    const o = { subjectPrefix: 'p', partitions: 4, agentId: 'ag' };
    const parts = splitBatch(data, 4, o)!;
    expect(parts.map((m) => [m.subject, m.count])).toEqual([
      ['p.points.shop.0', 2],
      ['p.points.shop.1', 1],
      ['p.points.other.1', 1],
    ]);
    const d = new DecodedLines();
    expect(d.append(parts[0].body, 2)).toBe(true);
    expect(d.lines).toEqual([lines[0], lines[2]]);
    expect([...(d.errors ?? [])]).toEqual([0, 1]);
    expect(splitBatch(data, 4, o)!.map((m) => m.id)).toEqual(parts.map((m) => m.id));
    expect(parts[0].id).toMatch(/^ag:[0-9a-f]{32}$/);
    expect(splitBatch(Buffer.from('nope'), 1, o)).toBeUndefined();
  });
});
