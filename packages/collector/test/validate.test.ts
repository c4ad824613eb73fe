// checkMessage (src/validate.ts) on bodies built here: a message whose points are all good
// is taken over whole (the same points, error flags and lines as sent); a point whose
// trace_id is missing or not an id goes to `bad` with its reason while the others are kept.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PointSet } from '../src/points';
import { checkMessage, type Limits } from '../src/validate';
import { baseIn, body, lines, point } from './support/messages';

const P = 4;
const limits: Limits = { partitions: P, maxPointBytes: 65_536, maxMessagePoints: 10_000, maxInflatedBytes: 1 << 24 };

describe('checkMessage', () => {
  it('takes a good message over as it came: points, error flags, lines', () => {
    const a = baseIn(2, P);
    const b = baseIn(2, P);
    const ls = lines([point(a, 'wsgi-start'), point(a, 'wsgi-stop', { info: { etype: 'ValueError' } }), point(b, 'db-start')]);
    const c = checkMessage(body(ls, [1]), '1', '3', 2, limits, undefined);
    if (!c.ok) throw new Error(c.message);
    expect(c.bad).toEqual([]);
    expect(c.points.count).toBe(3);
    expect(c.points.baseIds).toEqual([a, a, b]);
    expect(c.points.lines).toEqual(ls);
    expect([...(c.points.errors ?? [])]).toEqual([0, 1, 0]);
    expect([0, 1, 2].map((i) => c.points.isError(i))).toEqual([false, true, false]);
    // Appending to a set taken over keeps its flags.
    c.points.pushFrom(c.points, 1);
    expect([...(c.points.errors ?? [])]).toEqual([0, 1, 0, 1]);
    // Its lines were the decoder's until then; now they are the four points'.
    expect(c.points.lines).toEqual([...ls, ls[1]]);
  });

  it('inflates schema-3 bodies of any ratio (past one output chunk) and refuses one past the limit', () => {
    const a = baseIn(2, P);
    // Repeated text inflates ~100x and more: several output chunks, joined.
    const big = { info: { db: { statement: 'select 1 '.repeat(6_000) } } };
    const ls = lines([point(a, 'db-start', big), point(a, 'db-start', big), point(a, 'db-start', big)]);
    const z = deflateRawSync(body(ls), { level: 1 });
    expect(body(ls).length).toBeGreaterThan(Math.max(64 * 1024, z.length * 24));
    const c = checkMessage(z, '3', '3', 2, limits, undefined);
    if (!c.ok) throw new Error(c.message);
    expect(c.points.lines).toEqual(ls);
    const small = checkMessage(z, '3', '3', 2, { ...limits, maxInflatedBytes: 40_000 }, undefined);
    expect(small.ok).toBe(false);
    if (!small.ok) expect(small.reason).toBe('body');
    // The bench's shape (~17x): one chunk.
    const many = lines(Array.from({ length: 200 }, (_, i) => point(a, i % 2 ? 'f-stop' : 'f-start')));
    const m = checkMessage(deflateRawSync(body(many), { level: 1 }), '3', '200', 2, limits, undefined);
    if (!m.ok) throw new Error(m.message);
    expect(m.points.lines).toEqual(many);
  });

  it('joins checked messages (the SQL write) with their lines in order, made or not', () => {
    const a = baseIn(2, P);
    const ls1 = lines([point(a, 'wsgi-start'), point(a, 'wsgi-stop')]);
    const ls2 = lines([point(a, 'db-start')]);
    const c1 = checkMessage(body(ls1), '1', '2', 2, limits, undefined);
    const c2 = checkMessage(body(ls2), '1', '1', 2, limits, undefined);
    if (!c1.ok || !c2.ok) throw new Error('refused');
    const built = new PointSet();
    built.pushFrom(c1.points, 1); // a set of pushes: its lines are made from its bytes
    const all = new PointSet();
    all.concat(c1.points);
    all.concat(c2.points);
    all.concat(built);
    expect(all.count).toBe(4);
    expect(all.lines).toEqual([...ls1, ...ls2, ls1[1]]);
    all.concat(c2.points);
    expect(all.lines).toEqual([...ls1, ...ls2, ls1[1], ...ls2]);
  });

  it('sends a point without a good trace_id to bad, with its reason, and keeps the others', () => {
    const a = baseIn(1, P);
    const good = lines([point(a, 'wsgi-start')])[0];
    const cases = [
      good.replace(/"trace_id": "[^"]*", /, ''), // missing
      good.replace(/"trace_id": "[^"]*"/, '"trace_id": "has space"'),
      good.replace(/"trace_id": "[^"]*"/, '"trace_id": ""'),
      good.replace(/"trace_id": "[^"]*"/, `"trace_id": "${'x'.repeat(129)}"`),
    ];
    const c = checkMessage(body([good, ...cases, good.replace(/"trace_id": "[^"]*"/, `"trace_id": "${'x'.repeat(128)}"`)]), '1', String(cases.length + 2), 1, limits, undefined);
    if (!c.ok) throw new Error(c.message);
    expect(c.points.count).toBe(2);
    expect(c.bad.map((x) => x.reason)).toEqual(cases.map(() => 'trace_id missing or not an id ([A-Za-z0-9_.:-], 1-128)'));
    expect(c.bad.map((x) => x.line)).toEqual(cases);
  });
});
