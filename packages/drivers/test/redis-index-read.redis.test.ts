/**
 * redis:// search over index layout 2 (src/redis/index-layout.ts, read by
 * src/redis/index-read.ts): fixtures written with raw commands exactly as the layout says
 * (records made by summaryText from core's deltas of real notifications, the real lines
 * written by the driver with ?index=false), every page checked against core's
 * searchRecords over the same records. Against a redis-server of this file's own.
 */
import { Redis } from 'ioredis';
import { createDriver } from '@osprofiler/core';
import { linesOfNotifications, searchIndex, timestampMicrosText } from '@osprofiler/core/instrument';
import type { TraceDelta, TraceRecord } from '@osprofiler/core/instrument';
import type { Driver, Notification, SearchOptions, TraceSummary } from '@osprofiler/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import { IDX, durBucket } from '../src/redis/index-scripts';
import { BATCHES, BLOB, ERROR_POSTING, IDS, META, POSTING_KEYS, SPAN, SPLIT, batchMember, durClass, postingKey } from '../src/redis/index-layout';
import { summaryText } from '../src/redis/search';
import { ts } from '../../../tools/testing/search-contract';
import { peer, requirePythonOsprofiler } from './support/python';
import { RedisDbs } from './support/redis';

const dbs = new RedisDbs();
beforeAll(() => dbs.start());
afterAll(() => dbs.close());

const T0 = Date.UTC(2026, 4, 1, 12);
const SERVICES = ['api', 'billing', 'auth'];
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const PROJECTS = ['shop', 'money'];
/** Durations (µs) at and around duration classes' edges (durClass: one power of two each). */
const DURATIONS = [0, 15, 16, 31, 32, 63, 64, 65, 1023, 1024, 1025, 4095, 4096, 120_000, 2_500_000];

/** A store on a fresh db: a reader (a driver whose index is never written here), a driver writing lines only, a plain client. */
class Store {
  /** Every trace of the fixture, merged over its batches: the reference searchRecords reads. */
  readonly records = new Map<string, TraceRecord>();
  private seq = 0;

  private constructor(
    readonly db: number,
    readonly reader: Driver,
    readonly lines: Driver,
    readonly c: Redis,
  ) {}

  static async open(): Promise<Store> {
    const { n, c } = await dbs.db();
    const reader = dbs.keep(await createDriver(dbs.server.url(n), { project: 'p', service: 's' }));
    const lines = dbs.keep(await createDriver(dbs.server.url(n, '?index=false'), { project: 'p', service: 's' }));
    return new Store(n, reader, lines, c);
  }

  /** This store's url (its db). */
  get url(): string {
    return dbs.server.url(this.db);
  }

  /** The driver's IndexReader's bounds. */
  get index(): { bound: number; small: number } {
    return (this.reader as unknown as { index: { bound: number; small: number } }).index;
  }

  /** Writes `notes`' lines through the driver and returns their deltas, merged into the reference unless `reference` is false. */
  async deltas(notes: Notification[], reference = true): Promise<TraceDelta[]> {
    const b = linesOfNotifications(notes);
    await this.lines.notifyLines!(b);
    const deltas = [...searchIndex.deltasOfBatch(linesOfNotifications(notes)).values()];
    if (reference) for (const d of deltas) this.records.set(d.baseId, searchIndex.mergeDelta(this.records.get(d.baseId), d));
    return deltas;
  }

  /** One layout 2 batch of `notes` (lines written too), as index-layout.ts says; its member. */
  async batch(notes: Notification[], o: { writer?: string; blob?: boolean } = {}): Promise<string> {
    return this.layout2(await this.deltas(notes), o);
  }

