// Poison messages on one partition go to the dead-letter subject with their reason while
// the partition keeps flowing; the rules file redacts, drops and renames; whole-trace
// keep rules keep traces with an error or slower than the threshold and drop the rest.
// Shared nats-server, this file's own streams, subjects and lease buckets; own redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { deflateRawSync } from 'node:zlib';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { startCollector, type CollectorHandle } from '@osprofiler/collector';
import { RedisServer } from '../../../tools/testing/redis-server';
import { SHARED_NATS, dropJetStream, freePort, testNames, waitFor } from './support/nats';
import { baseIn, body, lines, point, publish } from './support/messages';

const P = 4;
let redis: RedisServer;
let nc: NatsConnection;
let js: JetStreamClient;
let r: Redis;
const streams: string[] = [];

beforeAll(async () => {
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
  nc = await connect({ servers: '127.0.0.1:4222' });
  js = jetstream(nc);
  r = new Redis({ host: '127.0.0.1', port: redis.port });
});

afterAll(async () => {
  r?.disconnect();
  await nc?.close();
  for (const s of streams) await dropJetStream(SHARED_NATS, s);
  await redis?.stop();
});

async function stored(db: number, baseId: string): Promise<Record<string, any>[]> {
  const c = new Redis({ host: '127.0.0.1', port: redis.port, db });
  try {
    return (await c.lrange(`osprofiler_opt:${baseId}`, 0, -1)).map((t) => JSON.parse(t));
  } finally {
    c.disconnect();
  }
}

async function collector(tag: string, db: number, extra: Record<string, unknown> = {}): Promise<{ c: CollectorHandle; names: ReturnType<typeof testNames> }> {
  const names = testNames(tag);
  streams.push(names.stream);
  const c = await startCollector({ nats: SHARED_NATS, backend: `${redis.url(db)}`, stream: names.stream, subjectPrefix: names.prefix, partitions: P, leaseRenewMs: 300, leaseTtlMs: 2000, ...extra });
  await waitFor('leases', () => c.partitions().length === P, 10_000);
  return { c, names };
}

async function deadLetters(stream: string): Promise<{ subject: string; reason: string; body: any }[]> {
  const consumer = await js.consumers.get(`${stream}_DEADLETTER`);
  const out: { subject: string; reason: string; body: any }[] = [];
  const info = await (await import('@nats-io/jetstream')).jetstreamManager(nc).then((m) => m.streams.info(`${stream}_DEADLETTER`));
  const n = info.state.messages;
  if (n === 0) return out;
  const it = await consumer.fetch({ max_messages: n, expires: 2000 });
  for await (const m of it) {
    out.push({ subject: m.subject, reason: m.headers?.get('Osprofiler-Reason') ?? '', body: m.json() });
    if (out.length === n) break;
  }
  return out;
}

describe('dead letters', () => {
  it('poison messages go to dead-letter with their reason; the partition keeps flowing', async () => {
    const { c, names } = await collector('dlq', 1);
    try {
      const part = 2;
      const good1 = baseIn(part, P);
      const good2 = baseIn(part, P);
      const mixed = baseIn(part, P);
      const other = baseIn((part + 1) % P, P);
      await publish(js, names.prefix, part, body(lines([point(good1, 'wsgi-start'), point(good1, 'wsgi-stop')])), { points: 2 });
      // Unknown schema version, a body that is not the line format, a wrong count.
      await publish(js, names.prefix, part, body(lines([point(good1, 'x-start')])), { points: 1, schema: '9' });
      await publish(js, names.prefix, part, Buffer.from('garbage, not lines'), { points: 1 });
      await publish(js, names.prefix, part, body(lines([point(good1, 'y-start')])), { points: 5 });
      // Good points with bad ones among them: a bad timestamp, a point of another partition.
      const bad = lines([point(mixed, 'db-start'), point(mixed, 'db-stop', {}, 'yesterday'), point(other, 'db-start'), point(mixed, 'wsgi-stop')]);
      await publish(js, names.prefix, part, body(bad), { points: 4 });
      await publish(js, names.prefix, part, body(lines([point(good2, 'wsgi-start'), point(good2, 'wsgi-stop')])), { points: 2 });
      await waitFor('good points stored', async () => (await stored(1, good2)).length === 2 && (await stored(1, mixed)).length === 2, 15_000);
      expect((await stored(1, good1)).map((n) => n.name).sort()).toEqual(['wsgi-start', 'wsgi-stop']);
      expect((await stored(1, mixed)).map((n) => n.name).sort()).toEqual(['db-start', 'wsgi-stop']);
      expect(await stored(1, other)).toEqual([]);
      let dl: Awaited<ReturnType<typeof deadLetters>> = [];
      await waitFor('dead letters', async () => (dl = await deadLetters(names.stream)).length === 4, 10_000);
      const reasons = dl.map((d) => d.reason);
      expect(reasons.some((x) => /^schema: schema version "9"/.test(x))).toBe(true);
      expect(reasons.filter((x) => /^body: /.test(x))).toHaveLength(2);
      const pointDl = dl.find((d) => d.body.reason === 'point');
      expect(pointDl?.body.points.map((p: { reason: string }) => p.reason)).toEqual([
        expect.stringMatching(/timestamp "yesterday"/),
        expect.stringMatching(/belongs to partition \d, not 2/),
      ]);
      expect(dl.every((d) => d.subject === `${names.prefix}.deadletter.${part}`)).toBe(true);
      expect(c.metrics.deadLetters).toMatchObject({ schema: 1, body: 2, point: 2 });
      expect(c.metricsText()).toMatch(/osprofiler_collector_dead_letters_total\{reason="body"\} 2/);
    } finally {
      await c.stop();
    }
  }, 60_000);
});

