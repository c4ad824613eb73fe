import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../src/drivers/memory';
import { BatchNotifier } from '../src/notifier';
import type { Driver } from '../src/driver';
import type { LineBatch } from '../src/line';
import { deltasOfBatch, indexOfLines } from '../src/search';
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
