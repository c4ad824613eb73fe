// The redis:// driver reads the agent's decoded lines where they are (DecodedLines.linePlaces:
// no Buffer a line): the same keys, the same bytes in every list and the same expiry as the
// same batch handed over as a Buffer a line, for traces whose lines come together or apart,
// bodies read in many small windows, and ids or lines outside ASCII.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, pyDumps, type Driver, type Notification } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';
import '@osprofiler/drivers/register';
import { Redis } from 'ioredis';
import { DecodedLines, encodeLineBatch } from '../src/lines';
import { FrameReader } from '../src/protocol';
import { notifications, rng } from '../../../tools/testing/random-lines';
import { RedisServer } from '../../../tools/testing/redis-server';

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
  await client.connect();
});

afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

/** `lines` as one body, decoded (in windows of `windowBytes`). */
function decoded(lines: readonly string[], windowBytes?: number): DecodedLines {
  const { frame, count } = encodeLineBatch(Buffer.alloc(16, 7), 1, [{ text: lines.join('\n'), count: lines.length, errors: null }]);
  const [f] = new FrameReader(1 << 24).push(frame);
  const d = new DecodedLines(windowBytes);
  expect(d.append(f.payload.subarray(24), count)).toBe(true);
  return d;
}

/** The same points as a plain batch of a Buffer a line (the path before linePlaces). */
function asBuffers(d: DecodedLines): LineBatch {
  const buffers = d.buffers.map((b) => Buffer.from(b));
  return { baseIds: d.baseIds, timestamps: d.timestamps, buffers, lines: d.lines, errors: d.errors, index: d.index };
}

/** Every key of db `db` with its list's bytes (or its string value) and whether it expires. */
async function dump(db: number): Promise<Map<string, { value: Buffer[] | string | null; expires: boolean }>> {
  await client.select(db);
  const out = new Map<string, { value: Buffer[] | string | null; expires: boolean }>();
  for (const key of (await client.keys('osprofiler_opt:*')).sort()) out.set(key, { value: await client.lrangeBuffer(key, 0, -1), expires: (await client.ttl(key)) > 0 });
  for (const key of (await client.keys('osprofiler_error:*')).sort()) out.set(key, { value: await client.get(key), expires: (await client.ttl(key)) > 0 });
  return out;
}

/** Lines of traces of 1 to 12 points (random notifications given base_ids), each trace's points together or shuffled among the others'. */
function points(seed: number, together: boolean, plain: boolean): string[] {
  const r = rng(seed);
  const all = notifications(300, r);
  for (let i = 0, t = 0; i < all.length; t++) {
    const size = 1 + Math.floor(r() * 12);
    for (let k = 0; k < size && i < all.length; k++, i++) {
      const n = all[i];
      n.base_id = `7f3c${String(t).padStart(4, '0')}-aaaa-4bbb-8ccc-${seed}`;
      // Plain: every head on the layout (the random ones put escapes in some: their batches take the text path).
      if (plain) Object.assign(n, { name: k % 2 ? 'db-stop' : 'wsgi-start', trace_id: `t${i}`, parent_id: n.base_id, timestamp: `2026-12-06T04:00:00.${String(i).padStart(6, '0')}`, info: { host: 'h', n: i } });
    }
  }
  if (together) {
    const byBase = new Map<string, Notification[]>();
    for (const n of all) byBase.set(n.base_id, [...(byBase.get(n.base_id) ?? []), n]);
    return [...byBase.values()].flat().map((n) => pyDumps(n));
  }
  const lines = all.map((n) => pyDumps(n));
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  return lines;
}

describe("the redis:// driver given the agent's decoded lines", () => {
  for (const query of ['', '?ttl=7d']) {
    for (const [together, plain] of [[true, true], [false, true], [true, false], [false, false]]) {
      for (const windowBytes of [undefined, 700]) {
        it(`stores what a Buffer a line stores (${query || 'no ttl'}, ${plain ? 'plain ' : ''}traces ${together ? 'together' : 'shuffled'}, ${windowBytes === undefined ? 'one window' : 'small windows'})`, async () => {
          const lines = points(together ? 3 : 5, together, plain);
          const placed = (await createDriver(redis.url(1, query), { filterErrorTrace: true })) as Driver & { notifyLines(b: LineBatch): Promise<void> };
          const bytes = (await createDriver(redis.url(2, query), { filterErrorTrace: true })) as Driver & { notifyLines(b: LineBatch): Promise<void> };
          try {
            await client.select(1);
            await client.flushdb();
            await client.select(2);
            await client.flushdb();
            const d = decoded(lines, windowBytes);
            await placed.notifyLines(d);
            await placed.flush();
            await bytes.notifyLines(asBuffers(decoded(lines, windowBytes)));
            await bytes.flush();
            const a = await dump(1);
            const b = await dump(2);
            expect(a.size).toBeGreaterThan(10);
            expect([...a.keys()]).toEqual([...b.keys()]);
            for (const [key, v] of a) expect([key, v]).toEqual([key, b.get(key)]);
            // And they are the lines, newest first per trace.
            for (let i = 0; i < d.count; i++) expect((a.get(`osprofiler_opt:${d.baseIds[i]}`)!.value as Buffer[]).some((l) => l.equals(Buffer.from(lines[i], 'latin1')))).toBe(true);
          } finally {
            await placed.close();
            await bytes.close();
          }
        });
      }
    }
  }

  it('stores lines with bytes outside ASCII, and ids outside ASCII, as a Buffer a line does', async () => {
    const line = (base: string, name: string, k: number): string =>
      `{"name": "${name}", "base_id": "${base}", "trace_id": "t${k}", "parent_id": "${base}", "timestamp": "2026-12-06T04:00:0${k}.000001", "info": {"host": "h"}, "project": "p", "service": "s"}`;
    const lines = [line('plain-id', 'a-start', 0), line('plain-id', 'caf\u00e9-stop', 1), line('id-\u00e9\u00e9', 'b-start', 2), line('id-\u00e9\u00e9', 'b-stop', 3)];
    const placed = (await createDriver(redis.url(3)))! as Driver & { notifyLines(b: LineBatch): Promise<void> };
    const bytes = (await createDriver(redis.url(4)))! as Driver & { notifyLines(b: LineBatch): Promise<void> };
    try {
      for (const db of [3, 4]) {
        await client.select(db);
        await client.flushdb();
      }
      await placed.notifyLines(decoded(lines));
      await bytes.notifyLines(asBuffers(decoded(lines)));
      await placed.flush();
      await bytes.flush();
      const a = await dump(3);
      expect(a.size).toBe(2);
      expect([...a.entries()]).toEqual([...(await dump(4)).entries()]);
      expect(a.get('osprofiler_opt:plain-id')!.value).toEqual([Buffer.from(lines[1], 'latin1'), Buffer.from(lines[0], 'latin1')]);
    } finally {
      await placed.close();
      await bytes.close();
    }
  });
});
