/**
 * The redis:// search index's layout 2 (src/redis/index-layout.ts, index-write.ts): duration
 * classes (and layout 1's buckets, the same in JavaScript and in the scripts' Lua), filters
 * exact at a class's edges, a trace over several batches or writers marked split and found
 * once with its whole summary, the index's failures contained, the text searched in the
 * records, trimming, and stores indexed by the earlier layouts (layout 1's summary hash and
 * sets; before it, a `dur` sorted set and an `x` hash), searched beside layout 2 and trimmed.
 * Against a redis-server of this file's own.
 */
import { Redis } from 'ioredis';
import { createDriver, failureCounts } from '@osprofiler/core';
import { linesOfNotifications, timestampMicrosText } from '@osprofiler/core/instrument';
import type { Driver, Notification, SearchOptions } from '@osprofiler/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import { DUR_BUCKET_MAX, LUA_DUR, durBucket } from '../src/redis/index-scripts';
import { DUR_CLASS_MAX, durClass, memberEarliest } from '../src/redis/index-layout';
import type { RedisDriver } from '../src/index';
import { plainRuns } from '../src/redis/search';
import { ts } from '../../../tools/testing/search-contract';
import { RedisDbs, batchesOf } from './support/redis';

const dbs = new RedisDbs();
beforeAll(() => dbs.start());
afterAll(() => dbs.close());

/** A driver and a plain client on a fresh db. */
async function store(query = ''): Promise<{ d: Driver; c: Redis; n: number }> {
  const { n, c } = await dbs.db();
  const d = dbs.keep(await createDriver(dbs.server.url(n, query), { project: 'p', service: 's' }));
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
    // Layout 2's classes: one a power of two (a bucket's 16), monotonic, the highest DUR_CLASS_MAX.
    for (const v of values) expect(durClass(v)).toBe(durBucket(v) >> 4);
    for (let i = 1; i < sorted.length; i++) expect(durClass(sorted[i])).toBeGreaterThanOrEqual(durClass(sorted[i - 1]));
    expect([durClass(31), durClass(32), durClass(63), durClass(64), durClass(1023), durClass(1024)]).toEqual([1, 2, 2, 3, 6, 7]);
    expect(durClass(2 ** 53)).toBe(DUR_CLASS_MAX);
  });

  it("min/max duration filters are exact at a class's edges and within one, also paged one hit at a time", async () => {
    const { d, c } = await store();
    const durs = [991, 992, 1023, 1024, 1087, 1088, 5_000_000];
    const ids = durs.map(() => randomUUID());
    await write(d, ids.flatMap((id, i) => point(id, 0, durs[i], { ms: i * 10 })));
    const [member] = await batchesOf(c, ids[0]);
    for (const u of durs) expect(await c.zscore(`osprofiler_idx:v:dur:${durClass(u)}`, member), String(u)).not.toBeNull();
    expect(await c.zscore(`osprofiler_idx:v:dur:${durClass(100)}`, member)).toBeNull();
    const by = (pred: (us: number) => boolean): string[] => ids.filter((_, i) => pred(durs[i])).reverse();
    expect(await found(d, { minDurationMs: 0.992 })).toEqual(by((u) => u >= 992));
    expect(await found(d, { minDurationMs: 0.9925 })).toEqual(by((u) => u >= 993)); // 992.5 µs rounds to 993
    expect(await found(d, { maxDurationMs: 1.023 })).toEqual(by((u) => u <= 1023));
    expect(await found(d, { minDurationMs: 1.024, maxDurationMs: 1.087 })).toEqual(by((u) => u >= 1024 && u <= 1087));
    expect(await found(d, { minDurationMs: 1.088, maxDurationMs: 1.088 })).toEqual(by((u) => u === 1088));
    expect(await found(d, { minDurationMs: 1000 })).toEqual(by((u) => u >= 1_000_000));
    expect(await found(d, { minDurationMs: 1.1, maxDurationMs: 4999 })).toEqual([]);
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
});

