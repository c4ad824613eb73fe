import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../src/drivers/memory';
import { BatchNotifier } from '../src/notifier';
import type { Driver } from '../src/driver';
import type { LineBatch } from '../src/line';
import { MAX_TEXT, deltasOfBatch, indexOfLines, type RootCandidate, type TraceDelta } from '../src/search';
import type { LineIndex } from '../src/line';
import { linesOfNotifications } from '../src/line';
import { searchContract, searchFixture } from '../../../tools/testing/search-contract';
import { linesDriver } from './support/recording-driver';

describe('memory:// search contract', () => {
  const d = new MemoryDriver();
  searchContract({ driver: () => d as unknown as Driver, write: async (batches) => batches.forEach((b) => d.notify(b)) });
});

describe('search index data', () => {
  it('the notifier hands the index beside the lines, equal to what parsing the lines gives', async () => {
    const got: LineBatch[] = [];
    const sink = linesDriver((b) => void got.push(b));
    const n = new BatchNotifier(sink, { project: 'p', service: 's', host: 'h', flushIntervalMs: 1, maxBufferPoints: 100 });
    n.point(0, 'wsgi', 'B', 'T1', 'B', { request: { method: 'GET', path: '/x/1', query: '', scheme: 'http' } });
    n.point(0, 'sql', 'B', 'T2', 'T1', { db: { statement: 'SELECT 1' } });
    n.point(1, 'sql', 'B', 'T2', 'T1', undefined);
    n.point(1, 'wsgi', 'B', 'T1', 'B', { request: { route: '/x/:id' }, etype: 'E', message: 'boom' });
    await n.flush();
    expect(got).toHaveLength(1);
    const b = got[0];
    expect(b.index).toBeDefined();
    const parsed = indexOfLines(b);
    expect({ ...b.index, phases: [...b.index!.phases] }).toEqual({ ...parsed, phases: [...parsed.phases] });
    const delta = deltasOfBatch(b).get('B')!;
    expect(delta).toMatchObject({ points: 2, error: true, services: ['s'], projects: ['p'], hosts: ['h'], route: '/x/:id' });
    expect(delta.root).toMatchObject({ name: 'wsgi', top: true, detail: 'GET /x/1' });
  });

  it('linesOfNotifications fills the same index as parsing', () => {
    const fx = searchFixture();
    const b = linesOfNotifications(fx.batches[0]);
    const parsed = indexOfLines(b);
    expect({ ...b.index, phases: [...b.index!.phases] }).toEqual({ ...parsed, phases: [...parsed.phases] });
  });
});

/** deltasOfBatch as it was before it skipped work (the reference: every line through addUnique, appendText and betterRoot). */
function referenceDeltas(batch: LineBatch): Map<string, TraceDelta> {
  const index = batch.index!;
  const addUnique = (list: string[], v: string | null): void => {
    if (v !== null && v !== '' && !list.includes(v)) list.push(v);
  };
  const appendText = (text: string, more: string | null): string => {
    if (more === null || more === '' || text.length >= MAX_TEXT) return text;
    if (text.includes(more)) return text;
    const t = text === '' ? more : text + '\n' + more;
    return t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) : t;
  };
  const betterRoot = (a: RootCandidate | null, b: RootCandidate | null): RootCandidate | null => {
    if (a === null) return b;
    if (b === null) return a;
    if (a.top !== b.top) return a.top ? a : b;
    return b.ts < a.ts ? b : a;
  };
  const out = new Map<string, TraceDelta>();
  batch.baseIds.forEach((baseId, i) => {
    const ts = batch.timestamps[i];
    let d = out.get(baseId);
    if (d === undefined) out.set(baseId, (d = { baseId, first: ts, last: ts, points: 0, error: false, services: [], projects: [], hosts: [], root: null, route: null, text: '' }));
    if (ts < d.first) d.first = ts;
    if (ts > d.last) d.last = ts;
    if (batch.errors !== null && batch.errors[i] === 1) d.error = true;
    addUnique(d.services, index.services[i]);
    addUnique(d.projects, index.projects[i]);
    addUnique(d.hosts, index.hosts[i]);
    d.text = appendText(d.text, index.details[i]);
    const top = index.parentIds[i] === baseId;
    if (index.phases[i] === 0) {
      d.points++;
      d.root = betterRoot(d.root, { ts, top, name: index.names[i], service: index.services[i], detail: index.details[i] });
    } else if (top && d.route === null && index.routes[i] !== null) {
      d.route = index.routes[i];
      d.text = appendText(d.text, d.route);
    }
  });
  return out;
}

