/**
 * redis:// trace search: the contract against the test's own redis-server, the index
 * under `osprofiler_idx:` (Python's `trace list` still works beside it), trimming with
 * ?ttl=, and traces only Python wrote (found by the fallback scan, marked unindexed).
 */
import { Redis } from 'ioredis';
import { createDriver } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import type { Driver, Notification, TraceSummary } from '@osprofiler/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import { durClass } from '../src/redis/index-layout';
import { RedisServer } from '../../../tools/testing/redis-server';
import { searchContract, searchFixture } from '../../../tools/testing/search-contract';
import { peer, pythonCli, requirePythonOsprofiler } from './support/python';
import { batchesOf } from './support/redis';

let server: RedisServer;
let driver: Driver;
let client: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  driver = await createDriver(server.url(), { project: 'p', service: 's', filterErrorTrace: true });
  client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});
afterAll(async () => {
  await driver?.close();
  await client?.quit();
  await server?.close();
});

describe('redis:// search contract', () => {
  searchContract({
    driver: () => driver,
    write: async (batches) => {
      for (const b of batches) await driver.notifyLines!(linesOfNotifications(b));
    },
  });
});

describe('redis:// index keys', () => {
  it('a better root in a later batch replaces the first candidate: a root filter finds the trace by the root it has now', async () => {
    const base = randomUUID();
    const top = randomUUID();
    const t0 = Date.now() - 5000;
    const at = (ms: number): string => new Date(t0 + ms).toISOString().replace('Z', '000');
    const n = (name: string, trace: string, parent: string, ms: number): Notification =>
      ({ name, base_id: base, trace_id: trace, parent_id: parent, timestamp: at(ms), info: { host: 'hr' }, project: 'p', service: 'later' });
    // The callee's point arrives first (its parent is not the base id), the caller's in the next batch.
    const inner = randomUUID();
    await driver.notifyLines!(linesOfNotifications([n('rpc-start', inner, top, 10), n('rpc-stop', inner, top, 20)]));
    let page = await driver.searchTraces!({ service: 'later', root: 'rpc' });
    expect(page.traces.map((t) => t.base_id)).toEqual([base]);
    await driver.notifyLines!(linesOfNotifications([n('wsgi-start', top, base, 0), n('wsgi-stop', top, base, 30)]));
    page = await driver.searchTraces!({ service: 'later', root: 'wsgi' });
    expect(page.traces).toMatchObject([{ base_id: base, root_name: 'wsgi', points: 2, duration_ms: 30 }]);
    expect((await driver.searchTraces!({ service: 'later', root: 'rpc' })).traces).toEqual([]);
    // The first batch is still listed under rpc (stale: the trace is read whole, hence the check).
    const batches = await batchesOf(client, base);
    expect(batches).toHaveLength(2);
    const underRpc = await Promise.all(batches.map((m) => client.zscore('osprofiler_idx:v:root:rpc', m)));
    expect(underRpc.filter((score) => score !== null)).toHaveLength(1);
  });

  it('live under osprofiler_idx:, never osprofiler:, and Python reads the store as before', async () => {
    const keys = await client.keys('*');
    expect(keys.some((k) => k.startsWith('osprofiler_idx:'))).toBe(true);
    expect(keys.filter((k) => k.startsWith('osprofiler:'))).toEqual([]);
    requirePythonOsprofiler();
    const r = pythonCli(['trace', 'list', '--connection-string', server.url()]);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/base_id/);
  });

  it('a batch without index data (lines from elsewhere) is indexed by parsing', async () => {
    const fx = searchFixture();
    const b = linesOfNotifications(fx.batches[0]);
    await driver.notifyLines!({ baseIds: b.baseIds, timestamps: b.timestamps, lines: b.lines, errors: b.errors });
    const page = await driver.searchTraces!({ since: fx.t0, until: fx.t0 + 60_000, service: 'billing', text: 'POST /pay' });
    expect(page.traces.map((t) => t.base_id)).toEqual([]); // billing's points come in batch 2
    const api = await driver.searchTraces!({ since: fx.t0, until: fx.t0 + 60_000, errorsOnly: true });
    expect(api.traces.map((t) => t.base_id)).toEqual([fx.ids.pay]);
    expect(api.traces[0]).toMatchObject({ root_detail: 'POST /pay', indexed: true, error: true });
  });

  it('a trace only Python stored appears, marked unindexed', async () => {
    requirePythonOsprofiler();
    const baseId = peer(['emit', '--key', 'K', '--connection', server.url(), '--service', 'pysvc', '--error']).trim();
    expect(baseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await batchesOf(client, baseId)).toEqual([]);
    // A fresh reader (no cached fallback scan).
    const reader = await createDriver(server.url(), { project: null, service: null });
    try {
      // The first search waits for the fallback scan at most 50 ms; a later one has its answer.
      let hit: TraceSummary | undefined;
      for (const end = Date.now() + 5000; hit === undefined && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        hit = (await reader.searchTraces!({ service: 'pysvc', limit: 10 })).traces.find((t) => t.base_id === baseId);
      }
      expect(hit).toMatchObject({ indexed: false, root_name: 'peer_emit', services: ['pysvc'], error: true });
      expect(hit!.points).toBeGreaterThanOrEqual(5);
      const none = await reader.searchTraces!({ service: 'nobody', limit: 10 });
      expect(none.traces.find((t) => t.base_id === baseId)).toBeUndefined();
    } finally {
      await reader.close();
    }
  });
});