describe('a batch', () => {
  it('is one blob, its ids and one member a distinct value, scored by its latest start; its member starts with its earliest; the span goes to meta', async () => {
    const { d, c } = await store();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await write(d, [...point(ids[0], 0, 500, { ms: 0, service: 'a' }), ...point(ids[1], 0, 700, { ms: 250, service: 'b', name: 'rpc' }), ...point(ids[2], 0, 900, { ms: 40, service: 'a' })]);
    const members = await batchesOf(c, ids[0]);
    expect(members).toHaveLength(1);
    const m = members[0];
    expect((await c.get(`osprofiler_idx:i:${m}`))!.split(' ')).toEqual(ids);
    const records = (await c.get(`osprofiler_idx:b:${m}`))!.split('\n').map((j) => JSON.parse(j) as { id: string; p: number; s: string[] });
    expect(records.map((r) => [r.id, r.p, r.s])).toEqual([[ids[0], 1, ['a']], [ids[1], 1, ['b']], [ids[2], 1, ['a']]]);
    const earliest = Number(timestampMicrosText(ts(T0, 0)));
    const latest = Number(timestampMicrosText(ts(T0 + 250, 0)));
    expect(memberEarliest(m)).toBe(earliest);
    expect(Number(await c.zscore('osprofiler_idx:batches', m))).toBe(latest);
    for (const k of ['service:a', 'service:b', 'project:p', 'host:h', 'root:wsgi', 'root:rpc', `dur:${durClass(500)}`, `dur:${durClass(900)}`]) {
      expect(Number(await c.zscore(`osprofiler_idx:v:${k}`, m)), k).toBe(latest);
      expect(await c.sismember('osprofiler_idx:vkeys', `osprofiler_idx:v:${k}`), k).toBe(1);
    }
    expect(await c.exists('osprofiler_idx:v:error', 'osprofiler_idx:split')).toBe(0);
    expect(Number(await c.zscore('osprofiler_idx:meta', 'span'))).toBe(latest - earliest);
    // A narrower batch leaves the span as it is.
    await write(d, point(randomUUID(), 0, 10, { ms: 300 }));
    expect(Number(await c.zscore('osprofiler_idx:meta', 'span'))).toBe(latest - earliest);
  });

  it("whose index update Redis refuses (a key of another type) is still stored: the failure contained and counted, not the points'", async () => {
    const { d, c } = await store();
    await c.set('osprofiler_idx:batches', 'not a sorted set');
    const id = randomUUID();
    const before = failureCounts()['drivers.redis.index'] ?? 0;
    await write(d, point(id, 0, 2000));
    expect(await c.llen(`osprofiler_opt:${id}`)).toBe(2);
    expect(failureCounts()['drivers.redis.index']).toBe(before + 1);
    expect((d as RedisDriver).counters.failed).toBe(0);
  });
});

describe("a batch's index, written behind its lines", () => {
  it('batches handed over without waiting (their lines and indexes on the wire together) are each stored and found, split traces marked', async () => {
    const { d, c } = await store();
    const ids = Array.from({ length: 40 }, () => randomUUID());
    // 40 batches in flight at once: each 1–3 traces, the last 10 traces' later points in a later batch.
    const writes: Promise<void>[] = [];
    for (let k = 0; k < ids.length; k++) {
      const notes = point(ids[k], 0, 1000 * (k + 1), { ms: k });
      if (k >= 30) notes.push(...point(ids[k - 30], 100, 200, { ms: k - 30, name: 'db', parent: randomUUID() }));
      writes.push(write(d, notes));
    }
    await Promise.all(writes);
    for (let k = 0; k < ids.length; k++) expect(await c.llen(`osprofiler_opt:${ids[k]}`)).toBe(k < 10 ? 4 : 2);
    expect(new Set(await found(d, {}))).toEqual(new Set(ids));
    expect((await c.zrange('osprofiler_idx:split', 0, -1)).sort()).toEqual(ids.slice(0, 10).sort());
    const hit = (await d.searchTraces!({ ...window, minDurationMs: 39.5 })).traces;
    expect(hit.map((t) => t.base_id)).toEqual([ids[39]]);
  });

  it('when the lines fail (a key of another type), the write fails with their error and counts their points; the next batch is stored and found', async () => {
    const { d, c } = await store();
    const [bad, good] = [randomUUID(), randomUUID()];
    await c.hset(`osprofiler_opt:${bad}`, 'x', '1');
    await expect(write(d, point(bad, 0, 1000))).rejects.toThrow(/WRONGTYPE/);
    expect((d as RedisDriver).counters.failed).toBe(2);
    await write(d, point(good, 0, 1000));
    // The later batch is stored and found, whatever became of the refused one's index.
    expect(await found(d, {})).toContain(good);
    expect(await c.llen(`osprofiler_opt:${good}`)).toBe(2);
  });
});

