/** The page's model without a browser: the O(n log n) critical path against the plain scan it replaced. */
import { describe, expect, it } from 'vitest';
import { buildTrace, markCritical, type Point, type ReportJson, type ReportNodeJson } from '../app/src/model';

/** The O(n²) walk the page used before, kept as the reference. */
function plainCritical(roots: Point[], total: number): Set<Point> {
  const out = new Set<Point>();
  const walk = (children: Point[], until: number): void => {
    let t = until;
    const used = new Set<Point>();
    for (;;) {
      let best: Point | null = null;
      for (const c of children) {
        if (used.has(c) || c.start > t) continue;
        const end = Math.min(c.end, t);
        if (best === null || end > Math.min(best.end, t)) best = c;
      }
      if (best === null) return;
      used.add(best);
      out.add(best);
      walk(best.children, Math.min(best.end, t));
      t = best.start;
    }
  };
  walk(roots, total);
  return out;
}

/** A small deterministic PRNG: the same trees on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomReport(seed: number, n: number): ReportJson {
  const r = rng(seed);
  const nodes: ReportNodeJson[] = [];
  const roots: ReportNodeJson[] = [];
  for (let i = 0; i < n; i++) {
    // Coarse times so ties (equal ends, ends equal to the walk's `t`) happen often; some
    // children outside their parent (clocks that differ).
    const start = Math.floor(r() * 40);
    const node: ReportNodeJson = { info: { name: 'p', started: start, finished: start + Math.floor(r() * 20) }, trace_id: String(i), children: [] };
    const parent = i === 0 || r() < 0.1 ? null : nodes[Math.floor(r() * nodes.length)];
    (parent === null ? roots : parent.children!).push(node);
    nodes.push(node);
  }
  return { info: { name: 'total', started: 0, finished: 60 }, children: roots };
}

describe('critical path', () => {
  it('marks exactly the points the plain scan marks (2,000 random trees with ties and skew)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const trace = buildTrace(randomReport(seed, 1 + (seed % 60)));
      const want = plainCritical(trace.roots, trace.total);
      expect(trace.points.filter((p) => p.critical).map((p) => p.id), `seed ${seed}`).toEqual(trace.points.filter((p) => want.has(p)).map((p) => p.id));
    }
  });

  it('10,000 sequential children under one root: every one on the path', () => {
    const children: ReportNodeJson[] = [];
    for (let i = 0; i < 10_000; i++) children.push({ info: { name: 'db', started: i, finished: i + 1 }, trace_id: `c${i}`, children: [] });
    const trace = buildTrace({ info: { name: 'total', started: 0, finished: 10_000 }, children: [{ info: { name: 'wsgi', started: 0, finished: 10_000 }, trace_id: 'w', children }] });
    expect(trace.points.filter((p) => p.critical)).toHaveLength(10_001);
    for (const p of trace.points) p.critical = false;
    markCritical(trace.roots, trace.total);
    expect(trace.points.every((p) => p.critical)).toBe(true);
  });
});
