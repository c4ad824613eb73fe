// The search index over NATS (schema 2): an app's points through agent → NATS → collector
// → redis:// give the same search results as an agent writing redis:// directly; a
// collector rule that renames keeps index and lines consistent; a forged index is
// dropped and counted (the lines are parsed), a consistent rewrite of it shows that the
// collector's store indexes from the carried index. Shared nats-server, this file's own
// streams, subjects, lease buckets and agents; own redis-server (one db per path).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { startAgent, UpstreamHeaders, partitionOf, pointsSubject } from '@osprofiler/agent';
import { startCollector, type CollectorHandle } from '@osprofiler/collector';
import { createDriver, type Driver, type Notification, type SearchOptions } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import '@osprofiler/drivers/register';
import { bodyLayout, encodeLineBatch, notificationText } from '../../agent/src/lines';
import { BATCH_BODY_OFFSET } from '../../agent/src/protocol';
import { RedisServer } from '../../../tools/testing/redis-server';
import { SHARED_NATS, dropJetStream, freePort, testNames, waitFor } from './support/nats';
import { tempDir } from '../../agent/test/support/procs';

const P = 4;
const TRACES = 24;
let redis: RedisServer;
let nc: NatsConnection;
let js: JetStreamClient;
const dir = tempDir('lineidx-nats');
const streams: string[] = [];
const collectors: CollectorHandle[] = [];
const agents: Awaited<ReturnType<typeof startAgent>>[] = [];
const readers: Driver[] = [];

// Random ids: ids that differ in a few digits only can all land in one partition.
const bases = Array.from({ length: TRACES }, () => randomUUID());
function baseOf(t: number): string {
  return bases[t];
}

/** Traces of 6 points: routes, SQL, errors, non-ASCII text, two services, hosts that differ. */
function dataset(): Notification[][] {
  const batches: Notification[][] = [];
  for (let t = 0; t < TRACES; t++) {
    const base = baseOf(t);
    const ts = (k: number): string => `2026-12-04T11:${String(t).padStart(2, '0')}:0${k}.${String(t * 7 + k).padStart(6, '0')}`;
    const point = (name: string, k: number, parent: string, info: Record<string, unknown>): Notification => ({
      name,
      base_id: base,
      trace_id: `${base}-${k}`,
      parent_id: parent,
      timestamp: ts(k),
      info: { ...info, host: t % 3 === 0 ? 'node-ß' : 'node-a' },
      project: 'shop',
      service: t % 2 === 0 ? 'api' : 'wörker',
    });
    const req = { request: { method: t % 2 ? 'POST' : 'GET', path: `/items/${t}` } };
    batches.push([
      point('wsgi-start', 0, base, req),
      point('db-start', 1, `${base}-0`, { db: { statement: `SELECT * FROM items WHERE id = ${t} — ☕` } }),
      point('db-stop', 2, `${base}-0`, t % 5 === 0 ? { etype: 'IntegrityError', message: `dup ${t}` } : {}),
      point('rpc-start', 3, `${base}-0`, { function: { name: `svc.call_${t % 3}` } }),
      point('rpc-stop', 4, `${base}-0`, {}),
      point('wsgi-stop', 5, base, { request: { ...req.request, route: '/items/:id' } }),
    ]);
  }
  return batches;
}

async function collector(tag: string, db: number, extra: Record<string, unknown> = {}): Promise<ReturnType<typeof testNames>> {
  const names = testNames(tag);
  streams.push(names.stream);
  const c = await startCollector({ nats: SHARED_NATS, backend: redis.url(db), stream: names.stream, subjectPrefix: names.prefix, partitions: P, leaseRenewMs: 300, leaseTtlMs: 2000, ...extra });
  collectors.push(c);
  await waitFor('leases', () => c.partitions().length === P, 10_000);
  return names;
}

/** The app side: an agent:// client writing the dataset to an agent. */
async function appWrites(socket: string, data: Notification[][]): Promise<void> {
  const client = await createDriver(`agent://${socket}?exit_hooks=0`);
  for (const b of data) await client.notify(b);
  await client.flush(20_000);
  await client.close();
}

/** One schema-2 message per partition, built as an agent would, then `forge`d. */
async function publishForged(prefix: string, data: Notification[][], forge: (body: Buffer) => void): Promise<void> {
  const byPart = new Map<number, Notification[]>();
  for (const b of data) {
    const p = partitionOf(b[0].base_id, P);
    byPart.set(p, [...(byPart.get(p) ?? []), ...b]);
  }
  for (const [p, ns] of byPart) {
    const l = linesOfNotifications(ns, notificationText);
    const errors: number[] = [];
    l.errors?.forEach((e, i) => e === 1 && errors.push(i));
    const { frame } = encodeLineBatch(Buffer.alloc(16), 1, [{ text: l.lines.join('\n') + '\n', count: l.lines.length, errors, index: l.index, from: 0 }], true);
    const body = Buffer.from(frame.subarray(BATCH_BODY_OFFSET));
    expect(body[0]).toBe(0x49);
    forge(body);
    const h = headers();
    h.set(UpstreamHeaders.SCHEMA, '2');
    h.set(UpstreamHeaders.AGENT, 'test');
    h.set(UpstreamHeaders.POINTS, String(ns.length));
    await js.publish(pointsSubject(prefix, 'shop', p), body, { headers: h, msgID: `forged-${prefix}-${p}` });
  }
}

