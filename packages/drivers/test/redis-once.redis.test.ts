// notifyLinesOnce (the collector's idempotent write): a batch and its duplicate marker in
// one Lua script — a batch written again under the same key stores nothing; other keys
// write; the error index comes with the batch. Real Redis, a redis-server of this file's own.
import { randomUUID } from 'node:crypto';
import { createDriver } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import type { RedisDriver } from '../src/index';
import { RedisFixture } from './support/redis';

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