describe('a trace over several batches', () => {
  it('is marked split once a later batch pushes its lines, and found once, with the summary of all its lines, at its earliest start', async () => {
    const { d, c } = await store();
    const id = randomUUID();
    const top = randomUUID();
    // Batch 1: a child (2 ms); batch 2: an earlier root that ends later (10 ms in all); batch 3: a short child inside.
    await write(d, point(id, 3000, 5000, { parent: top, name: 'db' }));
    expect(await c.zscore('osprofiler_idx:split', id)).toBeNull();
    await write(d, point(id, 0, 10_000, { name: 'wsgi' }));
    // Scored by the trace's start: the least of its oldest stored line (3 ms) and this batch's earliest (0).
    expect(Number(await c.zscore('osprofiler_idx:split', id))).toBe(T0 * 1000);
    await write(d, point(id, 4000, 4500, { parent: top, name: 'db' }));
    expect(Number(await c.zscore('osprofiler_idx:split', id))).toBe(T0 * 1000);
    expect(await batchesOf(c, id)).toHaveLength(3);
    const [hit, ...more] = (await d.searchTraces!({ ...window, minDurationMs: 9, maxDurationMs: 11 })).traces;
    expect(more).toEqual([]);
    expect(hit).toMatchObject({ base_id: id, points: 3, duration_ms: 10, root_name: 'wsgi', timestamp: ts(T0, 0) });
    expect(await found(d, { maxDurationMs: 3 })).toEqual([]);
    expect(await found(d, {})).toEqual([id]);
  });

  it("marked through notifyLinesOnce too, scored by its start: its oldest stored line's or the later batch's earliest, whichever is first", async () => {
    const { d, c } = await store();
    const once = (notes: Notification[]) => (d as RedisDriver).notifyLinesOnce([{ key: randomUUID(), batch: linesOfNotifications(notes) }], 60);
    const [a, b] = [randomUUID(), randomUUID()];
    // a: its child stored first (at 3 ms), its root (at 1 ms) later; b: its root first (at 2 ms), a child later.
    await once([...point(a, 3000, 5000, { name: 'db', parent: randomUUID() }), ...point(b, 2000, 9000)]);
    await once([...point(a, 1000, 8000), ...point(b, 4000, 4500, { name: 'db', parent: randomUUID() })]);
    expect(Number(await c.zscore('osprofiler_idx:split', a))).toBe(T0 * 1000 + 1000);
    expect(Number(await c.zscore('osprofiler_idx:split', b))).toBe(T0 * 1000 + 2000);
    expect(await found(d, { minDurationMs: 6.5 })).toEqual([b, a]);
  });

  it('written by two writers at once (each its half, interleaved) is found once per trace, with both halves', async () => {
    const { d, n } = await store();
    const d2 = await createDriver(dbs.server.url(n), { project: 'p', service: 's' });
    dbs.keep(d2);
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const early = ids.flatMap((id, i) => point(id, 0, 1000 + i, { ms: i, service: 'a' }));
    const late = ids.flatMap((id, i) => point(id, 500, 300_000 + i, { ms: i, service: 'b', name: 'rpc', parent: randomUUID() }));
    // Each writer sends its half in 10 batches, interleaved with the other's.
    const send = async (drv: Driver, notes: Notification[]): Promise<void> => {
      for (let i = 0; i < notes.length; i += 40) await write(drv, notes.slice(i, i + 40));
    };
    await Promise.all([send(d, early), send(d2, [...late].reverse())]);
    const page = await d.searchTraces!({ ...window, service: 'b', limit: 500 });
    expect(page.traces.map((t) => t.base_id).sort()).toEqual([...ids].sort());
    for (const t of page.traces) expect(t).toMatchObject({ points: 2, services: expect.arrayContaining(['a', 'b']) as unknown, root_name: 'wsgi' });
    expect(await found(d, { minDurationMs: 300, limit: 500 })).toHaveLength(200);
    expect(await found(d, { service: 'a', maxDurationMs: 2, limit: 500 })).toEqual([]);
  });
});

