/**
 * The redis:// index's summary JSON, built as text (src/redis/search.ts summaryText): the
 * same string JSON.stringify writes for the object form the index kept before (its text
 * lower-cased), for many
 * seeded random deltas, and read the same by recordOfLua and by Lua's cjson in a real
 * redis-server of this file's own (layout 1's search script decodes it with cjson); a batch's
 * layout-2 update (src/redis/index-write.ts) against a reference of one call() per command.
 */
import { Redis } from 'ioredis';
import { timeKey, timestampMicrosText } from '@osprofiler/core/instrument';
import type { TraceDelta } from '@osprofiler/core/instrument';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOfLua, summaryText } from '../src/redis/search';
import { IndexWriter, TRIM } from '../src/redis/index-write';
import { BATCHES, BLOB, ERROR_POSTING, IDS, META, POSTING, POSTING_KEYS, durClass, idInBlob } from '../src/redis/index-layout';
import { RespEncoder } from '../src/redis/resp';
import { RedisServer } from '../../../tools/testing/redis-server';

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});
afterAll(async () => {
  await client?.quit();
  await server?.close();
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Quotes, backslashes, control characters, DEL, non-ASCII, astral, lone surrogates, empty,
// and strings past isPlainString's loop (64 characters: its RegExp path).
const POOL = ['', 'orders', 'a"b', 'back\\slash', 'line\nbreak\ttab', '\u0000\u001f', 'del\u007f', 'é ü 漢字', '😀', 'lone \ud800', 'lone \udc00 low', '</script>', 'GET /orders/42', 'x'.repeat(70), 'y'.repeat(65) + '"', 'SELECT * FROM t WHERE a = \'é\''];

/** Random deltas of every shape the index takes: roots and routes null or set, empty lists, odd timestamps Python still reads. */
function randomDelta(r: () => number, i: number): TraceDelta {
  const pick = (): string => POOL[Math.floor(r() * POOL.length)];
  const list = (): string[] => Array.from({ length: Math.floor(r() * 4) }, pick);
  const nullable = (): string | null => (r() < 0.3 ? null : pick());
  const us = Math.floor(r() * 4e15);
  const stamp = (u: number): string => new Date(Math.floor(u / 1000)).toISOString().slice(0, 19) + '.' + String(u % 1_000_000).padStart(6, '0');
  const first = r() < 0.1 ? '2026-1-2T3:4:5.1' : stamp(us);
  const last = r() < 0.1 ? '2026-01-02T03:04:05.100000' : stamp(us + Math.floor(r() * 1e7));
  const root = r() < 0.25 ? null : { ts: r() < 0.7 ? first : pick(), top: r() < 0.5, name: pick(), service: nullable(), detail: nullable() };
  return {
    baseId: r() < 0.8 ? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` : pick(),
    first,
    last,
    points: Math.floor(r() * 1000),
    error: r() < 0.5,
    services: list(),
    projects: list(),
    hosts: list(),
    root,
    route: nullable(),
    text: r() < 0.1 ? 'z'.repeat(4096) : [pick(), pick()].join('\n'),
  };
}

/** The delta with every string well-formed (a lone surrogate as U+FFFD) and its text lower-cased, as summaryText writes it. */
function wellFormed(d: TraceDelta): TraceDelta {
  const w = (v: string): string => (v as unknown as { toWellFormed(): string }).toWellFormed();
  const wn = (v: string | null): string | null => (v === null ? null : w(v));
  return {
    ...d,
    baseId: w(d.baseId),
    services: d.services.map(w),
    projects: d.projects.map(w),
    hosts: d.hosts.map(w),
    root: d.root === null ? null : { ...d.root, ts: w(d.root.ts), name: w(d.root.name), service: wn(d.root.service), detail: wn(d.root.detail) },
    route: wn(d.route),
    text: w(d.text), // as it is since session 22 (lower-cased by the reader)
  };
}

/** The object form the index wrote with JSON.stringify before summaryText (fu and lu left out when undefined: the writer's form since session 22). */
function objectForm(d: TraceDelta, fu: string | undefined, lu: string | undefined): string {
  return JSON.stringify({ id: d.baseId, f: d.first, l: d.last, fu, lu, p: d.points, e: d.error ? 1 : 0, s: d.services, pr: d.projects, h: d.hosts, ro: d.root === null ? false : d.root, rt: d.route ?? false, x: d.text });
}

const micros = (ts: string): string => {
  const us = timestampMicrosText(ts);
  if (us === undefined) throw new Error(`not a timestamp: ${ts}`);
  return us;
};

describe('redis:// summary JSON built as text', () => {
  it('equals JSON.stringify of the object form (with and without fu, lu) for 5,000 seeded random deltas, and recordOfLua reads it back', () => {
    const r = rng(20261204);
    for (let i = 0; i < 5000; i++) {
      const d = randomDelta(r, i);
      const fu = micros(d.first);
      const lu = micros(d.last);
      const text = summaryText(d, fu, lu);
      expect(text, `delta ${i}`).toBe(objectForm(wellFormed(d), fu, lu));
      expect(recordOfLua(text)).toEqual(wellFormed(d));
      // The writer's form since session 22: without the µs texts.
      const bare = summaryText(d);
      expect(bare, `delta ${i}`).toBe(objectForm(wellFormed(d), undefined, undefined));
      expect(recordOfLua(bare)).toEqual(wellFormed(d));
    }
  });

  it("Lua's cjson reads it as JavaScript does (decode → encode in a real redis-server)", async () => {
    const r = rng(7);
    let lone = 0;
    for (let i = 0; i < 300; i++) {
      const raw = randomDelta(r, i);
      const text = summaryText(raw, micros(raw.first), micros(raw.last));
      // cjson refuses a lone surrogate's escape (the script could not merge such a trace's
      // next batch): summaryText writes U+FFFD instead, so every summary decodes.
      if (JSON.stringify(raw) !== JSON.stringify(wellFormed(raw))) lone++;
      const d = wellFormed(raw);
      const back = (await client.eval('return cjson.encode(cjson.decode(ARGV[1]))', 0, text)) as string;
      // cjson writes an empty array as {} (recordOfLua reads that as []) and '/' as '\/'.
      expect(recordOfLua(back), `delta ${i}`).toEqual(recordOfLua(text));
      const fields = (await client.eval("local v = cjson.decode(ARGV[1]); local ro = v.ro and v.ro.name or false; return {v.id, v.f, v.l, v.fu, v.lu, tostring(v.p), tostring(v.e), v.x, ro or '', v.rt or ''}", 0, text)) as string[];
      expect(fields, `delta ${i}`).toEqual([d.baseId, d.first, d.last, micros(d.first), micros(d.last), String(d.points), d.error ? '1' : '0', d.text, d.root?.name ?? '', d.route ?? '']);
    }
    expect(lone).toBeGreaterThan(0);
  });
});

/** What a writer carries from batch to batch (its member's parts, the keys it listed, the span it sent). */
type WriterState = { writer: string; seq: number; known: Set<string>; span: number };

/** addToBatch's bytes for `deltas` (as a batch's Map) are referenceBatch's. */
function expectReferenceBytes(w: IndexWriter, deltas: TraceDelta[], label: string): void {
  const byId = new Map(deltas.map((d) => [d.baseId, d]));
  const st = w as unknown as WriterState;
  const want = new RespEncoder(64);
  referenceBatch(want, [...byId.values()], { ...st, known: new Set(st.known) });
  const got = new RespEncoder(64);
  w.addToBatch(got, byId);
  const g = got.take();
  const wt = want.take();
  expect(g.commands, label).toBe(wt.commands);
  expect(g.bytes.toString('latin1'), label).toBe(wt.bytes.toString('latin1'));
}

/** The index update of a batch as layout 2 says (src/redis/index-layout.ts), one call() per command, each text framed by str(); no ttl. */
function referenceBatch(enc: RespEncoder, deltas: TraceDelta[], w: WriterState): void {
  const ok = deltas.filter((d) => timestampMicrosText(d.first) !== undefined && timestampMicrosText(d.last) !== undefined);
  if (ok.length === 0) return;
  const fus = ok.map((d) => micros(d.first));
  const min = fus.reduce((a, b) => (Number(b) < Number(a) ? b : a));
  const max = fus.reduce((a, b) => (Number(b) > Number(a) ? b : a));
  const member = `${min}:${w.writer}:${w.seq.toString(36)}`;
  // Since session 22 without `fu` and `lu` (the reader computes them from `f` and `l`).
  enc.call('SET', BLOB + member, ok.map((d) => summaryText(d)).join('\n'));
  enc.call('SET', IDS + member, ok.map((d) => idInBlob(d.baseId)).join(' '));
  enc.call('ZADD', BATCHES, max, member);
  const keys: string[] = [];
  const add = (k: string): void => {
    if (!keys.includes(k)) keys.push(k);
  };
  if (ok.some((d) => d.error)) add(ERROR_POSTING);
  for (const d of ok) for (const v of d.services) add(`${POSTING}service:${v}`);
  for (const d of ok) for (const v of d.projects) add(`${POSTING}project:${v}`);
  for (const d of ok) for (const v of d.hosts) add(`${POSTING}host:${v}`);
  for (const d of ok) if (d.root !== null && d.root.name !== '') add(`${POSTING}root:${d.root.name}`);
  for (const d of ok) add(`${POSTING}dur:${durClass(Number(micros(d.last)) - Number(micros(d.first)))}`);
  for (const k of keys) enc.call('ZADD', k, max, member);
  const fresh = keys.filter((k) => !w.known.has(k));
  if (fresh.length > 0) enc.call('SADD', POSTING_KEYS, ...fresh);
  const span = Number(max) - Number(min);
  if (ok.length > 1 && span > w.span) enc.call('ZADD', META, 'GT', String(span), 'span');
}

describe('redis:// index update of a batch, framed as one text', () => {
  it('has the bytes of one call() per command for 400 seeded random batches of one writer: plain, one odd string (JSON escape, non-ASCII, line break) in any field, and anything', () => {
    const r = rng(5);
    const writer = new IndexWriter(0);
    const plainPool = ['orders', 'GET /orders/42', '</script>', 'x'.repeat(70), 'a b c'];
    const odd = POOL.filter((v) => !plainPool.includes(v) && v !== '');
    for (let b = 0; b < 400; b++) {
      const mode = b % 3; // 0 plain, 1 one odd string, 2 anything
      const deltas: TraceDelta[] = [];
      for (let i = 0, n = 1 + Math.floor(r() * 12); i < n; i++) {
        const d = randomDelta(r, b * 100 + i);
        if (mode < 2) {
          const p = (): string => plainPool[Math.floor(r() * plainPool.length)];
          // Plain ids, some holding spaces (written escaped: idInBlob).
          const id = d.baseId.startsWith('00000000') ? d.baseId : i % 3 === 2 ? `id ${b} ${i}` : `id-${b}-${i}`;
          Object.assign(d, { baseId: id, services: d.services.map(p), projects: d.projects.map(p), hosts: d.hosts.map(p), route: d.route === null ? null : p(), text: [p(), p()].join('\n') });
          if (d.root !== null) d.root = { ...d.root, ts: d.first, name: p(), service: d.root.service === null ? null : p(), detail: d.root.detail === null ? null : p() };
        }
        // Traces of one batch often share their values (the summary's parts are reused then): the same, copied, or one changed.
        const prev = deltas.at(-1);
        if (prev !== undefined && r() < 0.7) {
          const copy = r() < 0.5;
          Object.assign(d, { points: r() < 0.8 ? prev.points : d.points, error: r() < 0.8 ? prev.error : d.error, services: copy ? [...prev.services] : prev.services, projects: r() < 0.8 ? prev.projects : d.projects, hosts: copy ? [...prev.hosts] : prev.hosts });
          if (prev.root !== null && r() < 0.8) d.root = { ...prev.root, ts: d.first, top: r() < 0.8 ? prev.root.top : !prev.root.top, detail: r() < 0.7 ? prev.root.detail : d.root?.detail ?? null };
        }
        deltas.push(d);
      }
      if (mode === 1) {
        const d = deltas[Math.floor(r() * deltas.length)];
        const v = odd[Math.floor(r() * odd.length)];
        const field = Math.floor(r() * 8);
        if (field === 0) d.baseId = v;
        else if (field === 1) d.services = [...d.services, v];
        else if (field === 2) d.projects = [v];
        else if (field === 3) d.hosts = [v];
        else if (field === 4) d.route = v;
        else if (field === 5) d.text = v;
        else d.root = { ts: field === 6 ? v : d.first, top: true, name: field === 6 ? 'n' : v, service: null, detail: v };
      }
      // Every other batch as the agent's deltas come, with their timestamps' keys (core's
      // timeKey; NaN where it has none): the duration is taken from them, else from the texts.
      if (b % 2 === 1) {
        for (const d of deltas) {
          d.firstUs = timeKey(d.first);
          d.lastUs = timeKey(d.last);
        }
      }
      expectReferenceBytes(writer, deltas, `batch ${b}`);
    }
  });

  it('has the same bytes after a burst batch (its arrays not kept) and past the posting keys a writer keeps (4,096), its later batches reusing kept arrays and keys', () => {
    const r = rng(13);
    const writer = new IndexWriter(0);
    const plain = (d: TraceDelta, b: number, i: number): TraceDelta => ({ ...d, baseId: `id-${b}-${i}`, services: ['api'], projects: ['bench'], hosts: [`host-${(b * 7 + i) % 5000}`], route: '/items/:id', text: `GET /items/${i}\nselect ${i}`, root: d.root === null ? null : { ...d.root, ts: d.first, name: 'wsgi', service: 'api', detail: `GET /items/${i}` } });
    // 5,000 traces: past the batch a writer keeps its arrays for (4,096), then small batches again.
    const burst = Array.from({ length: 5000 }, (_, i) => plain(randomDelta(r, i), 0, i));
    expectReferenceBytes(writer, burst, 'burst');
    for (let b = 1; b < 40; b++) {
      // Up to 200 new hosts a batch: the writer's 4,096 kept posting keys wrap around.
      const deltas = Array.from({ length: 1 + Math.floor(r() * 200) }, (_, i) => plain(randomDelta(r, b * 1000 + i), b * 1000, i));
      expectReferenceBytes(writer, deltas, `batch ${b}`);
    }
  });

  it('sets the blobs to expire with ?ttl= and ends the first batch of each minute with the trimming script, its cutoff the ttl ago', () => {
    const r = rng(7);
    const writer = new IndexWriter(3600);
    for (let b = 0; b < 3; b++) {
      const deltas = Array.from({ length: 3 }, (_, i) => randomDelta(r, b * 10 + i)).filter((d) => timestampMicrosText(d.first) !== undefined && timestampMicrosText(d.last) !== undefined);
      const enc = new RespEncoder(64);
      const before = Date.now();
      const trimmed = writer.addToBatch(enc, new Map(deltas.map((d) => [d.baseId, d])));
      const g = enc.take();
      const text = g.bytes.toString('latin1');
      expect(text.match(/\r\nSET\r\n.*?\r\nEX\r\n\$4\r\n3600\r\n/gs)?.length, `batch ${b}`).toBe(2);
      expect(trimmed).toBe(b === 0);
      if (b > 0) {
        expect(g.scripts).toBeUndefined();
        continue;
      }
      const call = g.scripts![0];
      expect(call.script).toBe(TRIM);
      expect(call.index).toBe(g.commands - 1);
      expect(call.end).toBe(g.bytes.length);
      const m = /^\*4\r\n\$7\r\nEVALSHA\r\n\$40\r\n([0-9a-f]{40})\r\n\$1\r\n0\r\n\$\d+\r\n(\d+)\r\n$/.exec(g.bytes.subarray(call.start, call.end).toString('latin1'));
      expect(m?.[1]).toBe(TRIM.sha);
      const cutoff = Number(m?.[2]);
      expect(cutoff).toBeGreaterThanOrEqual((before - 3600_000) * 1000);
      expect(cutoff).toBeLessThanOrEqual((Date.now() - 3600_000) * 1000);
    }
  });

  it('has the same bytes when a batch\'s traces interleave their services and hosts (each value pair\'s summary parts reused by a later trace, some of its other values changed)', () => {
    const r = rng(11);
    const writer = new IndexWriter(0);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
    for (let b = 0; b < 200; b++) {
      // k value pairs, trace i takes pair i % k (A B A B …), as an agent's batch of several apps.
      const k = 2 + Math.floor(r() * 4);
      const pairs = Array.from({ length: k }, (_, j) => ({ services: [pick(['api', 'billing', 'orders'])], hosts: [pick(['h1', 'h2', `h${j}`])] }));
      const deltas: TraceDelta[] = [];
      for (let i = 0, n = 2 + Math.floor(r() * 20); i < n; i++) {
        const d = randomDelta(r, b * 100 + i);
        const pair = pairs[i % k];
        d.baseId = `id-${b}-${i}`;
        d.services = r() < 0.8 ? pair.services : [...pair.services, 'extra'];
        d.hosts = r() < 0.5 ? pair.hosts : [...pair.hosts];
        d.projects = [r() < 0.8 ? 'bench' : 'other'];
        d.points = r() < 0.7 ? 10 : d.points;
        d.error = r() < 0.2;
        d.route = r() < 0.5 ? null : '/items/:id';
        d.text = `GET /items/${i}`;
        d.root = r() < 0.2 ? null : { ts: d.first, top: r() < 0.8, name: r() < 0.8 ? 'wsgi' : 'rpc', service: pair.services[0], detail: r() < 0.5 ? null : 'GET' };
        deltas.push(d);
      }
      expectReferenceBytes(writer, deltas, `batch ${b}`);
    }
  });

  it('puts each trace in the duration class of Number(lu) - Number(fu) (its µs texts), within a second, a minute, across minutes, hours and days, and in forms off the fast path', () => {
    const r = rng(23);
    const writer = new IndexWriter(0);
    const stamp = (u: number): string => new Date(Math.floor(u / 1000)).toISOString().slice(0, 19) + '.' + String(u % 1_000_000).padStart(6, '0');
    // Spans from 0 to a day, starts anywhere in a minute (so some cross a second, a minute, an hour at its end).
    const spans = [0, 1, 999, 999_999, 1_000_000, 1_500_000, 59_999_999, 60_000_000, 61_000_001, 3_600_000_000, 86_400_000_000];
    const odd = ['2026-01-02 03:04:05.100000', '2026-01-02T03:04:05.1000000', '2026-01-02T03:04:5.100000', '2026-01-02T03:04:05:100000', '2026-01-02T03:04:05.10000x', '2026-01-02T03:04:59.999999', '2026-01-02T03:04:60.000000'];
    for (let b = 0; b < 100; b++) {
      const deltas: TraceDelta[] = [];
      for (let i = 0; i < 20; i++) {
        const d = randomDelta(r, b * 100 + i);
        d.baseId = `id-${b}-${i}`;
        const us = Math.floor(1.7e15 + r() * 1e14);
        const span = r() < 0.5 ? spans[Math.floor(r() * spans.length)] : Math.floor(r() * 2e6);
        d.first = r() < 0.1 ? odd[Math.floor(r() * odd.length)] : stamp(us);
        d.last = r() < 0.1 ? odd[Math.floor(r() * odd.length)] : r() < 0.05 ? d.first : stamp(us + span);
        deltas.push(d);
      }
      expectReferenceBytes(writer, deltas, `batch ${b}`);
    }
  });
});
