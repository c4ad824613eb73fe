import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, runSample, samplesOf } from './support/samples';

const PAGE = join(ROOT, 'docs/point-kinds.md');

/** `kind start|stop` → documented dotted fields, with whether each is always there. */
function documented(): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const line of readFileSync(PAGE, 'utf8').split('\n')) {
    const m = /^\| `(\w+)` \| (start|stop) \| `([\w.]+)` \| (always|sometimes) \|/.exec(line);
    if (!m) continue;
    const key = `${m[1]} ${m[2]}`;
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(m[3], m[4] === 'always');
  }
  return out;
}

function leaves(value: unknown, prefix = '', out: string[] = []): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.push(prefix);
  return out;
}

it('docs/point-kinds.md lists what a real request records for every kind, and nothing it never records as always', async () => {
  const docs = documented();
  expect(docs.size).toBeGreaterThanOrEqual(10);
  const sample = samplesOf(PAGE).find((s) => s.marker.kind === 'run');
  expect(sample, 'the page keeps its runnable all-kinds sample').toBeDefined();
  const run = await runSample(sample!);
  const recorded = new Map<string, Set<string>>();
  for (const n of run.notifications) {
    const [, kind, phase] = /^(\w+)-(start|stop)$/.exec(n.name)!;
    const key = `${kind} ${phase}`;
    if (!recorded.has(key)) recorded.set(key, new Set());
    for (const f of leaves(n.info)) if (f !== 'host') recorded.get(key)!.add(f);
  }
  for (const kind of ['wsgi', 'rpc', 'db', 'sql', 'driver', 'exec', 'thread']) expect(recorded.has(`${kind} start`), kind).toBe(true);
  const undocumented: string[] = [];
  const missing: string[] = [];
  for (const [key, fields] of recorded) for (const f of fields) if (!docs.get(key)?.has(f)) undocumented.push(`${key}: ${f}`);
  for (const [key, fields] of docs) {
    if (!recorded.has(key) && key.endsWith('start')) missing.push(`${key}: no point of this kind recorded`);
    for (const [f, always] of fields) if (always && !recorded.get(key)?.has(f)) missing.push(`${key}: ${f} (marked always)`);
  }
  expect(undocumented, 'recorded but not in docs/point-kinds.md').toEqual([]);
  expect(missing, 'documented as always but not recorded').toEqual([]);
});