describe('text', () => {
  it('is found case-insensitively in the records, with characters JSON escapes, in the root name, and not in other fields', async () => {
    const { d, c } = await store();
    const a = randomUUID();
    const b = randomUUID();
    await write(d, [
      ...point(a, 0, 100, { name: 'Checkout', info: { db: { statement: 'SELECT "Total" FROM Orders\\x WHERE a = \'É\'' } } }),
      ...point(b, 0, 100, { ms: 10, info: { request: { method: 'GET', path: '/Items/42', query: '', scheme: 'http' } } }),
    ]);
    const [member] = await batchesOf(c, a);
    // The text as it is since session 22 (lower-cased before; the reader lower-cases either).
    expect(await c.get(`osprofiler_idx:b:${member}`)).toContain('SELECT \\"Total\\" FROM Orders');
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
    // In the record, but not the trace's text: service, host, ids, keys.
    for (const other of ['api', '"h"', a.slice(0, 13), '"fu"', 'wsgi-start']) expect(await found(d, { text: other }), other).toEqual([]);
    expect(plainRuns('get /items/42')).toEqual(['get ', 'items', '42']);
    expect(plainRuns('"/"')).toEqual([]);
    expect(await found(d, { text: '/' })).toEqual([b]);
    // Split (a later batch of b, also through notifyLinesOnce): read from its lines, found the same.
    await write(d, point(b, 10, 20, { ms: 10, name: 'db', parent: randomUUID() }));
    await (d as RedisDriver).notifyLinesOnce([{ key: randomUUID(), batch: linesOfNotifications(point(b, 30, 40, { ms: 10, name: 'db', parent: randomUUID() })) }], 60);
    expect(await found(d, { text: 'get /items/42' })).toEqual([b]);
    expect((await d.searchTraces!({ ...window, text: 'get /items/42' })).traces[0].points).toBe(3);
  });
});

describe('trimming (?ttl=)', () => {
  it('the blobs expire; old batches leave the time order, their postings and `split`; emptied postings leave `vkeys`', async () => {
    const { n, c } = await store();
    const oldStart = Date.now() - 120_000;
    const old = [randomUUID(), randomUUID()];
    const keep = randomUUID();
    const mk = (id: string, ms: number, dur: number, service: string): Notification[] => [
      { name: 'wsgi-start', base_id: id, trace_id: id, parent_id: id, project: 'p', service, timestamp: ts(ms, 0), info: { host: 'ht' } },
      { name: 'wsgi-stop', base_id: id, trace_id: id, parent_id: id, project: 'p', service, timestamp: ts(ms, dur), info: { host: 'ht' } },
    ];
    const d1 = await createDriver(dbs.server.url(n, '?ttl=1h'), { project: 'p', service: 's' });
    await write(d1, [...mk(old[0], oldStart, 700, 'gone'), ...mk(old[1], oldStart + 1, 70_000, 'gone')]);
    await write(d1, mk(old[0], oldStart + 2, 900, 'gone')); // marks old[0] split
    await d1.close();
    const [oldMember] = await batchesOf(c, old[1]);
    const ttl = await c.ttl(`osprofiler_idx:b:${oldMember}`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await c.ttl(`osprofiler_idx:i:${oldMember}`)).toBeGreaterThan(3500);
    expect(await c.zscore('osprofiler_idx:split', old[0])).not.toBeNull();
    expect(await c.zscore(`osprofiler_idx:v:dur:${durClass(70_000)}`, oldMember)).not.toBeNull();
    // The split mark is scored when made (now): a cutoff after it, as a later trim's, removes it.
    await c.zadd('osprofiler_idx:split', String((Date.now() - 120_000) * 1000), old[0]);
    const d2 = await createDriver(dbs.server.url(n, '?ttl=60s'), { project: 'p', service: 's' });
    await write(d2, mk(keep, Date.now(), 700, 'kept'));
    await d2.close();
    const [keepMember] = await batchesOf(c, keep);
    expect(await c.zrange('osprofiler_idx:batches', 0, -1)).toEqual([keepMember]);
    for (const k of ['service:gone', `dur:${durClass(70_000)}`]) {
      expect(await c.exists(`osprofiler_idx:v:${k}`), k).toBe(0); // emptied, so gone
      expect(await c.sismember('osprofiler_idx:vkeys', `osprofiler_idx:v:${k}`), k).toBe(0);
    }
    expect(await c.zrange('osprofiler_idx:v:host:ht', 0, -1)).toEqual([keepMember]);
    expect(await c.sismember('osprofiler_idx:vkeys', 'osprofiler_idx:v:host:ht')).toBe(1);
    expect(await c.zscore('osprofiler_idx:split', old[0])).toBeNull();
  });
});