  /** The layout 2 keys of a batch of `deltas`: blob, ids, batches, postings (and vkeys), meta's span. */
  async layout2(deltas: TraceDelta[], o: { writer?: string; blob?: boolean } = {}): Promise<string> {
    const rows = deltas.map((d) => ({ d, fu: timestampMicrosText(d.first)!, lu: timestampMicrosText(d.last)! }));
    const earliest = rows.reduce((a, r) => (Number(r.fu) < Number(a.fu) ? r : a)).fu;
    const latest = Math.max(...rows.map((r) => Number(r.fu)));
    const member = batchMember(earliest, o.writer ?? 'w', this.seq++);
    const keys = new Set<string>();
    for (const { d, fu, lu } of rows) {
      for (const v of d.services) keys.add(postingKey('service', v));
      for (const v of d.projects) keys.add(postingKey('project', v));
      for (const v of d.hosts) keys.add(postingKey('host', v));
      if (d.root !== null && d.root.name !== '') keys.add(postingKey('root', d.root.name));
      keys.add(postingKey('dur', String(durClass(Number(lu) - Number(fu)))));
      if (d.error) keys.add(ERROR_POSTING);
    }
    const m = this.c.multi();
    // Both forms of a summary in one blob: with its µs texts (written before session 22) and without (since; the reader computes them).
    if (o.blob !== false) m.set(BLOB + member, rows.map((r, k) => (k % 2 === 0 ? summaryText(r.d, r.fu, r.lu) : summaryText(r.d))).join('\n'));
    m.set(IDS + member, rows.map((r) => r.d.baseId).join(' '));
    m.zadd(BATCHES, latest, member);
    for (const k of keys) {
      m.zadd(k, latest, member);
      m.sadd(POSTING_KEYS, k);
    }
    m.zadd(META, 'GT', latest - Number(earliest), SPAN);
    await m.exec();
    return member;
  }

  /** Layout 1's keys for `notes` (lines written too), as index-scripts.ts says; `bare`: in the time order only (its summary not written yet). */
  async layout1(notes: Notification[], bare = false): Promise<void> {
    const m = this.c.multi();
    for (const d of await this.deltas(notes)) {
      const fu = timestampMicrosText(d.first)!;
      const lu = timestampMicrosText(d.last)!;
      m.zadd(IDX + 'start', fu, d.baseId);
      // A bare id: its batch's script failed after the plain commands (no summary).
      if (!bare) m.hset(IDX + 'sum', d.baseId, summaryText(d, fu, lu));
      for (const v of d.services) m.sadd(IDX + 'in:service:' + v, d.baseId);
      for (const v of d.projects) m.sadd(IDX + 'in:project:' + v, d.baseId);
      for (const v of d.hosts) m.sadd(IDX + 'in:host:' + v, d.baseId);
      if (d.root !== null) m.sadd(IDX + 'in:root:' + d.root.name, d.baseId);
      if (d.error) m.sadd(IDX + 'in:error', d.baseId);
      m.sadd(IDX + 'dur:' + durBucket(Number(lu) - Number(fu)), d.baseId);
    }
    await m.exec();
  }

  /** Every page of a search, following its cursors. */
  async pages(o: SearchOptions): Promise<{ traces: TraceSummary[]; sizes: number[]; cursors: (string | null)[] }> {
    const traces: TraceSummary[] = [];
    const sizes: number[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 2000; i++) {
      const page = await this.reader.searchTraces!({ ...o, cursor });
      traces.push(...page.traces);
      sizes.push(page.traces.length);
      cursors.push(page.cursor);
      if (page.cursor === null) return { traces, sizes, cursors };
      cursor = page.cursor;
    }
    throw new Error('the cursors never ended');
  }

  /** The reference: core's searchRecords over the same records, one page holding all. */
  reference(o: SearchOptions): TraceSummary[] {
    const page = searchIndex.searchRecords(this.records.values(), { ...o, limit: 1000, cursor: undefined });
    expect(page.cursor).toBeNull();
    return page.traces;
  }

  /** Paging `o` at `limit` gives the reference's traces, in its order, none lost or twice, summaries equal (`unindexed` ones built from lines). */
  async expectReference(o: SearchOptions, limit: number, unindexed = new Set<string>()): Promise<{ sizes: number[]; cursors: (string | null)[] }> {
    const got = await this.pages({ ...o, limit });
    const want = this.reference(o).map((t) => (unindexed.has(t.base_id) ? { ...t, indexed: false } : t));
    expect(got.traces.map((t) => t.base_id)).toEqual(want.map((t) => t.base_id));
    expect(got.traces).toEqual(want);
    return got;
  }
}