describe('deltasOfBatch', () => {
  it('equals the reference (every line through addUnique, appendText, betterRoot) for 2,000 seeded random batches', () => {
    let seed = 99;
    const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const texts = [null, '', 'GET /a', 'SELECT 1', 'SELECT 1\nFROM t', 'x'.repeat(3000), 'y'.repeat(2000), 'GET /a/:id'];
    for (let b = 0; b < 2000; b++) {
      const n = 1 + Math.floor(r() * 40);
      const ids = ['A', 'B', 'C'].slice(0, 1 + Math.floor(r() * 3));
      const index: LineIndex = { names: [], phases: new Uint8Array(n), parentIds: [], projects: [], services: [], hosts: [], details: [], routes: [] };
      const baseIds: string[] = [];
      const timestamps: string[] = [];
      const errors = new Uint8Array(n);
      let id = pick(ids);
      for (let i = 0; i < n; i++) {
        if (r() < 0.3) id = pick(ids); // traces interleave, in runs
        baseIds.push(r() < 0.5 ? id : `${id}`.slice(0)); // equal ids, same or other string objects
        timestamps.push(`2026-03-01T12:00:0${Math.floor(r() * 10)}.${String(Math.floor(r() * 1e6)).padStart(6, '0')}`);
        index.phases[i] = r() < 0.5 ? 0 : 1;
        index.names.push(pick(['wsgi', 'db', '']));
        index.parentIds.push(r() < 0.4 ? id : pick(['P1', 'P2']));
        index.services.push(pick(['s1', 's2', null, '']));
        index.projects.push(pick(['p', null]));
        index.hosts.push(pick(['h1', 'h2', '']));
        index.details.push(pick(texts));
        index.routes.push(index.phases[i] === 1 && r() < 0.5 ? pick(texts) : null);
        errors[i] = r() < 0.1 ? 1 : 0;
      }
      // Half the batches in time order, the usual case (a start later than the trace's last line skips the root's compare).
      if (b % 2 === 0) timestamps.sort();
      const batch: LineBatch = { baseIds, timestamps, lines: [], errors: r() < 0.2 ? null : errors, index };
      expect(deltasOfBatch(batch), `batch ${b}`).toEqual(referenceDeltas(batch));
    }
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileDriver } from '../src/drivers/file';

describe('file:// search contract', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osp-file-search-'));
  const d = createFileDriver(`file://${dir}`);
  // A second driver on the same directory reads what the first wrote (other processes do the same).
  const reader = createFileDriver(`file://${dir}`);
  searchContract({
    driver: () => reader as unknown as Driver,
    write: async (batches) => {
      for (const b of batches) d.notify(b);
      await d.flush();
    },
  });
});

describe('index data never costs a point', () => {
  it('a getter that throws while the index reads the info leaves the point stored', async () => {
    const d = new MemoryDriver();
    const n = new BatchNotifier(d, { project: 'p', service: 's', host: 'h', flushIntervalMs: 1, maxBufferPoints: 100 });
    let reads = 0;
    // Serialising reads `request` once; the index's second read throws.
    const info = Object.defineProperty({}, 'request', {
      enumerable: true,
      get() {
        if (++reads > 1) throw new Error('second read');
        return { method: 'GET', path: '/x' };
      },
    });
    n.point(0, 'wsgi', 'B2', 'T1', 'B2', info);
    await n.flush();
    expect(d.rawEvents('B2')).toHaveLength(1);
    expect(n.stats.lost).toBe(0);
    expect((await d.searchTraces({})).traces.map((t) => t.base_id)).toEqual(['B2']);
  });
});