describe('redis:// without the index (?index=false)', () => {
  it('writes no index key, and a search still finds the traces (fallback scan, marked unindexed)', async () => {
    const d = await createDriver(server.url(7, '?index=false'), { project: 'p', service: 'noidx' });
    const c = new Redis({ host: '127.0.0.1', port: server.port, db: 7, lazyConnect: true });
    await c.connect();
    try {
      const ids = [randomUUID(), randomUUID()];
      const t0 = Date.now();
      const batch: Notification[] = ids.flatMap((id, i) => [
        { name: 'wsgi-start', base_id: id, trace_id: id, parent_id: id, timestamp: new Date(t0 + i).toISOString().slice(0, -1), info: { request: { path: `/r${i}`, method: 'GET' }, host: 'h' }, project: 'p', service: 'noidx' },
        { name: 'wsgi-stop', base_id: id, trace_id: id, parent_id: id, timestamp: new Date(t0 + i + 5).toISOString().slice(0, -1), info: { host: 'h' }, project: 'p', service: 'noidx' },
      ]);
      await d.notifyLines!(linesOfNotifications(batch));
      for (const id of ids) expect(await c.llen(`osprofiler_opt:${id}`)).toBe(2);
      expect(await c.keys('osprofiler_idx:*')).toEqual([]);
      let hits: TraceSummary[] = [];
      for (const end = Date.now() + 5000; hits.length < 2 && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        hits = (await d.searchTraces!({ service: 'noidx', limit: 10 })).traces;
      }
      expect(hits.map((t) => t.base_id).sort()).toEqual([...ids].sort());
      for (const t of hits) expect(t).toMatchObject({ indexed: false, root_name: 'wsgi', services: ['noidx'], points: 1 });
    } finally {
      await d.close();
      await c.quit();
    }
  });
});

describe('redis:// index retention (?ttl=)', () => {
  it('traces that started more than the ttl ago leave every index key', async () => {
    // Written with a long ttl: nothing is old enough to trim yet.
    const d = await createDriver(`${server.url(3, '?ttl=1h')}`, { project: 'p', service: 's' });
    const c = new Redis({ host: '127.0.0.1', port: server.port, db: 3, lazyConnect: true });
    await c.connect();
    try {
      const old = searchFixture(Date.now() - 60_000);
      await d.notifyLines!(linesOfNotifications(old.batches[0]));
      const [oldBatch] = await batchesOf(c, old.ids.orders);
      expect(await batchesOf(c, old.ids.pay)).toEqual([oldBatch]);
      expect(await c.zscore('osprofiler_idx:batches', oldBatch)).not.toBeNull();
      expect(await c.zscore('osprofiler_idx:v:service:api', oldBatch)).not.toBeNull();
      expect(await c.zscore('osprofiler_idx:v:host:h2', oldBatch)).not.toBeNull();
      // A driver with ?ttl=2s trims on its first write: members that started before now - ttl go.
      const d2 = await createDriver(`${server.url(3, '?ttl=2s')}`, { project: 'p', service: 's' });
      const fresh = searchFixture(Date.now());
      await d2.notifyLines!(linesOfNotifications(fresh.batches[2]));
      await d2.close();
      for (const k of ['batches', 'v:service:api', 'v:host:h2', `v:dur:${durClass(300_000)}`]) expect(await c.zscore(`osprofiler_idx:${k}`, oldBatch), k).toBeNull();
      // Its blob and ids expire by themselves, an hour after they were written.
      expect(await c.ttl(`osprofiler_idx:b:${oldBatch}`)).toBeGreaterThan(3000);
      const [freshBatch] = await batchesOf(c, fresh.ids.health[0]);
      expect(await c.zscore('osprofiler_idx:batches', freshBatch)).not.toBeNull();
      expect(await c.ttl(`osprofiler_idx:b:${freshBatch}`)).toBeLessThanOrEqual(2);
    } finally {
      await d.close();
      await c.quit();
    }
  });
});