/** Trace `i` of a varied set: one root point (wsgi or rpc) and a child, its start at T0 + `ms`, its duration DURATIONS[i % n] µs. */
function trace(i: number, ms: number, o: { base?: string; service?: string; durUs?: number } = {}): Notification[] {
  const base = o.base ?? randomUUID();
  const top = randomUUID();
  const dur = o.durUs ?? DURATIONS[i % DURATIONS.length];
  const root = i % 13 === 12 ? 'Cron' : i % 5 === 0 ? 'rpc' : 'wsgi';
  const common = { base_id: base, project: PROJECTS[i % 2], service: o.service ?? SERVICES[i % 3] };
  const host = HOSTS[i % 4];
  const startInfo = root === 'wsgi' ? { request: { method: 'GET', path: `/items/${i}`, query: '', scheme: 'http' }, host } : { function: { name: `Jobs.Run${i % 4}` }, host };
  const stopInfo = i % 7 === 0 ? { etype: 'ValueError', message: `bad item ${i}`, host } : { host };
  return [
    { ...common, name: `${root}-start`, trace_id: top, parent_id: base, timestamp: ts(T0 + ms), info: startInfo },
    { ...common, name: 'db-start', trace_id: randomUUID(), parent_id: top, timestamp: ts(T0 + ms, Math.floor(dur / 2)), info: { host, db: { statement: `SELECT ${i}` } } },
    { ...common, name: `${root}-stop`, trace_id: top, parent_id: base, timestamp: ts(T0 + ms, dur), info: stopInfo },
  ].filter((n) => n.name !== 'db-start' || dur > 0);
}

/**
 * `n` traces from three writers, each writer's batches of `per` traces in its time order:
 * the writers' batches overlap in time; every 11th trace starts with the one before (a tie).
 */
async function varied(st: Store, n: number, per = 4): Promise<void> {
  const writers: Notification[][][] = [[], [], []];
  let ms = 0;
  for (let i = 0; i < n; i++) {
    if (i % 11 !== 0) ms += 37 + (i % 5) * 13;
    writers[i % 3].push(trace(i, ms));
  }
  const batches: { notes: Notification[]; writer: string }[] = [];
  writers.forEach((list, w) => {
    for (let k = 0; k < list.length; k += per) batches.push({ notes: list.slice(k, k + per).flat(), writer: 'w' + w });
  });
  // Written interleaved, as writers would.
  batches.sort((a, b) => (a.notes[0].timestamp < b.notes[0].timestamp ? -1 : 1));
  for (const b of batches) await st.batch(b.notes, { writer: b.writer });
}

const window = { since: T0 - 1000, until: T0 + 3_600_000 };