describe('a store indexed by the earlier layouts', () => {
  /** What layout 1's write script left for one trace: its summary, `start`, its `dur:` bucket, `in:` sets. */
  async function layout1Trace(c: Redis, id: string, ms: number, durUs: number, text: string): Promise<void> {
    const f = ts(T0 + ms, 0);
    const l = ts(T0 + ms, durUs);
    const fu = timestampMicrosText(f)!;
    const lu = timestampMicrosText(l)!;
    const summary = { id, f, l, fu, lu, p: 2, e: 0, s: ['one'], pr: ['p'], h: ['h'], ro: { ts: f, top: true, name: 'wsgi', service: 'one', detail: null }, rt: false, x: text.toLowerCase() };
    await c.hset('osprofiler_idx:sum', id, JSON.stringify(summary));
    await c.zadd('osprofiler_idx:start', fu, id);
    await c.sadd(`osprofiler_idx:dur:${durBucket(durUs)}`, id);
    for (const k of ['in:service:one', 'in:project:p', 'in:host:h', 'in:root:wsgi']) await c.sadd(`osprofiler_idx:${k}`, id);
    await c.sadd('osprofiler_idx:keys', 'osprofiler_idx:in:service:one', 'osprofiler_idx:in:project:p', 'osprofiler_idx:in:host:h', 'osprofiler_idx:in:root:wsgi');
  }

  /** What the layout before it left (summary text not lower-cased, `x`, `dur` sorted set). */
  async function layout0Trace(c: Redis, id: string, ms: number, durUs: number, text: string): Promise<void> {
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

  it('is searched by every filter beside layout 2, in one time order, paged without loss or repeat', async () => {
    const { d, c } = await store();
    const [o1, o2, one, fresh] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await layout0Trace(c, o1, 0, 2000, 'SELECT FROM Legacy');
    await layout0Trace(c, o2, 10, 50_000, 'GET /Old');
    await layout1Trace(c, one, 15, 4000, 'GET /One');
    await write(d, point(fresh, 0, 3000, { ms: 20, service: 'old' }));
    expect(await found(d, {})).toEqual([fresh, one, o2, o1]);
    expect(await found(d, { minDurationMs: 1.5 })).toEqual([fresh, one, o2, o1]);
    expect(await found(d, { minDurationMs: 2.5, maxDurationMs: 60 })).toEqual([fresh, one, o2]);
    expect(await found(d, { maxDurationMs: 2 })).toEqual([o1]);
    expect(await found(d, { text: 'from legacy' })).toEqual([o1]);
    expect(await found(d, { text: 'get /one' })).toEqual([one]);
    expect(await found(d, { service: 'old', root: 'wsgi', text: 'get /old' })).toEqual([o2]);
    expect(await found(d, { service: 'old' })).toEqual([fresh, o2, o1]);
    expect(await found(d, { service: 'one' })).toEqual([one]);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await d.searchTraces!({ ...window, limit: 1, cursor });
      paged.push(...page.traces.map((t) => t.base_id));
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
    expect(paged).toEqual([fresh, one, o2, o1]);
  });

  it('trimming removes their old traces from every key (`dur` and `x` too)', async () => {
    const { n, c } = await store();
    const [id, one] = [randomUUID(), randomUUID()];
    const hourAgo = -(Date.now() - T0) - 3_600_000;
    await layout0Trace(c, id, hourAgo, 2000, 'old'); // started an hour ago
    await layout1Trace(c, one, hourAgo, 70_000, 'one');
    const d = await createDriver(dbs.server.url(n, '?ttl=60s'), { project: 'p', service: 's' });
    await write(d, point(randomUUID(), 0, 10, { ms: Date.now() - T0 }));
    await d.close();
    expect(await c.exists('osprofiler_idx:dur', 'osprofiler_idx:x', 'osprofiler_idx:sum', 'osprofiler_idx:start', `osprofiler_idx:dur:${durBucket(70_000)}`)).toBe(0);
    expect(await c.sismember('osprofiler_idx:in:service:old', id)).toBe(0);
    expect(await c.exists('osprofiler_idx:in:service:one')).toBe(0);
    expect(await c.smembers('osprofiler_idx:keys')).toEqual([]);
  });
});
