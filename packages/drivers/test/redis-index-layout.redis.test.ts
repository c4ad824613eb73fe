/**
 * The redis:// search index's layout (src/redis/index-scripts.ts): duration buckets (the
 * same in JavaScript and in the scripts' Lua; filters exact at a bucket's edges, read whole
 * and walked), traces merged across batches and writers, the text searched in the summary,
 * trimming, and a store indexed by the previous layout (a `dur` sorted set, an `x` hash).
 * Against a redis-server of this file's own.
 */
import { Redis } from 'ioredis';
import { createDriver, failureCounts } from '@osprofiler/core';
import { linesOfNotifications, searchIndex, timestampMicrosText } from '@osprofiler/core/instrument';
import type { Driver, Notification, SearchOptions } from '@osprofiler/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import { DUR_BUCKET_MAX, LUA_DUR, MERGED_SCRIPT, durBucket } from '../src/redis/index-scripts';
import { RespEncoder } from '../src/redis/resp';
import type { RedisDriver } from '../src/index';
import { INDEX, MERGED, RedisSearch, plainRuns } from '../src/redis/search';
import { RedisServer } from '../../../tools/testing/redis-server';
import { ts } from '../../../tools/testing/search-contract';

let server: RedisServer;
let db = 0;
const open: { close(): Promise<unknown> | void }[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  for (const o of open) await o.close();
  await server?.close();
});

/** A driver and a plain client on a fresh db; `walk` makes the driver walk the time order (no set read whole). */
async function store(walk = false, query = ''): Promise<{ d: Driver; c: Redis; n: number }> {
  const n = ++db;
  const d = await createDriver(server.url(n, query), { project: 'p', service: 's' });
  if (walk) (d as unknown as { index: { small: number } }).index.small = 0;
  const c = new Redis({ host: '127.0.0.1', port: server.port, db: n, lazyConnect: true, maxRetriesPerRequest: 1 });
  await c.connect();
  open.push(d, { close: () => c.quit() });
  return { d, c, n };
}

const T0 = Date.UTC(2026, 2, 1, 12);

/** One `name` point of trace `base`, from `startUs` to `stopUs` after T0 + `ms` (its parent the base id unless given). */
function point(base: string, startUs: number, stopUs: number, o: { ms?: number; name?: string; service?: string; parent?: string; info?: Record<string, unknown> } = {}): Notification[] {
  const trace = randomUUID();
  const common = { base_id: base, trace_id: trace, parent_id: o.parent ?? base, project: 'p', service: o.service ?? 'api' };
  return [
    { ...common, name: `${o.name ?? 'wsgi'}-start`, timestamp: ts(T0 + (o.ms ?? 0), startUs), info: { host: 'h', ...(o.info ?? {}) } },
    { ...common, name: `${o.name ?? 'wsgi'}-stop`, timestamp: ts(T0 + (o.ms ?? 0), stopUs), info: { host: 'h' } },
  ];
}

const write = async (d: Driver, notes: Notification[]): Promise<void> => {
  await d.notifyLines!(linesOfNotifications(notes));
};
const window = { since: T0 - 1000, until: T0 + 600_000, limit: 100 };
const found = async (d: Driver, o: SearchOptions): Promise<string[]> => (await d.searchTraces!({ ...window, ...o })).traces.map((t) => t.base_id);