describe('layout 2 search', () => {
  let st: Store;
  beforeAll(async () => {
    st = await Store.open();
    await varied(st, 240);
  });

  it('pages through many batches: every trace once, in the reference order, summaries equal', async () => {
    expect(await st.c.zcard(BATCHES)).toBe(60);
    for (const limit of [1, 7, 50, 1000]) await st.expectReference({}, limit);
    const got = await st.expectReference(window, 7);
    expect(got.sizes.slice(0, -1).every((n) => n === 7)).toBe(true);
  });

  it('every filter kind, alone and together, paged', async () => {
    const cases: SearchOptions[] = [
      { service: 'billing' },
      { service: 'nobody' },
      { project: 'money' },
      { host: 'h3' },
      { root: 'rpc' },
      { errorsOnly: true },
      { text: '/items/1' },
      { text: 'jobs.run2' },
      { text: 'cron' }, // the root's name is 'Cron' (a record's text is lower-cased when written, its root's name not)
      { root: 'Cron' },
      { text: 'select 19' },
      { since: T0 + 2000, until: T0 + 6000 },
      { service: 'api', host: 'h2', errorsOnly: false },
      { service: 'auth', root: 'wsgi', minDurationMs: 0.064 },
      { project: 'shop', errorsOnly: true, maxDurationMs: 1.024 },
      { host: 'h1', text: 'get', since: T0 + 1000 },
    ];
    // A window whose edges are traces' own starts: both ends included.
    const all = st.reference({});
    const startMs = (t: TraceSummary): number => searchIndex.timestampMicros(t.timestamp) / 1000;
    cases.push({ since: startMs(all[120]), until: startMs(all[40]) }, { since: startMs(all[7]), minDurationMs: 0.032 });
    for (const o of cases) {
      const want = st.reference(o);
      if (o.service !== 'nobody') expect(want.length, JSON.stringify(o)).toBeGreaterThan(0);
      await st.expectReference(o, 3);
      await st.expectReference(o, 50);
    }
  });

  it('a duration range reads the union of its classes, exact at their edges', async () => {
    // Each value is a class's first or last duration: a range edge there lets in exactly it.
    for (const [lo, hi] of [[16, 31], [32, 63], [64, 1023], [1024, 4095], [65, 1025], [0, 15], [4096, undefined], [undefined, 32]] as const) {
      const o: SearchOptions = { minDurationMs: lo === undefined ? undefined : lo / 1000, maxDurationMs: hi === undefined ? undefined : hi / 1000 };
      const want = st.reference(o);
      expect(want.length).toBeGreaterThan(0);
      const durations = new Set(want.map((t) => Math.round((t.duration_ms ?? NaN) * 1000)));
      for (const d of durations) {
        if (lo !== undefined) expect(d).toBeGreaterThanOrEqual(lo);
        if (hi !== undefined) expect(d).toBeLessThanOrEqual(hi);
      }
      // Both edges found where a trace has them.
      if (lo !== undefined) expect(durations.has(lo)).toBe(true);
      if (hi !== undefined) expect(durations.has(hi)).toBe(true);
      await st.expectReference(o, 4);
    }
    expect((await st.reader.searchTraces!({ minDurationMs: 2, maxDurationMs: 1 })).traces).toEqual([]);
  });

  it('a cursor resumes at its place; within the window only', async () => {
    const first = await st.reader.searchTraces!({ ...window, limit: 10 });
    const next = await st.reader.searchTraces!({ ...window, limit: 10, cursor: first.cursor! });
    const all = st.reference(window);
    expect([...first.traces, ...next.traces].map((t) => t.base_id)).toEqual(all.slice(0, 20).map((t) => t.base_id));
  });

  it('the bound reached: a short page and a cursor, the pages continue without loss or duplicate', async () => {
    st.index.bound = 10;
    try {
      for (const o of [{}, { service: 'api' }, { errorsOnly: true }, { text: 'jobs.run1' }]) {
        // A call reads about 3 batches (12 records): every page but the last short, with a cursor.
        const got = await st.expectReference(o, 20);
        expect(got.sizes.some((n, i) => n < 20 && got.cursors[i] !== null), JSON.stringify(o)).toBe(true);
      }
    } finally {
      st.index.bound = 5000;
    }
  });
});

describe('layout 2: records held unparsed until a page', () => {
  it("a record holding a filter's text in another field (prefiltered in, parsed, dropped) never reaches a page; pages stay whole", async () => {
    const st = await Store.open();
    // Every batch mixes traces of service 'api' with traces of service 'web' on host 'api':
    // the service filter's text ("api") is in both, the postings hold the batch for both.
    for (let k = 0; k < 12; k++) {
      const notes: Notification[] = [];
      for (let j = 0; j < 6; j++) {
        const i = k * 6 + j;
        const t = trace(i, 1000 + i * 50, { service: j % 2 === 0 ? 'api' : 'web' });
        notes.push(...t.map((n) => (j % 2 === 0 ? n : { ...n, info: { ...n.info, host: 'api' } })));
      }
      await st.batch(notes, { writer: 'w' + (k % 2) });
    }
    const want = st.reference({ service: 'api' });
    expect(want.length).toBe(36);
    expect(st.reference({ host: 'api' }).length).toBe(36);
    for (const limit of [1, 5, 36, 50]) {
      await st.expectReference({ service: 'api' }, limit);
      await st.expectReference({ host: 'api' }, limit);
      await st.expectReference({}, limit);
    }
  });
});

describe('layout 2: batches that span a long time', () => {
  it('a batch holding records an hour apart (META span): found in a window inside its span, and a cursor inside it resumes', async () => {
    const st = await Store.open();
    // The long batch: a trace at T0 + 1 s and one at T0 + 3601 s.
    const early = randomUUID();
    const late = randomUUID();
    await st.batch([...trace(1, 1000, { base: early }), ...trace(2, 3_601_000, { base: late })], { writer: 'long' });
    expect(Number(await st.c.zscore(META, SPAN))).toBe(3_600_000_000);
    // Others in between, from another writer.
    for (let k = 0; k < 30; k++) await st.batch([...trace(3 + 2 * k, 2000 + k * 100_000), ...trace(4 + 2 * k, 2050 + k * 100_000)], { writer: 'short' });
    // A window ending before the long batch's score finds its early record (the walk starts at until + span).
    const inside = await st.reader.searchTraces!({ until: T0 + 1500, limit: 5 });
    expect(inside.traces.map((t) => t.base_id)).toEqual([early]);
    expect(inside.cursor).toBeNull();
    for (const limit of [1, 3, 7]) await st.expectReference({}, limit);
    await st.expectReference({ until: T0 + 2_000_000 }, 4);
    await st.expectReference({ since: T0 + 500, until: T0 + 1_000_000 }, 2);
  });
});

