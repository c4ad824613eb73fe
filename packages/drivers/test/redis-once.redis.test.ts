// notifyLinesOnce (the collector's idempotent write): a batch, its duplicate marker and its
// search index in one WATCH/MULTI/EXEC transaction (src/redis/once.ts) — a batch written
// again under the same key stores nothing, also when two connections write it at the same
// time; other keys write; the error index comes with the batch; a batch the store refuses
// leaves nothing behind. Real Redis, a redis-server of this file's own.
import { randomUUID } from 'node:crypto';
import { createDriver } from '@osprofiler/core';
import { linesOfNotifications, type LineBatch } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import type { RedisDriver } from '../src/index';
import { TRIM } from '../src/redis/index-write';
import { RedisFixture } from './support/redis';
import { RedisServer } from '../../../tools/testing/redis-server';

const fx = new RedisFixture();
let driver: RedisDriver;

beforeAll(async () => {
  await fx.start();
  driver = (await createDriver(fx.url(), { filterErrorTrace: true })) as RedisDriver;
});

afterAll(async () => {
  await fx.cleanup();
  await driver?.close();
  await fx.close();
});

const traceIds = new Map<string, string>();
/** Start and stop of one base id share a trace id (one point). */
function n(base: string, name: string, etype: string | null = null): Notification {
  if (!traceIds.has(base)) traceIds.set(base, randomUUID());
  return { name, base_id: base, trace_id: traceIds.get(base), parent_id: base, timestamp: '2026-12-03T10:00:00.000001', info: { host: 'h', ...(etype ? { etype } : {}) }, project: null, service: 'svc' } as Notification;
}

