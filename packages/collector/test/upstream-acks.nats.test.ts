// The agent's upstream reads JetStream's answers on one subscription a connection
// (packages/agent/src/upstream/acks.ts), not through nats.js's per-request machinery: each
// kind of answer must still come through as js.publish gave it. On a nats-server of the
// test's own: acks, duplicates (the same record key sent again), a full stream refusing
// (discard new), no stream on the subject (no responders), and no answer at all (a plain
// subscriber on the subject: the write's one timer fails it). A write that failed leaves
// the upstream working for the next one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Notification } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import { Upstream, notificationText } from '@osprofiler/agent';
import { encodeLineBatch } from '../../agent/src/lines';
import { BATCH_BODY_OFFSET } from '../../agent/src/protocol';
import { OwnNats } from './support/nats';
let nats: OwnNats;

beforeAll(async () => {
  nats = await OwnNats.create();
  await nats.start();
});

afterAll(async () => {
  await nats?.stop();
});

/** A client batch body of `n` points over 6 traces (several partitions). */
function record(n: number, key: string): { count: number; body: Buffer; key: string } {
  const ns: Notification[] = [];
  for (let i = 0; i < n; i++) {
    ns.push({ name: `p-${i % 2 ? 'stop' : 'start'}`, base_id: `trace-${key}-${i % 6}`, trace_id: `t-${i}`, parent_id: `trace-${key}-${i % 6}`, timestamp: `2026-12-05T12:00:00.${String(i).padStart(6, '0')}`, info: { host: 'h', pad: 'x'.repeat(60) }, project: null, service: 's' });
  }
  const l = linesOfNotifications(ns, notificationText);
  const { frame } = encodeLineBatch(Buffer.alloc(16), 1, [{ text: l.lines.join('\n') + '\n', count: n, errors: null }]);
  return { count: n, body: Buffer.from(frame.subarray(BATCH_BODY_OFFSET)), key };
}

describe('upstream acknowledgements', () => {
  it('acks, duplicates, a full stream, no stream, no answer', async () => {
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const up = (prefix: string, publishTimeoutMs = 5_000): Upstream => new Upstream({ url: nats.url, subjectPrefix: prefix, partitions: 4, agentId: 'acks', publishTimeoutMs });
    const ups: Upstream[] = [];
    try {
      // Acks and duplicates.
      await jsm.streams.add({ name: 'ACKS_OK', subjects: ['ok.>'], duplicate_window: 60_000_000_000 });
      const ok = up('ok');
      ups.push(ok);
      expect(await ok.writeRecords([record(40, 'a')])).toBe(0);
      expect(ok.published).toBe(40);
      const parts = (await jsm.streams.info('ACKS_OK')).state.messages;
      expect(parts).toBeGreaterThan(1);
      expect(await ok.writeRecords([record(40, 'a')])).toBe(0); // sent again: same ids
      expect(ok.duplicates).toBe(parts);
      expect(ok.published).toBe(40);
      expect((await jsm.streams.info('ACKS_OK')).state.messages).toBe(parts);

      // A full stream refuses (discard new): the write fails naming JetStream's reason.
      await jsm.streams.add({ name: 'ACKS_FULL', subjects: ['full.>'], max_bytes: 1_000, discard: 'new' as never });
      const full = up('full');
      ups.push(full);
      await expect(full.writeRecords([record(400, 'b')])).rejects.toThrow(/not acknowledged \(.*maximum bytes/i);

      // No stream takes the subject: no responders.
      const none = up('nostream');
      ups.push(none);
      await expect(none.writeRecords([record(10, 'c')])).rejects.toThrow(/not acknowledged \(no responders/);

      // A plain subscriber takes the messages and never answers: the write times out...
      const sub = nc.subscribe('silent.>');
      const silent = up('silent', 300);
      ups.push(silent);
      const t0 = Date.now();
      await expect(silent.writeRecords([record(10, 'd')])).rejects.toThrow(/not acknowledged \(timeout\)/);
      expect(Date.now() - t0).toBeLessThan(3_000);
      sub.unsubscribe();
      // ...and once a stream takes the subject, the same upstream writes again.
      await jsm.streams.add({ name: 'ACKS_SILENT', subjects: ['silent.>'] });
      expect(await silent.writeRecords([record(10, 'd')])).toBe(0);
      expect(silent.published).toBe(10);
    } finally {
      for (const u of ups) await u.close();
      await nc.close();
    }
  });
});
