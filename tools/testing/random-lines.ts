/**
 * Lines for testing a reader of core's line layout against core's parse: notifications of
 * every kind of point (requests, SQL with quotes and non-ASCII, errors, NaN, null and odd
 * projects/services, extra keys), and random edits of their lines. Deterministic.
 */
import type { Notification } from '@osprofiler/core';

/** Deterministic: the same "random" lines on every run (a failure reproduces). */
export function rng(seed: number): () => number {
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

export function notifications(n: number, r: () => number): Notification[] {
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
export function mutate(line: string, r: () => number): string {
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