describe('redis:// notifyLinesOnce', () => {
  it('the index\'s trimming script unknown to the server (SCRIPT FLUSH): the batch, its marker and its index are written, trimming follows', async () => {
    const trimming = (await createDriver(fx.url('?ttl=3600'), { filterErrorTrace: true })) as RedisDriver;
    (trimming as unknown as { indexWriter: { trimEveryMs: number } }).indexWriter.trimEveryMs = 0;
    try {
      const a = fx.track(randomUUID());
      const k = fx.trackKey(`osprofiler_batch:t-${randomUUID()}`).slice('osprofiler_batch:'.length);
      await fx.client.script('FLUSH');
      expect(await trimming.notifyLinesOnce([{ key: k, batch: linesOfNotifications([n(a, 'wsgi-start'), n(a, 'wsgi-stop')]) }], 60)).toEqual([true]);
      expect(await fx.client.llen(`osprofiler_opt:${a}`)).toBe(2);
      expect(await fx.client.exists(`osprofiler_batch:${k}`)).toBe(1);
      expect(await fx.indexRecords(a)).toMatchObject([{ id: a, p: 1, s: ['svc'] }]);
      // The follow-up loaded the script again and trimmed.
      expect(await fx.client.script('EXISTS', TRIM.sha)).toEqual([1]);
      expect(trimming.counters.failed).toBe(0);
    } finally {
      await trimming.close();
    }
  });

  it('writes a key once; the marker and the points are one atomic step', async () => {
    const a = fx.track(randomUUID());
    const b = fx.track(randomUUID());
    const k1 = fx.trackKey(`osprofiler_batch:t-${randomUUID()}`).slice('osprofiler_batch:'.length);
    const k2 = fx.trackKey(`osprofiler_batch:t-${randomUUID()}`).slice('osprofiler_batch:'.length);
    const batch1 = linesOfNotifications([n(a, 'wsgi-start'), n(b, 'wsgi-start'), n(a, 'wsgi-stop', 'ValueError')]);
    const batch2 = linesOfNotifications([n(b, 'wsgi-stop')]);
    expect(await driver.notifyLinesOnce([{ key: k1, batch: batch1 }], 60)).toEqual([true]);
    // Redelivered together with a new batch: only the new one is written.
    expect(await driver.notifyLinesOnce([{ key: k1, batch: batch1 }, { key: k2, batch: batch2 }], 60)).toEqual([false, true]);
    expect(await fx.client.llen(`osprofiler_opt:${a}`)).toBe(2);
    expect(await fx.client.llen(`osprofiler_opt:${b}`)).toBe(2);
    expect(JSON.parse((await fx.client.get(`osprofiler_error:${a}`)) as string)).toEqual({ base_id: a, timestamp: '2026-12-03T10:00:00.000001' });
    expect(await fx.client.get(`osprofiler_error:${b}`)).toBeNull();
    const ttl = await fx.client.ttl(`osprofiler_batch:${k1}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    // Oldest first, as the plain write (LPUSH: newest at the head).
    const listA = (await fx.client.lrange(`osprofiler_opt:${a}`, 0, -1)).map((t) => JSON.parse(t).name);
    expect(listA).toEqual(['wsgi-stop', 'wsgi-start']);
    const report = await driver.getReport(a);
    expect(report.children).toHaveLength(1);
  });
});

/** `n` 1-point traces of `size`-byte lines, as the agent hands them over (bytes). */
function bigBatch(ids: string[], size: number): LineBatch {
  const pad = 'x'.repeat(size);
  const lines = linesOfNotifications(ids.flatMap((b) => [n(b, 'wsgi-start'), { ...n(b, 'wsgi-stop'), info: { host: 'h', pad } } as Notification]));
  return { ...lines, buffers: lines.lines.map((l) => Buffer.from(l, 'latin1')) };
}

describe('redis:// notifyLinesOnce, concurrently and refused', () => {
  it('a batch delivered at the same time on two connections is stored once (the racing EXEC aborts and is checked again)', async () => {
    const other = (await createDriver(fx.url(), { filterErrorTrace: true })) as RedisDriver;
    const pid = fx.server.process!.pid!;
    try {
      for (let r = 0; r < 3; r++) {
        const ids = Array.from({ length: 400 }, () => fx.track(randomUUID()));
        const key = fx.trackKey(`osprofiler_batch:race-${randomUUID()}`).slice('osprofiler_batch:'.length);
        const batch = bigBatch(ids, 1500);
        const before = driver.onceRaces + other.onceRaces;
        // Both ~1.2 MB transactions wait while the server is stopped; it then reads the two
        // connections in turns (16 KB at a time), so both checks pass before either EXEC:
        // the second EXEC must abort (its marker was written) and the check find the batch written.
        process.kill(pid, 'SIGSTOP');
        let both: Promise<boolean[][]>;
        try {
          both = Promise.all([driver.notifyLinesOnce([{ key, batch }], 60), other.notifyLinesOnce([{ key, batch }], 60)]);
          await new Promise((res) => setTimeout(res, 100));
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        const [a, b] = await both;
        expect(driver.onceRaces + other.onceRaces - before).toBe(1);
        expect([a[0], b[0]].sort()).toEqual([false, true]);
        const lens = await Promise.all(ids.map((id) => fx.client.llen(`osprofiler_opt:${id}`)));
        expect(lens.every((l) => l === 2)).toBe(true);
        // The index counted the batch once.
        for (const id of ids.slice(0, 5)) expect(await fx.indexRecords(id)).toMatchObject([{ p: 1 }]);
        await fx.cleanup();
      }
      expect(driver.counters.failed + other.counters.failed).toBe(0);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('a batch with a key of the wrong type writes nothing (no marker, no points, no index); the others of the call are written', async () => {
    const bad = fx.track(randomUUID());
    const good = fx.track(randomUUID());
    const later = fx.track(randomUUID());
    await fx.client.set(`osprofiler_opt:${bad}`, 'not a list');
    const k1 = fx.trackKey(`osprofiler_batch:t-${randomUUID()}`).slice('osprofiler_batch:'.length);
    const k2 = fx.trackKey(`osprofiler_batch:t-${randomUUID()}`).slice('osprofiler_batch:'.length);
    const failed = driver.counters.failed;
    await expect(
      driver.notifyLinesOnce(
        [
          { key: k1, batch: linesOfNotifications([n(good, 'wsgi-start'), n(bad, 'wsgi-start')]) },
          { key: k2, batch: linesOfNotifications([n(later, 'wsgi-start')]) },
        ],
        60,
      ),
    ).rejects.toThrow(/^WRONGTYPE osprofiler_opt:.* is a string, not a list/);
    expect(driver.counters.failed - failed).toBe(2);
    expect(await fx.client.exists(`osprofiler_batch:${k1}`)).toBe(0);
    expect(await fx.client.llen(`osprofiler_opt:${good}`)).toBe(0);
    expect(await fx.indexRecords(good)).toEqual([]);
    expect(await fx.client.get(`osprofiler_opt:${bad}`)).toBe('not a list');
    expect(await fx.client.exists(`osprofiler_batch:${k2}`)).toBe(1);
    expect(await fx.client.llen(`osprofiler_opt:${later}`)).toBe(1);
    // Once the key is fixed, the same batch goes through (nothing was marked).
    await fx.client.del(`osprofiler_opt:${bad}`);
    expect(await driver.notifyLinesOnce([{ key: k1, batch: linesOfNotifications([n(good, 'wsgi-start'), n(bad, 'wsgi-start')]) }], 60)).toEqual([true]);
    expect(await fx.client.llen(`osprofiler_opt:${good}`)).toBe(1);
  });

  it('a server gone: the call rejects and its points are counted failed; written again once it is back', async () => {
    const own = await RedisServer.start();
    const d = (await createDriver(own.url(0))) as RedisDriver;
    try {
      const id = randomUUID();
      const key = `t-${randomUUID()}`;
      const batch = linesOfNotifications([n(id, 'wsgi-start'), n(id, 'wsgi-stop')]);
      await own.stop();
      await expect(d.notifyLinesOnce([{ key, batch }], 60)).rejects.toThrow();
      expect(d.counters.failed).toBe(2);
      await own.start();
      const deadline = Date.now() + 8000;
      let written: boolean[] | undefined;
      while (written === undefined) {
        written = await d.notifyLinesOnce([{ key, batch }], 60).catch((err: unknown) => {
          if (Date.now() > deadline) throw err;
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 100));
        });
      }
      expect(written).toEqual([true]);
      expect(await d.notifyLinesOnce([{ key, batch }], 60)).toEqual([false]);
    } finally {
      await d.close();
      await own.close();
    }
  }, 30_000);
});