async function count(db: number, n: number): Promise<void> {
  // (search counts start events: 3 a trace)
  await waitFor(`${n} points in db ${db}`, async () => (await readers[db].searchTraces!({ limit: 1000 })).traces.reduce((a, s) => a + (s.points ?? 0), 0) === n, 20_000);
}

beforeAll(async () => {
  redis = new RedisServer({ port: await freePort() });
  await redis.start();
  nc = await connect({ servers: '127.0.0.1:4222' });
  js = jetstream(nc);
  for (let db = 0; db <= 5; db++) readers.push(await createDriver(redis.url(db)));
  const data = dataset();
  // db 1: app → agent → NATS → collector.
  const a = await collector('lix1', 1);
  agents.push(await startAgent({ socketPath: join(dir, 'a1.sock'), upstream: SHARED_NATS, subjectPrefix: a.prefix, partitions: P, clientIndex: true }));
  // db 2: app → agent → redis directly (the reference).
  agents.push(await startAgent({ socketPath: join(dir, 'a2.sock'), backend: redis.url(2), clientIndex: true }));
  // db 3: app → agent → NATS → collector renaming service api → gateway.
  const c = await collector('lix3', 3, { rules: { rename: { service: { api: 'gateway' } } } });
  agents.push(await startAgent({ socketPath: join(dir, 'a3.sock'), upstream: SHARED_NATS, subjectPrefix: c.prefix, partitions: P, clientIndex: true }));
  await appWrites(join(dir, 'a1.sock'), data);
  await appWrites(join(dir, 'a2.sock'), data);
  await appWrites(join(dir, 'a3.sock'), data);
  // db 4: forged index (a ref past the string table) in every message.
  const d = await collector('lix4', 4);
  await publishForged(d.prefix, data, (body) => body.writeUInt32BE(0x7fffffff, bodyLayout(body)!.textStart - 29 + 1));
  // db 5: a well-formed index saying service "xyz" where the lines say "api".
  const e = await collector('lix5', 5);
  await publishForged(e.prefix, data, (body) => {
    const l = bodyLayout(body)!;
    const at = body.indexOf('\u0000\u0000\u0000\u0003api', l.indexStart, 'latin1');
    if (at >= 0 && at < l.textStart) body.write('xyz', at + 4, 'latin1');
  });
  for (const db of [1, 2, 3, 4, 5]) await count(db, TRACES * 3);
}, 90_000);

afterAll(async () => {
  for (const r of readers) await r.close();
  for (const a of agents) await a.stop();
  for (const c of collectors) await c.stop();
  await nc?.close();
  for (const s of streams) await dropJetStream(SHARED_NATS, s);
  await redis?.stop();
});

describe('LineIndex over NATS (schema 2)', () => {
  it('the agent received and published the index; the collectors counted the forged ones', () => {
    expect(agents[0].metrics.indexedPoints).toBe(TRACES * 6);
    expect(agents[0].metricsText()).toMatch(/osprofiler_agent_bad_index_batches_total 0/);
    expect(collectors[0].metrics.badIndexes).toBe(0);
    const parts = new Set(bases.map((b) => partitionOf(b, P))).size;
    expect(parts).toBeGreaterThan(1);
    expect(collectors[2].metrics.badIndexes).toBe(parts);
    expect(collectors[3].metrics.badIndexes).toBe(0);
  });

  const queries: SearchOptions[] = [
    {},
    { limit: 5 },
    { service: 'wörker' },
    { host: 'node-ß' },
    { root: 'wsgi' },
    { text: 'select * from items where id = 12' },
    { text: 'post /items/:id' },
    { errorsOnly: true },
  ];
  for (const q of queries) {
    it(`search ${JSON.stringify(q)}: collector (index carried), forged index (parsed) and direct agent agree`, async () => {
      const direct = await readers[2].searchTraces!(q);
      expect(direct.traces.length).toBeGreaterThan(0);
      expect(await readers[1].searchTraces!(q)).toEqual(direct);
      expect(await readers[4].searchTraces!(q)).toEqual(direct);
    });
  }

  it('a renaming rule: index and lines agree on the new name', async () => {
    const renamed = await readers[3].searchTraces!({ service: 'gateway' });
    expect(renamed.traces.length).toBe(TRACES / 2);
    expect(renamed.traces.every((t) => (t.services ?? []).includes('gateway') && !(t.services ?? []).includes('api'))).toBe(true);
    expect((await readers[3].searchTraces!({ service: 'api' })).traces).toEqual([]);
    const report = JSON.stringify(await readers[3].getReport(baseOf(0)));
    expect(report).toContain('gateway');
    expect(report).not.toContain('"api"');
  });

  it('the collector indexes from the carried index (a consistent rewrite shows in search only)', async () => {
    expect((await readers[5].searchTraces!({ service: 'xyz' })).traces.length).toBe(TRACES / 2);
    expect((await readers[5].searchTraces!({ service: 'api' })).traces).toEqual([]);
    expect(JSON.stringify(await readers[5].getReport(baseOf(0)))).not.toContain('xyz');
  });
});
