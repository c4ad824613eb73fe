/**
 * redis:// against a real redis-server of this file's own (support/redis): Python's layout and
 * payloads, batching, the error index, legacy keys, listing, TTL, failures.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { configure, createDriver, flush, formatReportJson, MemoryDriver, notifierStats, pyDumps, shutdown } from '@osprofiler/core';
import type { Driver, Notification } from '@osprofiler/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../src/register'; // registers redis:// with core
import { RedisDriver } from '../src/index';
import { RedisFixture } from './support/redis';
import { RedisServer } from '../../../tools/testing/redis-server';
import { inTrace, threeLevels } from './support/trace';

const DB = 0;
const redis = new RedisFixture();
let driver: RedisDriver;

beforeAll(async () => {
  await redis.start();
  driver = (await createDriver(redis.url(), { project: 'p', service: 's', filterErrorTrace: true })) as RedisDriver;
});
afterEach(() => redis.cleanup());
afterAll(async () => {
  await driver.close();
  await redis.close();
});

function note(baseId: string, name: string, i: number, info: Record<string, unknown> = {}, traceId = `t-${i}`): Notification {
  return {
    name,
    base_id: baseId,
    trace_id: traceId,
    parent_id: baseId,
    timestamp: `2026-11-23T04:00:00.${String(100000 + i).padStart(6, '0')}`,
    info: { ...info, host: 'h' },
    project: 'p',
    service: 's',
  };
}

describe('redis:// write layout (wire spec §4)', () => {
  it('is registered with core by importing the package', async () => {
    expect(driver).toBeInstanceOf(RedisDriver);
    expect(driver.scheme).toBe('redis');
  });

  it('LPUSHes pyDumps(notification) onto osprofiler_opt:<base_id>, newest first', async () => {
    const b = redis.track(randomUUID());
    const batch = [note(b, 'a-start', 1, { é: 'ü', n: [1, 2.5, null] }), note(b, 'a-stop', 2)];
    await driver.notify(batch);
    const stored = await redis.client.lrange(`osprofiler_opt:${b}`, 0, -1);
    expect(stored).toEqual([pyDumps(batch[1]), pyDumps(batch[0])]);
    expect(stored[1]).toContain('"info": {"\\u00e9": "\\u00fc", "n": [1, 2.5, null], "host": "h"}, "project": "p", "service": "s"}');
    expect(await redis.client.type(`osprofiler_opt:${b}`)).toBe('list');
    expect(await redis.client.ttl(`osprofiler_opt:${b}`)).toBe(-1); // Python never expires
  });

  it('sends one LPUSH per trace per batch, all in one pipeline', async () => {
    const ids = [redis.track(randomUUID()), redis.track(randomUUID()), redis.track(randomUUID())];
    const batch = ids.flatMap((b) => Array.from({ length: 50 }, (_, i) => note(b, `p${i}-start`, i)));
    const monitor = await redis.client.duplicate().monitor();
    const lpushes: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], _source: string, database: string) => {
      if (Number(database) === DB && args[0].toLowerCase() === 'lpush' && ids.some((b) => args[1] === `osprofiler_opt:${b}`)) lpushes.push(args);
    });
    await driver.notify(batch);
    await new Promise((r) => setTimeout(r, 200));
    await monitor.disconnect();
    expect(lpushes.map((a) => [a[1], a.length - 2])).toEqual(ids.map((b) => [`osprofiler_opt:${b}`, 50]));
    for (const b of ids) expect(await redis.client.llen(`osprofiler_opt:${b}`)).toBe(50);
  });

  it('a trace whose points come in several runs of a batch gets one LPUSH, its points in batch order', async () => {
    const [a, b] = [redis.track(randomUUID()), redis.track(randomUUID())];
    const batch = [note(a, 'x-start', 0), note(b, 'y-start', 1), note(b, 'y-stop', 2), note(a, 'z-start', 3), note(b, 'w-start', 4), note(a, 'z-stop', 5)];
    const monitor = await redis.client.duplicate().monitor();
    const lpushes: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], _source: string, database: string) => {
      if (Number(database) === DB && args[0].toLowerCase() === 'lpush' && [a, b].some((x) => args[1] === `osprofiler_opt:${x}`)) lpushes.push(args);
    });
    await driver.notifyLines({ baseIds: batch.map((n) => n.base_id), timestamps: batch.map((n) => n.timestamp), lines: batch.map((n) => pyDumps(n)), errors: null });
    await new Promise((r) => setTimeout(r, 200));
    await monitor.disconnect();
    expect(lpushes).toEqual([
      ['LPUSH', `osprofiler_opt:${a}`, ...[0, 3, 5].map((i) => pyDumps(batch[i]))],
      ['LPUSH', `osprofiler_opt:${b}`, ...[1, 2, 4].map((i) => pyDumps(batch[i]))],
    ]);
  });

  it('stores a trace of 25,000 points handed over in one batch, in order', async () => {
    const b = redis.track(randomUUID());
    const batch = Array.from({ length: 25_000 }, (_, i) => note(b, `p${i}-start`, i % 900000));
    await driver.notify(batch);
    expect(await redis.client.llen(`osprofiler_opt:${b}`)).toBe(25_000);
    expect(await redis.client.lindex(`osprofiler_opt:${b}`, 0)).toBe(pyDumps(batch[24_999]));
    expect(await redis.client.lindex(`osprofiler_opt:${b}`, -1)).toBe(pyDumps(batch[0]));
  });

  it('SETs osprofiler_error:<base_id> for events whose info.etype is not null; the last error wins', async () => {
    const b = redis.track(randomUUID());
    const e1 = note(b, 'x-stop', 1, { etype: 'ValueError', message: 'm' });
    const e2 = note(b, 'y-stop', 2, { etype: 'TypeError', message: 'm' });
    await driver.notify([note(b, 'x-start', 0), e1, note(b, 'z-stop', 3, { etype: null }), e2]);
    expect(await redis.client.get(`osprofiler_error:${b}`)).toBe(pyDumps({ base_id: b, timestamp: e2.timestamp }));
    expect(await driver.listErrorTraces()).toContainEqual({ base_id: b, timestamp: e2.timestamp });

    const quiet = (await createDriver(redis.url(), { filterErrorTrace: false })) as RedisDriver;
    const b2 = redis.track(randomUUID());
    await quiet.notify([note(b2, 'x-stop', 1, { etype: 'ValueError' })]);
    expect(await redis.client.exists(`osprofiler_error:${b2}`)).toBe(0);
    await quiet.close();
  });

  it('notifyLines (the raw path) stores the same bytes and the same error index as notify', async () => {
    const b = redis.track(randomUUID());
    const other = redis.track(randomUUID());
    const batch = [note(b, 'x-start', 0), note(other, 'o-start', 1), note(b, 'x-stop', 2, { etype: 'ValueError', message: 'm' }), note(b, 'y-stop', 3)];
    await driver.notifyLines({
      baseIds: batch.map((n) => n.base_id),
      timestamps: batch.map((n) => n.timestamp),
      lines: batch.map((n) => pyDumps(n)),
      errors: Uint8Array.from(batch.map((n) => (n.info.etype != null ? 1 : 0))),
    });
    expect(await redis.client.lrange(`osprofiler_opt:${b}`, 0, -1)).toEqual([pyDumps(batch[3]), pyDumps(batch[2]), pyDumps(batch[0])]);
    expect(await redis.client.lrange(`osprofiler_opt:${other}`, 0, -1)).toEqual([pyDumps(batch[1])]);
    expect(await redis.client.get(`osprofiler_error:${b}`)).toBe(pyDumps({ base_id: b, timestamp: batch[2].timestamp }));
    expect(await redis.client.exists(`osprofiler_error:${other}`)).toBe(0);
    expect(await driver.listErrorTraces()).toContainEqual({ base_id: b, timestamp: batch[2].timestamp });
  });

  it('notifyLines with bytes stores them exactly, ASCII or not', async () => {
    const ascii = redis.track(randomUUID());
    const raw = redis.track(randomUUID());
    const asciiLines = [note(ascii, 'a-start', 0), note(ascii, 'a-stop', 1)].map((n) => Buffer.from(pyDumps(n)));
    // Not what core writes (ensure_ascii), but bytes from an agent's client are stored as they came.
    const rawLines = [note(raw, 'r-start', 2), note(raw, 'r-stop', 3)].map((n) => Buffer.from(pyDumps(n)));
    rawLines[0][rawLines[0].indexOf('r-start') + 1] = 0xe9; // a byte outside ASCII inside the name string
    for (const [baseId, buffers] of [[ascii, asciiLines], [raw, rawLines]] as const) {
      await driver.notifyLines({
        baseIds: buffers.map(() => baseId),
        timestamps: buffers.map(() => '2026-11-23T04:00:00.000001'),
        buffers,
        get lines() {
          return buffers.map((b) => b.toString('latin1'));
        },
        errors: null,
      });
      expect(await redis.client.lrangeBuffer(`osprofiler_opt:${baseId}`, 0, -1)).toEqual([...buffers].reverse());
    }
  });

  it('expires lists and error keys with ?ttl=', async () => {
    const ttlDriver = (await createDriver(redis.url('?ttl=7d'), { filterErrorTrace: true })) as RedisDriver;
    const b = redis.track(randomUUID());
    await ttlDriver.notify([note(b, 'x-stop', 1, { etype: 'E' })]);
    for (const key of [`osprofiler_opt:${b}`, `osprofiler_error:${b}`]) {
      const ttl = await redis.client.ttl(key);
      expect(ttl).toBeGreaterThan(7 * 86400 - 60);
      expect(ttl).toBeLessThanOrEqual(7 * 86400);
    }
    await ttlDriver.close();
  });

  it('notifyLines with bytes: every trace its list and TTL, ids of any length, a trace of 70 lines, a non-ASCII id', async () => {
    for (const url of [redis.url('?ttl=1d'), redis.url()]) {
      const d = (await createDriver(url, {})) as RedisDriver;
      // Ids of several lengths, a trace past the commands' usual argument counts, and one id
      // outside ASCII (the batch is then written command by command).
      const ids = [randomUUID(), 'short', randomUUID() + '-long', randomUUID()].map((b) => redis.track(b));
      const counts = [2, 1, 70, 3];
      for (const batchIds of [ids, [...ids, redis.track('caf\u00e9-' + randomUUID())]]) {
        const lines: { b: string; buf: Buffer }[] = [];
        batchIds.forEach((b, k) => {
          for (let i = 0; i < (counts[k] ?? 2); i++) lines.push({ b, buf: Buffer.from(pyDumps(note(b, `n${i}-start`, i))) });
        });
        await d.notifyLines({
          baseIds: lines.map((l) => l.b),
          timestamps: lines.map(() => '2026-11-23T04:00:00.000001'),
          buffers: lines.map((l) => l.buf),
          get lines() {
            return lines.map((l) => l.buf.toString('latin1'));
          },
          errors: null,
        });
        for (const b of batchIds) {
          const key = `osprofiler_opt:${b}`;
          expect(await redis.client.lrangeBuffer(key, 0, -1)).toEqual(lines.filter((l) => l.b === b).map((l) => l.buf).reverse());
          const ttl = await redis.client.ttl(key);
          if (url.includes('ttl')) expect(ttl).toBeGreaterThan(86400 - 60);
          else expect(ttl).toBe(-1);
          await redis.client.del(key);
        }
      }
      await d.close();
    }
  });
});

describe('redis:// reading', () => {
  it('builds the report from legacy keys (SCAN order) then the list (newest first), as Python', async () => {
    const b = redis.track(randomUUID());
    const legacy = note(b, 'old-start', 0, {}, 'old');
    redis.trackKey(`osprofiler:${b}_old_${legacy.timestamp}`);
    await redis.client.set(`osprofiler:${b}_old_${legacy.timestamp}`, pyDumps(legacy));
    const events = [note(b, 'old-stop', 5, {}, 'old'), note(b, 'new-start', 6, {}, 'new'), note(b, 'new-stop', 9, { etype: 'E' }, 'new')];
    await driver.notify(events);
    const memory = new MemoryDriver();
    memory.notify([legacy, ...events]);
    // Python's order: [legacy, newest…oldest]; the memory driver's: [newest…oldest].
    const report = await driver.getReport(b);
    expect(report.children.map((c) => c.info.name)).toEqual(['old', 'new']);
    expect(Object.keys(report.children[0].info)).toEqual([
      'name', 'project', 'service', 'host', 'meta.raw_payload.old-start', 'started', 'meta.raw_payload.old-stop', 'finished', 'exception',
    ]);
    expect(report.stats).toEqual((await memory.getReport(b)).stats);
  });

  it('an unknown trace gives the empty report', async () => {
    const report = await driver.getReport(randomUUID());
    expect(report).toEqual({ info: { name: 'total', started: 0, finished: null, last_trace_started: null }, children: [], stats: {} });
  });

  it('listTraces shows LINDEX 1 (the second-newest event) and skips one-event lists, newest first', async () => {
    const b1 = redis.track(randomUUID());
    const b2 = redis.track(randomUUID());
    const b3 = redis.track(randomUUID());
    await driver.notify([note(b1, 'a-start', 1), note(b1, 'a-stop', 2), note(b1, 'b-start', 3)]);
    await driver.notify([note(b2, 'a-start', 7), note(b2, 'a-stop', 8)]);
    await driver.notify([note(b3, 'a-start', 9)]);
    const listed = (await driver.listTraces()).filter((t) => [b1, b2, b3].includes(t.base_id));
    expect(listed).toEqual([
      { base_id: b2, timestamp: note(b2, '', 7).timestamp },
      { base_id: b1, timestamp: note(b1, '', 2).timestamp },
    ]);
    expect((await driver.listTraces({ limit: 1 })).length).toBe(1);
  });
});

describe('redis:// round trip through core (3-level trace)', () => {
  afterEach(() => shutdown());

  it('reads back the same report the memory driver builds from the same points', async () => {
    const memory = new MemoryDriver();
    const tee: Driver = {
      scheme: 'tee',
      async notify(batch) {
        memory.notify(batch);
        await driver.notify(batch);
      },
      getReport: (id) => driver.getReport(id),
      listTraces: (o) => driver.listTraces(o),
      listErrorTraces: (o) => driver.listErrorTraces(o),
      flush: (t) => driver.flush(t),
      close: async () => undefined,
    };
    configure({ driver: tee, project: 'shop', service: 'orders', hmacKeys: ['SECRET_KEY'], flushIntervalMs: 5 });
    const b = redis.track(await inTrace(threeLevels));
    await flush();
    const ours = await driver.getReport(b);
    expect(ours.children[0].info.name).toBe('wsgi');
    expect(ours.children[0].children[0].children[0].info.name).toBe('db');
    expect(formatReportJson(ours)).toBe(formatReportJson(await memory.getReport(b)));
  });

  it('configure({ connectionString: "redis://…" }) stores through this driver', async () => {
    configure({ connectionString: redis.url(), service: 'orders', flushIntervalMs: 5 });
    const b = redis.track(await inTrace(threeLevels));
    await flush();
    expect(await redis.client.llen(`osprofiler_opt:${b}`)).toBe(6);
  });
});

describe('redis:// failures', () => {
  it('start-up failure names the scheme and host, never the password', async () => {
    const port = await closedPort();
    const err = await createDriver(`redis://:s3cr%40t-pw@127.0.0.1:${port}/2`).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`redis:// storage at 127.0.0.1:${port}/2`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toMatch(/s3cr/);
    expect((err as { code?: string }).code).toBe('OSP_DRIVER_CONNECT');
  });

  it('rejects unknown options and bad durations at start-up', async () => {
    await expect(createDriver(redis.url('?tll=7d'))).rejects.toThrow(/unknown option "tll"/);
    await expect(createDriver(redis.url('?ttl=soon'))).rejects.toThrow(/ttl="soon" is not a duration/);
    await expect(createDriver(redis.url('?index=no'))).rejects.toThrow(/index="no" must be true or false/);
  });

  it('a server lost after start-up: writes fail, are counted by the driver and contained by core', async () => {
    const server = await RedisServer.start();
    try {
      configure({ connectionString: server.url(0, '?command_timeout=2s'), flushIntervalMs: 5 });
      await inTrace(threeLevels);
      await flush();
      expect(notifierStats()!.lost).toBe(0);
      await server.stop('SIGKILL');
      const before = notifierStats()!.lost;
      await expect(inTrace(threeLevels)).resolves.toMatch(/-/); // the traced code is unaffected
      await flush(8000);
      expect(notifierStats()!.lost).toBe(before + 6);
    } finally {
      await server.close();
      await shutdown(1000);
    }
  }, 30_000);
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