describe('schema 3 (DEFLATE bodies)', () => {
  it('are inflated and written; one that does not inflate, or inflates past maxInflatedBytes, goes to dead-letter (body)', async () => {
    const { c, names } = await collector('deflate', 7, { maxInflatedBytes: 64 * 1024 });
    try {
      const part = 1;
      const indexed = baseIn(part, P);
      const plain = baseIn(part, P);
      await publish(js, names.prefix, part, deflateRawSync(body(lines([point(indexed, 'wsgi-start'), point(indexed, 'wsgi-stop')]))), { points: 2, schema: '3' });
      // Not DEFLATE at all; a valid stream of 100 KiB (a bomb against the 64 KiB bound).
      await publish(js, names.prefix, part, Buffer.from('not deflate'), { points: 1, schema: '3' });
      await publish(js, names.prefix, part, deflateRawSync(Buffer.concat([body(lines([point(plain, 'x-start')])), Buffer.alloc(100 * 1024, 0x20)])), { points: 1, schema: '3' });
      // The partition keeps flowing after them.
      await publish(js, names.prefix, part, deflateRawSync(body(lines([point(plain, 'wsgi-start')]))), { points: 1, schema: '3' });
      await waitFor('points stored', async () => (await stored(7, plain)).length === 1, 15_000);
      expect((await stored(7, indexed)).map((n) => n.name).sort()).toEqual(['wsgi-start', 'wsgi-stop']);
      let dl: Awaited<ReturnType<typeof deadLetters>> = [];
      await waitFor('dead letters', async () => (dl = await deadLetters(names.stream)).length === 2, 10_000);
      expect(dl.map((d) => d.reason)).toEqual([expect.stringMatching(/^body: schema 3 body does not inflate/), expect.stringMatching(/^body: schema 3 body does not inflate .*65536 bytes/)]);
      // The dead letter keeps the body as it came (compressed) and says which schema it was.
      expect(dl.map((d) => d.body.schema)).toEqual(['3', '3']);
      expect(Buffer.from(dl[0].body.body, 'base64').toString()).toBe('not deflate');
      expect(c.metrics.deadLetters).toMatchObject({ body: 2 });
      expect(c.metrics.written).toBe(3);
    } finally {
      await c.stop();
    }
  }, 60_000);
});

describe('a batch the store keeps refusing', () => {
  it('goes to dead-letter (reason write) after maxDeliver tries while the rest of its partition is written', async () => {
    const { c, names } = await collector('poison', 5, { maxDeliver: 2, retryMinMs: 50 });
    try {
      const part = 3;
      const poison = baseIn(part, P);
      const good = baseIn(part, P);
      const after = baseIn(part, P);
      // The trace's list key holds a string: every write of this trace fails (WRONGTYPE).
      const db5 = new Redis({ host: '127.0.0.1', port: redis.port, db: 5 });
      await db5.set(`osprofiler_opt:${poison}`, 'not a list');
      await publish(js, names.prefix, part, body(lines([point(poison, 'wsgi-start'), point(poison, 'wsgi-stop')])), { points: 2 });
      await publish(js, names.prefix, part, body(lines([point(good, 'wsgi-start'), point(good, 'wsgi-stop')])), { points: 2 });
      await waitFor('dead-lettered', () => c.metrics.deadLetters.write === 1, 20_000);
      await publish(js, names.prefix, part, body(lines([point(after, 'wsgi-start')])), { points: 1 });
      await waitFor('later message written', async () => (await stored(5, after)).length === 1, 10_000);
      expect((await stored(5, good)).length).toBe(2);
      // The refused batch left nothing behind: no marker was set without its points.
      expect(await db5.get(`osprofiler_opt:${poison}`)).toBe('not a list');
      db5.disconnect();
      const dl = (await deadLetters(names.stream)).filter((d) => d.body.reason === 'write');
      expect(dl).toHaveLength(1);
      expect(dl[0].reason).toMatch(/^write: store refused the batch 2 times while writing others: .*WRONGTYPE/);
      expect(Buffer.from(dl[0].body.body, 'base64').toString()).toContain(poison);
    } finally {
      await c.stop();
    }
  }, 60_000);
});