describe('layout 2: the walk in chunks', () => {
  it('records of overlapping batches across a chunk edge come out in order; batches of one score across it all read', async () => {
    const st = await Store.open();
    // 40 batches 100 ms apart, each holding a trace at its latest start and one 250 ms
    // before: a batch's early trace is older than the next two batches' late ones.
    for (let k = 0; k < 40; k++) await st.batch([...trace(2 * k, 10_000 + k * 100), ...trace(2 * k + 1, 10_000 + k * 100 - 250)], { writer: 'w' + (k % 3) });
    // 20 batches of one trace each, all starting at the same µs (the walk's ties: more than its first chunk).
    for (let k = 0; k < 20; k++) await st.batch(trace(100 + k, 5000, { durUs: 64 }), { writer: 't' + k });
    expect(await st.c.zcount(BATCHES, (T0 + 5000) * 1000, (T0 + 5000) * 1000)).toBe(20);
    for (const limit of [100, 1000, 17, 5]) await st.expectReference({}, limit);
    for (const o of [{ text: 'select 1' }, { minDurationMs: 0.064, maxDurationMs: 0.064 }, { until: T0 + 5000 }]) await st.expectReference(o, 100);
    await st.expectReference({ until: T0 + 5000 }, 3);
  });
});

describe('layout 2: split traces, races, expired blobs', () => {
  it('a trace in two batches listed in SPLIT is found once, its summary built from its lines (both batches)', async () => {
    const st = await Store.open();
    await varied(st, 24);
    const base = randomUUID();
    // Its first part (api, 1 ms) in one writer's batch, its second (billing, up to 40 ms) in another's.
    const top = randomUUID();
    const at = (ms: number, us = 0): string => ts(T0 + ms, us);
    const part1: Notification[] = [
      { name: 'wsgi-start', base_id: base, trace_id: top, parent_id: base, project: 'shop', service: 'api', timestamp: at(500), info: { host: 'h1', request: { method: 'POST', path: '/split', query: '', scheme: 'http' } } },
      { name: 'rpc-start', base_id: base, trace_id: 'r1', parent_id: top, project: 'shop', service: 'api', timestamp: at(500, 1000), info: { host: 'h1' } },
    ];
    const part2: Notification[] = [
      { name: 'wsgi-start', base_id: base, trace_id: 'b1', parent_id: 'r1', project: 'money', service: 'billing', timestamp: at(500, 2000), info: { host: 'h9' } },
      { name: 'wsgi-stop', base_id: base, trace_id: 'b1', parent_id: 'r1', project: 'money', service: 'billing', timestamp: at(500, 40_000), info: { host: 'h9' } },
    ];
    await st.batch([...trace(100, 400), ...part1], { writer: 'a' });
    await st.batch([...part2, ...trace(101, 600)], { writer: 'b' });
    await st.c.zadd(SPLIT, Date.now() * 1000, base);
    const whole = st.records.get(base)!;
    expect(whole).toMatchObject({ services: ['api', 'billing'], points: 3 });
    const found = (await st.pages({ limit: 5 })).traces.filter((t) => t.base_id === base);
    expect(found).toEqual([{ ...searchIndex.summaryOfRecord(whole), indexed: true }]);
    // The filters see the whole trace: a service, a host and a duration only the whole has, with the first part's text.
    for (const o of [{ service: 'billing', text: '/split' }, { host: 'h9', text: '/split' }, { minDurationMs: 39, maxDurationMs: 41, service: 'api' }]) {
      expect((await st.reader.searchTraces!({ ...o, limit: 50 })).traces.map((t) => t.base_id), JSON.stringify(o)).toEqual([base]);
    }
    for (const limit of [1, 2, 7]) await st.expectReference({}, limit);
    await st.expectReference({ service: 'billing' }, 2);
  });

  it('split traces are walked by their start beside the batches: an old slow one behind 1,200 newer split ones is found by its whole duration', async () => {
    const st = await Store.open();
    const ids = Array.from({ length: 1200 }, () => randomUUID());
    // Trace k starts at T0 + 10k ms; its root's start in one batch, its stop (5 ms later;
    // trace 0's 2 s later) in the next: each part alone is short.
    const host = (k: number): string => HOSTS[k % 4];
    const part = (k: number, stop: boolean): Notification[] => {
      const common = { base_id: ids[k], trace_id: ids[k] + '-r', parent_id: ids[k], project: 'shop', service: stop && k % 2 === 1 ? 'billing' : 'api' };
      return stop
        ? [{ ...common, name: 'wsgi-stop', timestamp: ts(T0 + 10 * k + (k === 0 ? 2000 : 5)), info: { host: host(k) } }]
        : [{ ...common, name: 'wsgi-start', timestamp: ts(T0 + 10 * k), info: { host: host(k), request: { method: 'GET', path: `/s/${k}`, query: '', scheme: 'http' } } }];
    };
    for (let from = 0; from < ids.length; from += 400) {
      const ks = Array.from({ length: 400 }, (_, j) => from + j);
      await st.batch(ks.flatMap((k) => part(k, false)), { writer: 'a' });
      await st.batch(ks.flatMap((k) => part(k, true)), { writer: 'b' });
    }
    // As the writers mark them (src/redis/split-mark.ts): by start.
    await st.c.zadd(SPLIT, ...ids.flatMap((id, k) => [String((T0 + 10 * k) * 1000), id]));
    expect((await st.reader.searchTraces!({ minDurationMs: 1000 })).traces.map((t) => t.base_id)).toEqual([ids[0]]);
    await st.expectReference({ minDurationMs: 1000 }, 50);
    for (const o of [{ since: T0 + 3000 }, { service: 'billing' }, { host: 'h2', minDurationMs: 4 }, { until: T0 + 5000 }, { text: '/s/11' }]) await st.expectReference(o, 50);
    await st.expectReference({ service: 'billing', until: T0 + 9000 }, 7);
    // The bound within the split walk: short pages, none lost or twice.
    st.index.bound = 100;
    try {
      const got = await st.expectReference({ minDurationMs: 1000 }, 50);
      expect(got.sizes.length).toBeGreaterThan(5);
      await st.expectReference({ service: 'billing' }, 50);
    } finally {
      st.index.bound = 5000;
    }
  });

  it('a trace in two batches but not in SPLIT (the writers raced) is found once', async () => {
    const st = await Store.open();
    const base = randomUUID();
    const notes = trace(3, 100, { base });
    await st.batch(notes.slice(0, 2), { writer: 'a' });
    await st.batch([...notes.slice(2), ...trace(4, 200)], { writer: 'b' });
    const got = (await st.pages({ limit: 1 })).traces.map((t) => t.base_id);
    expect(got.filter((id) => id === base)).toHaveLength(1);
    expect(got).toHaveLength(2);
  });

  it('a batch whose blob expired (still in batches and its postings) is skipped', async () => {
    const st = await Store.open();
    await varied(st, 30);
    const gone = [...trace(200, 150), ...trace(201, 160)];
    const deltas = await st.deltas(gone, false);
    await st.layout2(deltas, { writer: 'x', blob: false });
    for (const o of [{}, { service: SERVICES[200 % 3] }]) {
      const got = await st.expectReference(o, 4);
      expect(got.cursors.at(-1)).toBeNull();
    }
    const all = (await st.pages({ limit: 100 })).traces.map((t) => t.base_id);
    for (const d of deltas) expect(all).not.toContain(d.baseId);
  });
});

