/**
 * The redis:// index's summary JSON, built as text (src/redis/search.ts summaryText): the
 * same string JSON.stringify writes for the object form the index kept before (its text
 * lower-cased), for many
 * seeded random deltas, and read the same by recordOfLua and by Lua's cjson in a real
 * redis-server of this file's own (the write script merges with cjson.decode).
 */
import { Redis } from 'ioredis';
import { timestampMicrosText } from '@osprofiler/core/instrument';
import type { TraceDelta } from '@osprofiler/core/instrument';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOfLua, summaryText } from '../src/redis/search';
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
    text: w(d.text).toLowerCase(),
  };
}

/** The object form the index wrote with JSON.stringify before summaryText. */
function objectForm(d: TraceDelta, fu: string, lu: string): string {
  return JSON.stringify({ id: d.baseId, f: d.first, l: d.last, fu, lu, p: d.points, e: d.error ? 1 : 0, s: d.services, pr: d.projects, h: d.hosts, ro: d.root === null ? false : d.root, rt: d.route ?? false, x: d.text });
}

const micros = (ts: string): string => {
  const us = timestampMicrosText(ts);
  if (us === undefined) throw new Error(`not a timestamp: ${ts}`);
  return us;
};

describe('redis:// summary JSON built as text', () => {
  it('equals JSON.stringify of the object form for 5,000 seeded random deltas, and recordOfLua reads it back', () => {
    const r = rng(20261204);
    for (let i = 0; i < 5000; i++) {
      const d = randomDelta(r, i);
      const fu = micros(d.first);
      const lu = micros(d.last);
      const text = summaryText(d, fu, lu);
      expect(text, `delta ${i}`).toBe(objectForm(wellFormed(d), fu, lu));
      expect(recordOfLua(text)).toEqual(wellFormed(d));
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
