// The collector writing to the real PostgreSQL (tables of this file's own prefix): a
// message delivered again under another message id (outside JetStream's duplicate window)
// is stored once — the SQL driver upserts on (trace_id, name) — and the report is whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createDriver } from '@osprofiler/core';
import '@osprofiler/drivers';
import { startCollector, type CollectorHandle } from '@osprofiler/collector';
import { SHARED_NATS, dropJetStream, testNames, waitFor } from './support/nats';
import { baseIn, body, lines, point, publish } from './support/messages';

const P = 2;
const names = testNames('pg');
const prefix = `osp_coll_${randomBytes(3).toString('hex')}_`;
const PG = `postgresql://postgres@127.0.0.1:5432/test?table_prefix=${prefix}`;
let nc: NatsConnection;
let c: CollectorHandle | undefined;

beforeAll(async () => {
  nc = await connect({ servers: '127.0.0.1:4222' });
});

afterAll(async () => {
  await c?.stop();
  await nc?.close();
  await dropJetStream(SHARED_NATS, names.stream);
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  await client.connect();
  for (const t of ['osprofiler_points', 'osprofiler_errors']) await client.query(`DROP TABLE IF EXISTS ${prefix}${t}`);
  await client.end();
});

describe('collector → postgresql://', () => {
  it('stores a message delivered twice (two message ids) once', async () => {
    c = await startCollector({ nats: SHARED_NATS, backend: PG, stream: names.stream, subjectPrefix: names.prefix, partitions: P, leaseRenewMs: 300, leaseTtlMs: 2000 });
    await waitFor('leases', () => c!.partitions().length === P, 10_000);
    const js = jetstream(nc);
    const base = baseIn(1, P);
    const w = { trace_id: randomUUID(), parent_id: base };
    const db = { trace_id: randomUUID(), parent_id: w.trace_id };
    const ns = [
      point(base, 'wsgi-start', w, '2026-12-03T10:00:00.000000'),
      point(base, 'db-start', db, '2026-12-03T10:00:00.100000'),
      point(base, 'db-stop', db, '2026-12-03T10:00:00.200000'),
      point(base, 'wsgi-stop', w, '2026-12-03T10:00:00.300000'),
    ];
    const data = body(lines(ns));
    await publish(js, names.prefix, 1, data, { points: 4, msgId: 'agent-a:1' });
    await publish(js, names.prefix, 1, data, { points: 4, msgId: 'agent-a:1-resent-later' });
    await waitFor('both messages handled', () => c!.metrics.acks === 2, 15_000);
    const d = await createDriver(PG);
    try {
      const report = (await d.getReport(base)) as { children: { info: { name: string }; children: unknown[] }[] };
      expect(report.children.map((x) => x.info.name)).toEqual(['wsgi']);
      expect(report.children[0].children).toHaveLength(1);
    } finally {
      await d.close();
    }
    const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
    await client.connect();
    const rows = await client.query(`SELECT count(*)::int AS n FROM ${prefix}osprofiler_points WHERE base_id = $1`, [base]);
    await client.end();
    expect(rows.rows[0].n).toBe(4); // each notification once (unique on trace_id, name)
  }, 60_000);
});