describe('layout 1 beside layout 2', () => {
  it('a store holding both: one search merges them in order, pages without loss or duplicate; a bare layout 1 id is built from its lines', async () => {
    const st = await Store.open();
    let ms = 0;
    let bare = '';
    for (let k = 0; k < 20; k++) {
      const one = trace(k, (ms += 50));
      const two = [...trace(k + 50, (ms += 20)), ...trace(k + 51, (ms += 1))];
      await st.layout1(one, k === 7);
      if (k === 7) bare = one[0].base_id;
      await st.batch(two, { writer: 'w' + (k % 2) });
    }
    expect(await st.c.exists(IDX + 'sum')).toBe(1);
    const built = new Set([bare]);
    for (const limit of [1, 3, 10, 100]) await st.expectReference({}, limit, built);
    for (const o of [{ service: 'billing' }, { errorsOnly: true }, { minDurationMs: 0.03, maxDurationMs: 2 }, { text: 'items' }]) {
      await st.expectReference(o, 3, built);
    }
    // Layout 1 walking its time order, its bound reached too.
    st.index.small = 0;
    st.index.bound = 4;
    try {
      await st.expectReference({}, 5, built);
      await st.expectReference({ service: 'billing' }, 2, built);
    } finally {
      st.index.small = 5000;
      st.index.bound = 5000;
    }
  });
});