describe('rules', () => {
  it('redacts info keys by pattern, drops kinds, renames service and project', async () => {
    const { c, names } = await collector('rules', 2, {
      rules: { redact: { keys: ['^pass', 'token$'] }, drop: { kinds: ['db'] }, rename: { service: { app: 'frontend' }, project: { shop: 'store' } } },
    });
    try {
      const base = baseIn(1, P);
      const ns = [
        point(base, 'wsgi-start', { info: { request: { path: '/x', headers: { 'x-auth-token': 'secret1' } }, password: 'secret2' } }),
        point(base, 'db-start', { info: { db: { statement: 'SELECT 1' } } }),
        point(base, 'db-stop'),
        point(base, 'wsgi-stop', { service: 'other' }),
      ];
      await publish(js, names.prefix, 1, body(lines(ns)), { points: 4 });
      await waitFor('stored', async () => (await stored(2, base)).length === 2, 15_000);
      const got = await stored(2, base);
      const start = got.find((n) => n.name === 'wsgi-start')!;
      expect(start.info.password).toBe('***');
      expect(start.info.request.headers['x-auth-token']).toBe('***');
      expect(start.info.request.path).toBe('/x');
      expect(start.service).toBe('frontend');
      expect(start.project).toBe('store');
      expect(got.find((n) => n.name === 'wsgi-stop')!.service).toBe('other');
      expect(JSON.stringify(got)).not.toMatch(/secret/);
      expect(c.metrics.ruleDropped).toBe(2);
    } finally {
      await c.stop();
    }
  }, 60_000);

  it('a bad rules file fails at start-up, naming the problem', async () => {
    await expect(startCollector({ nats: SHARED_NATS, backend: redis.url(), rules: { drop: { kinds: 'db' } } as never })).rejects.toThrow(/drop\.kinds must be an array/);
    await expect(startCollector({ nats: SHARED_NATS, backend: redis.url(), rules: '/nonexistent/rules.json' })).rejects.toThrow(/cannot read \/nonexistent\/rules.json/);
  });
});

describe('whole-trace keep rules', () => {
  it('keeps traces with an error or slower than the threshold, after a bounded wait; drops the rest', async () => {
    const { c, names } = await collector('keep', 3, { rules: { keep: { errors: true, slowerThanMs: 1000, waitMs: 400, maxPoints: 10_000 } } });
    try {
      const part = 0;
      const failed = baseIn(part, P);
      const slow = baseIn(part, P);
      const fast = baseIn(part, P);
      // One trace's points split over two messages: the decision waits for the trace, not the message.
      await publish(js, names.prefix, part, body([...lines([point(failed, 'wsgi-start'), point(fast, 'wsgi-start'), point(slow, 'wsgi-start', {}, '2026-12-03T10:00:00.000000')])]), { points: 3 });
      await publish(js, names.prefix, part, body(lines([point(failed, 'wsgi-stop', { info: { etype: 'ValueError', message: 'boom' } }), point(fast, 'wsgi-stop'), point(slow, 'wsgi-stop', {}, '2026-12-03T10:00:02.500000')]), [0]), { points: 3 });
      await waitFor('decided', () => c.metrics.tracesKept + c.metrics.tracesDropped === 3, 10_000);
      expect((await stored(3, failed)).length).toBe(2);
      expect((await stored(3, slow)).length).toBe(2);
      expect(await stored(3, fast)).toEqual([]);
      expect(c.metrics).toMatchObject({ tracesKept: 2, tracesDropped: 1, keepDroppedPoints: 2 });
      expect(c.metrics.acks).toBe(2);
    } finally {
      await c.stop();
    }
  }, 60_000);

  it('holds at most maxPoints: beyond it the traces idle longest are decided at once', async () => {
    const { c, names } = await collector('keepmem', 6, { rules: { keep: { errors: true, waitMs: 60_000, maxPoints: 4 } } });
    const part = 1;
    const failed = baseIn(part, P);
    const fast1 = baseIn(part, P);
    const fast2 = baseIn(part, P);
    try {
      await publish(js, names.prefix, part, body(lines([point(failed, 'wsgi-start'), point(failed, 'wsgi-stop', { info: { etype: 'E' } })]), [1]), { points: 2 });
      await publish(js, names.prefix, part, body(lines([point(fast1, 'wsgi-start'), point(fast1, 'wsgi-stop')])), { points: 2 });
      await publish(js, names.prefix, part, body(lines([point(fast2, 'wsgi-start'), point(fast2, 'wsgi-stop')])), { points: 2 });
      // 6 points > 4: the oldest trace (the failed one) is decided long before its 60 s wait.
      await waitFor('forced decision', () => c.metrics.keepForced >= 1, 10_000);
      await waitFor('kept trace written', async () => (await stored(6, failed)).length === 2, 10_000);
      // The held count falls once the forced decision's write has settled (asynchronous under load).
      await waitFor('held points within the bound', () => /^osprofiler_collector_held_points [0-4]$/m.test(c.metricsText()), 10_000);
      expect(await stored(6, fast2)).toEqual([]);
    } finally {
      await c.stop();
    }
    // stop() decides what was held: the fast traces are dropped, not written.
    expect(await stored(6, fast1)).toEqual([]);
    expect(await stored(6, fast2)).toEqual([]);
    expect(c.metrics.tracesDropped).toBe(2);
    expect(c.metrics.tracesKept).toBe(1);
  }, 60_000);
});