describe('duration buckets', () => {
  it('JavaScript and the scripts put every duration in the same bucket, each bucket 1/32 to 1/16 of its durations wide', async () => {
    const { c } = await store();
    const values = [0, 1, 15, 16, 31, 32, 33, 47, 48, 63, 64, 65, 991, 992, 1023, 1024, 1025, 1055, 1056, 1087, 1088];
    for (let k = 5; k <= 52; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 3 * 2 ** (k - 1));
    let s = 12345;
    for (let i = 0; i < 300; i++) values.push(Math.floor(((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 10 ** (1 + (i % 12))));
    const lua = (await c.eval(`${LUA_DUR} local out = {} for i = 1, #ARGV do out[i] = bucket(tonumber(ARGV[i])) end return out`, 0, ...values.map(String))) as number[];
    expect(lua).toEqual(values.map(durBucket));
    for (const v of values) expect(durBucket(v)).toBeLessThanOrEqual(DUR_BUCKET_MAX);
    expect(durBucket(2 ** 53)).toBe(DUR_BUCKET_MAX);
    // Monotonic, and a bucket's durations lie within 1/16 of its lowest.
    const sorted = [...new Set(values)].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(durBucket(sorted[i])).toBeGreaterThanOrEqual(durBucket(sorted[i - 1]));
    expect([durBucket(991), durBucket(992), durBucket(1023), durBucket(1024), durBucket(1087), durBucket(1088)]).toEqual([110, 111, 111, 112, 112, 113]);
  });

  for (const walk of [false, true]) {
    it(`min/max duration filters are exact at a bucket's edges (${walk ? 'walking the time order' : 'buckets read whole'})`, async () => {
      const { d, c } = await store(walk);
      const durs = [991, 992, 1023, 1024, 1087, 1088, 5_000_000];
      const ids = durs.map(() => randomUUID());
      await write(d, ids.flatMap((id, i) => point(id, 0, durs[i], { ms: i * 10 })));
      for (let i = 0; i < ids.length; i++) expect(await c.smembers(`osprofiler_idx:dur:${durBucket(durs[i])}`)).toContain(ids[i]);
      const by = (pred: (us: number) => boolean): string[] => ids.filter((_, i) => pred(durs[i])).reverse();
      expect(await found(d, { minDurationMs: 0.992 })).toEqual(by((u) => u >= 992));
      expect(await found(d, { minDurationMs: 0.9925 })).toEqual(by((u) => u >= 993)); // 992.5 µs rounds to 993
      expect(await found(d, { maxDurationMs: 1.023 })).toEqual(by((u) => u <= 1023));
      expect(await found(d, { minDurationMs: 1.024, maxDurationMs: 1.087 })).toEqual(by((u) => u >= 1024 && u <= 1087));
      expect(await found(d, { minDurationMs: 1.088, maxDurationMs: 1.088 })).toEqual(by((u) => u === 1088));
      expect(await found(d, { minDurationMs: 1000 })).toEqual(by((u) => u >= 1_000_000));
      expect(await found(d, { minDurationMs: 1.1, maxDurationMs: 4999 })).toEqual([]);
      // Paged one hit at a time through the cursor.
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await d.searchTraces!({ ...window, minDurationMs: 0.992, limit: 1, cursor });
        paged.push(...page.traces.map((t) => t.base_id));
        if (page.cursor === null) break;
        cursor = page.cursor;
      }
      expect(paged).toEqual(by((u) => u >= 992));
    });
  }
});

describe('merges', () => {
  it('a trace spread over batches ends in its merged duration bucket only, started at its earliest point', async () => {
    const { d, c } = await store();
    const id = randomUUID();
    const top = randomUUID();
    // Batch 1: a child (2 ms); batch 2: an earlier root that ends later (10 ms in all); batch 3: a short child inside.
    await write(d, point(id, 3000, 5000, { parent: top, name: 'db' }));
    expect(await c.sismember(`osprofiler_idx:dur:${durBucket(2000)}`, id)).toBe(1);
    await write(d, point(id, 0, 10_000, { name: 'wsgi' }));
    await write(d, point(id, 4000, 4500, { parent: top, name: 'db' }));
    const members = [];
    for (let k = 0; k <= DUR_BUCKET_MAX; k++) if (await c.sismember(`osprofiler_idx:dur:${k}`, id)) members.push(k);
    expect(members).toEqual([durBucket(10_000)]);
    expect(await c.zscore('osprofiler_idx:start', id)).toBe(timestampMicrosText(ts(T0, 0)));
    const [hit] = (await d.searchTraces!({ ...window, minDurationMs: 9, maxDurationMs: 11 })).traces;
    expect(hit).toMatchObject({ base_id: id, points: 3, duration_ms: 10, root_name: 'wsgi' });
    expect(await found(d, { maxDurationMs: 3 })).toEqual([]);
  });

  it("a trace's first batch needs no merge; a later batch whose merge fails (a damaged summary) is still stored, the failure contained and counted", async () => {
    const { d, c } = await store();
    const id = randomUUID();
    await write(d, point(id, 0, 2000));
    expect(JSON.parse((await c.hget('osprofiler_idx:sum', id)) as string)).toMatchObject({ id, p: 1 });
    await c.hset('osprofiler_idx:sum', id, '{damaged');
    const before = failureCounts()['drivers.redis.index'] ?? 0;
    await write(d, point(id, 1000, 5000, { name: 'db' }));
    expect(await c.llen(`osprofiler_opt:${id}`)).toBe(4);
    expect(failureCounts()['drivers.redis.index']).toBe(before + 1);
    // The batch's summary replaced the damaged one, which its merge could not read.
    expect(JSON.parse((await c.hget('osprofiler_idx:sum', id)) as string)).toMatchObject({ id, p: 1, ro: { name: 'db' } });
  });

  it("a batch whose summaries' transaction fails (a wrong-typed sum key) is still stored, the failure contained and counted", async () => {
    const { d, c } = await store();
    await c.set('osprofiler_idx:sum', 'not a hash');
    const id = randomUUID();
    const before = failureCounts()['drivers.redis.index'] ?? 0;
    await write(d, point(id, 0, 2000));
    expect(await c.llen(`osprofiler_opt:${id}`)).toBe(2);
    expect(failureCounts()['drivers.redis.index']).toBe(before + 1);
    expect(await c.zscore('osprofiler_idx:start', id)).not.toBeNull();
  });

  it("MERGED_SCRIPT writes a driver's merge only where the stored summary is still the batch's", async () => {
    const { c } = await store();
    const [a, b] = [randomUUID(), randomUUID()];
    await c.hset('osprofiler_idx:sum', a, 'sent a', b, 'merged by another writer');
    await c.sadd('osprofiler_idx:dur:3', a, b);
    await c.sadd('osprofiler_idx:dur:5', a, b);
    const got = await c.eval(MERGED_SCRIPT, 0, a, 'sent a', 'merged a', '100', '3', '5', '7', b, 'sent b', 'merged b', '100', '3', '5', '7');
    expect(got).toEqual([1, 0]);
    expect(await c.hmget('osprofiler_idx:sum', a, b)).toEqual(['merged a', 'merged by another writer']);
    expect(await c.smembers('osprofiler_idx:dur:7')).toEqual([a]);
    expect(await c.smembers('osprofiler_idx:dur:3')).toEqual([b]);
    expect(await c.smembers('osprofiler_idx:dur:5')).toEqual([b]);
    expect(await c.zscore('osprofiler_idx:start', a)).toBe('100');
    expect(await c.zscore('osprofiler_idx:start', b)).toBeNull();
  });

  it('a summary another writer changed before the merge goes through the write script with the summary the batch replaced', () => {
    const c = new Redis({ lazyConnect: true });
    const search = new RedisSearch(c, 0);
    const id = randomUUID();
    const deltas = searchIndex.deltasOfBatch(linesOfNotifications(point(id, 1000, 5000, { name: 'db', parent: randomUUID() })));
    const enc = new RespEncoder(64);
    const f = search.addToBatch(enc, deltas, true)!;
    enc.take();
    const old = JSON.stringify({ id, f: ts(T0, 0), l: ts(T0, 2000), fu: timestampMicrosText(ts(T0, 0)), lu: timestampMicrosText(ts(T0, 2000)), p: 1, e: 0, s: ['api'], pr: ['p'], h: ['h'], ro: { ts: ts(T0, 0), top: true, name: 'wsgi', service: 'api', detail: null }, rt: false, x: '' });
    const replies: unknown[] = [];
    replies[f.exec] = [[old], 1];
    expect(f.needsMerge(replies)).toBe(true);
    f.encodeMerges(enc, replies);
    const merges = enc.take();
    expect(merges.commands).toBe(1);
    expect(merges.scripts![0].script).toBe(MERGED);
    expect(merges.bytes.toString()).toContain('"p":2');
    expect(f.needsRetry([[1]])).toBe(false);
    expect(f.needsRetry([[0]])).toBe(true);
    f.encodeRetries(enc, [[0]]);
    const want = new RespEncoder(64);
    want.call('EVALSHA', INDEX.sha, '0', '', '1', id, old);
    expect(enc.take().bytes.toString()).toBe(want.take().bytes.toString());
    c.disconnect();
  });

  it('two writers merging the same traces at once leave one summary, one bucket and the earliest start per trace', async () => {
    const { d, c, n } = await store();
    const d2 = await createDriver(server.url(n), { project: 'p', service: 's' });
    open.push(d2);
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const early = ids.flatMap((id, i) => point(id, 0, 1000 + i, { ms: i, service: 'a' }));
    const late = ids.flatMap((id, i) => point(id, 500, 300_000 + i, { ms: i, service: 'b', name: 'rpc', parent: randomUUID() }));
    // Each writer sends its half in 10 batches, interleaved with the other's.
    const send = async (drv: Driver, notes: Notification[]): Promise<void> => {
      for (let i = 0; i < notes.length; i += 40) await write(drv, notes.slice(i, i + 40));
    };
    await Promise.all([send(d, early), send(d2, [...late].reverse())]);
    const page = await d.searchTraces!({ ...window, service: 'b', limit: 500 });
    expect(page.traces).toHaveLength(200);
    for (const t of page.traces) expect(t).toMatchObject({ points: 2, services: expect.arrayContaining(['a', 'b']) as unknown, root_name: 'wsgi' });
    for (const [i, id] of ids.entries()) {
      const want = durBucket(300_000 + i);
      expect(await c.sismember(`osprofiler_idx:dur:${want}`, id), id).toBe(1);
      expect(await c.sismember(`osprofiler_idx:dur:${durBucket(1000 + i)}`, id)).toBe(0);
      expect(await c.sismember(`osprofiler_idx:dur:${durBucket(300_000 + i - 500)}`, id)).toBe(durBucket(300_000 + i - 500) === want ? 1 : 0);
      expect(await c.zscore('osprofiler_idx:start', id)).toBe(timestampMicrosText(ts(T0 + i, 0)));
    }
    expect(await found(d, { minDurationMs: 300, limit: 500 })).toHaveLength(200);
  });
});

describe('a trace in the time order without its summary', () => {
  for (const walk of [false, true]) {
    it(`is built from its lines in its place, filters checked (${walk ? 'walking' : 'read whole'}): its write's script failed after the plain commands`, async () => {
      const { d, c } = await store(walk);
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const [k, id] of ids.entries()) await write(d, point(id, 0, 2000 + k * 1000, { ms: k * 10, service: 'billing' }));
      await c.hdel('osprofiler_idx:sum', ids[1]);
      const page = (await d.searchTraces!({ ...window, service: 'billing' })).traces;
      expect(page.map((t) => t.base_id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(page[1]).toMatchObject({ base_id: ids[1], duration_ms: 3, indexed: false });
      expect(page[0].indexed).not.toBe(false);
      expect(await found(d, { service: 'billing', minDurationMs: 2.5, maxDurationMs: 3.5 })).toEqual([ids[1]]);
      expect(await found(d, { service: 'billing', minDurationMs: 3.5 })).toEqual([ids[2]]);
    });
  }
});

describe('text', () => {
  it('is found case-insensitively in the summary, with characters JSON escapes, in the root name, and not in other fields', async () => {
    const { d, c } = await store();
    const a = randomUUID();
    const b = randomUUID();
    await write(d, [
      ...point(a, 0, 100, { name: 'Checkout', info: { db: { statement: 'SELECT "Total" FROM Orders\\x WHERE a = \'É\'' } } }),
      ...point(b, 0, 100, { ms: 10, info: { request: { method: 'GET', path: '/Items/42', query: '', scheme: 'http' } } }),
    ]);
    const json = (await c.hget('osprofiler_idx:sum', a))!;
    expect(json).toContain('select \\"total\\" from orders');
    expect(await found(d, { text: 'from ORDERS' })).toEqual([a]);
    expect(await found(d, { text: '"total" from' })).toEqual([a]);
    expect(await found(d, { text: 'orders\\x' })).toEqual([a]);
    expect(await found(d, { text: "a = 'é'" })).toEqual([a]); // lower-cased by JavaScript on both sides
    expect(await found(d, { text: 'checkout' })).toEqual([a]); // the root's name
    const e = randomUUID();
    await write(d, point(e, 0, 100, { ms: 20, name: 'Pay"Now' }));
    expect(await found(d, { text: 'now' })).toEqual([e]); // after an escaped quote in the name
    expect(await found(d, { text: 'get /items/42' })).toEqual([b]);
    expect(await found(d, { text: '/items/' })).toEqual([b]);
    // In the summary, but not the trace's text: service, host, ids, keys.
    for (const other of ['api', '"h"', a.slice(0, 13), '"fu"', 'wsgi-start']) expect(await found(d, { text: other }), other).toEqual([]);
    expect(plainRuns('get /items/42')).toEqual(['get ', 'items', '42']);
    expect(plainRuns('"/"')).toEqual([]);
    expect(await found(d, { text: '/' })).toEqual([b]); // no plain run: every summary decoded
    // Merged by the driver, b's summary is JavaScript's JSON; merged by the write script
    // (notifyLinesOnce's path), cjson's, which escapes '/' as '\\/'.
    await write(d, point(b, 10, 20, { ms: 10, name: 'db', parent: randomUUID() }));
    expect(await c.hget('osprofiler_idx:sum', b)).toContain('get /items/42');
    expect(await found(d, { text: 'get /items/42' })).toEqual([b]);
    await (d as RedisDriver).notifyLinesOnce([{ key: randomUUID(), batch: linesOfNotifications(point(b, 30, 40, { ms: 10, name: 'db', parent: randomUUID() })) }], 60);
    expect(await c.hget('osprofiler_idx:sum', b)).toContain('\\/items\\/42');
    expect(await found(d, { text: 'get /items/42' })).toEqual([b]);
  });
});

describe('trimming (?ttl=)', () => {
  it('removes old traces from their duration buckets, sets, summaries and the time order', async () => {
    const { n, c } = await store();
    const oldStart = Date.now() - 120_000;
    const old = [randomUUID(), randomUUID()];
    const keep = randomUUID();
    const at = (ms: number, us: number): string => ts(ms, us);
    const mk = (id: string, ms: number, dur: number): Notification[] => [
      { name: 'wsgi-start', base_id: id, trace_id: id, parent_id: id, project: 'p', service: 'trim', timestamp: at(ms, 0), info: { host: 'ht' } },
      { name: 'wsgi-stop', base_id: id, trace_id: id, parent_id: id, project: 'p', service: 'trim', timestamp: at(ms, dur), info: { host: 'ht' } },
    ];
    const d1 = await createDriver(server.url(n, '?ttl=1h'), { project: 'p', service: 's' });
    await write(d1, [...mk(old[0], oldStart, 700), ...mk(old[1], oldStart + 1, 70_000)]);
    await d1.close();
    expect(await c.sismember(`osprofiler_idx:dur:${durBucket(70_000)}`, old[1])).toBe(1);
    const d2 = await createDriver(server.url(n, '?ttl=60s'), { project: 'p', service: 's' });
    await write(d2, mk(keep, Date.now(), 700));
    await d2.close();
    for (const id of old) {
      expect(await c.zscore('osprofiler_idx:start', id)).toBeNull();
      expect(await c.hexists('osprofiler_idx:sum', id)).toBe(0);
      expect(await c.sismember('osprofiler_idx:in:service:trim', id)).toBe(0);
    }
    expect(await c.exists(`osprofiler_idx:dur:${durBucket(70_000)}`)).toBe(0); // emptied, so gone
    expect(await c.smembers(`osprofiler_idx:dur:${durBucket(700)}`)).toEqual([keep]);
  });
});

describe('a store indexed by the previous layout', () => {
  /** What the previous write script left for one trace: summary (text not lower-cased), `x`, `start`, `dur`, `in:` sets. */
  async function legacyTrace(c: Redis, id: string, ms: number, durUs: number, text: string): Promise<void> {
    const f = ts(T0 + ms, 0);
    const l = ts(T0 + ms, durUs);
    const fu = timestampMicrosText(f)!;
    const lu = timestampMicrosText(l)!;
    const summary = { id, f, l, fu, lu, p: 2, e: 0, s: ['old'], pr: ['p'], h: ['h'], ro: { ts: f, top: true, name: 'wsgi', service: 'old', detail: null }, rt: false, x: text };
    await c.hset('osprofiler_idx:sum', id, JSON.stringify(summary));
    await c.hset('osprofiler_idx:x', id, `${text}\nwsgi`.toLowerCase());
    await c.zadd('osprofiler_idx:start', fu, id);
    await c.zadd('osprofiler_idx:dur', String(durUs), id);
    for (const k of ['in:service:old', 'in:project:p', 'in:host:h', 'in:root:wsgi']) await c.sadd(`osprofiler_idx:${k}`, id);
    await c.sadd('osprofiler_idx:keys', 'osprofiler_idx:in:service:old', 'osprofiler_idx:in:project:p', 'osprofiler_idx:in:host:h', 'osprofiler_idx:in:root:wsgi');
  }

  for (const walk of [false, true]) {
    it(`is searched by duration and text beside new traces (${walk ? 'walking' : 'read whole'}); a merge moves a trace into its bucket`, async () => {
      const { d, c } = await store(walk);
      const [o1, o2, fresh] = [randomUUID(), randomUUID(), randomUUID()];
      await legacyTrace(c, o1, 0, 2000, 'SELECT FROM Legacy');
      await legacyTrace(c, o2, 10, 50_000, 'GET /Old');
      await write(d, point(fresh, 0, 3000, { ms: 20, service: 'old' }));
      expect(await found(d, { minDurationMs: 1.5 })).toEqual([fresh, o2, o1]);
      expect(await found(d, { minDurationMs: 2.5, maxDurationMs: 60 })).toEqual([fresh, o2]);
      expect(await found(d, { maxDurationMs: 2 })).toEqual([o1]);
      expect(await found(d, { text: 'from legacy' })).toEqual([o1]);
      expect(await found(d, { service: 'old', root: 'wsgi', text: 'get /old' })).toEqual([o2]);
      // A later batch of o1 (a point ending at 80 ms): merged, out of `dur`, into its bucket.
      await write(d, point(o1, 1000, 80_000, { name: 'db', parent: randomUUID(), service: 'old' }));
      expect(await c.zscore('osprofiler_idx:dur', o1)).toBeNull();
      expect(await c.sismember(`osprofiler_idx:dur:${durBucket(80_000)}`, o1)).toBe(1);
      expect(await found(d, { minDurationMs: 60 })).toEqual([o1]);
      expect(await found(d, { maxDurationMs: 2 })).toEqual([]);
      expect((await d.searchTraces!({ ...window, text: 'from legacy' })).traces[0]).toMatchObject({ base_id: o1, points: 3, duration_ms: 80 });
    });
  }

  it('trimming removes old traces from `dur` and `x` too', async () => {
    const { n, c } = await store();
    const id = randomUUID();
    await legacyTrace(c, id, -(Date.now() - T0) - 3_600_000, 2000, 'old'); // started an hour ago
    const d = await createDriver(server.url(n, '?ttl=60s'), { project: 'p', service: 's' });
    await write(d, point(randomUUID(), 0, 10, { ms: Date.now() - T0 }));
    await d.close();
    expect(await c.exists('osprofiler_idx:dur', 'osprofiler_idx:x')).toBe(0);
    expect(await c.hexists('osprofiler_idx:sum', id)).toBe(0);
    expect(await c.sismember('osprofiler_idx:in:service:old', id)).toBe(0);
  });
});