describe('traces no index covers', () => {
  it('a trace only its lines hold (as Python writes) is found by the fallback scan, marked unindexed; layout 2 traces are not', async () => {
    const st = await Store.open();
    await varied(st, 12);
    const py = randomUUID();
    await st.deltas(trace(0, 5000, { base: py, service: 'pysvc' }), false);
    let hits: TraceSummary[] = [];
    // The first search waits for the scan at most 50 ms; a later one has its answer.
    for (const end = Date.now() + 5000; !hits.some((t) => t.base_id === py) && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      hits = (await st.reader.searchTraces!({ limit: 100 })).traces;
    }
    expect(hits.find((t) => t.base_id === py)).toMatchObject({ indexed: false, services: ['pysvc'], root_name: 'rpc' });
    const indexed = hits.filter((t) => t.base_id !== py);
    expect(indexed.map((t) => t.base_id)).toEqual(st.reference({}).map((t) => t.base_id));
    expect(indexed.every((t) => t.indexed)).toBe(true);
    expect((await st.reader.searchTraces!({ service: 'pysvc' })).traces.map((t) => t.base_id)).toEqual([py]);
    expect((await st.reader.searchTraces!({ service: 'api' })).traces.map((t) => t.base_id)).not.toContain(py);
  });

  it("a base_id holding a space or a backslash is read back from its batch's ids (the writer escapes it); ids a blob written before holds as they are read as before", async () => {
    const st = await Store.open();
    const ids = ['trace with spaces', 'back\\slash', 'both \\s\\ ', ' ', randomUUID()];
    await st.reader.notifyLines!(linesOfNotifications(ids.flatMap((base, i) => trace(i, 1000 + i, { base }))));
    // A blob of before session 21: its ids joined as they are (one holding a backslash read as itself).
    const old = ['old\\one', randomUUID()];
    await st.batch(old.flatMap((base, i) => trace(i, 3000 + i, { base })));
    expect(await st.c.get(IDS + (await st.c.zrange(BATCHES, 0, -1)).find((m) => !m.includes(':w:')))).toContain('trace\\swith\\sspaces');
    const reader = (st.reader as unknown as { index: { dropIndexed(ids: Set<string>): Promise<void> } }).index;
    const left = new Set([...ids, ...old, 'not indexed', 'spaces', 'with']);
    await reader.dropIndexed(left);
    expect([...left]).toEqual(['not indexed', 'spaces', 'with']);
  });

  it('a trace Python itself stored is found beside layout 2 traces, marked unindexed', async () => {
    requirePythonOsprofiler();
    const st = await Store.open();
    await varied(st, 6);
    const py = peer(['emit', '--key', 'K', '--connection', st.url, '--service', 'pysvc', '--error']).trim();
    expect(py).toMatch(/^[0-9a-f-]{36}$/);
    let hit: TraceSummary | undefined;
    for (const end = Date.now() + 5000; hit === undefined && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      hit = (await st.reader.searchTraces!({ errorsOnly: true, limit: 100 })).traces.find((t) => t.base_id === py);
    }
    expect(hit).toMatchObject({ indexed: false, root_name: 'peer_emit', services: ['pysvc'], error: true });
    const all = (await st.reader.searchTraces!({ limit: 100 })).traces;
    expect(all.filter((t) => t.indexed).map((t) => t.base_id)).toEqual(st.reference({}).map((t) => t.base_id));
  });
});
