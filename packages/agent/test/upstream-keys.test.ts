// Upstream message ids (PROTOCOL.md §Upstream, Nats-Msg-Id): `<agent id>:<record key>.<part>`,
// the key kept with the record in the spool, so a record replayed by the next agent
// process is published with the same ids (JetStream's duplicate window and the
// collector's write-once marker then drop what was stored before). Spool files of the
// previous format (no key) still replay, with the MD5 ids that agent would have sent.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Notification } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import { encodeLineBatch, notificationText } from '../src/lines';
import { BATCH_BODY_OFFSET } from '../src/protocol';
import { Spool } from '../src/agent/spool';
import { encodeBody, splitBatch, upstreamCompression } from '../src/upstream/publisher';
import { tempDir } from './support/procs';

const O = { subjectPrefix: 'osp', partitions: 4, agentId: 'node-1' };

function record(n: number, withIndex: boolean): { count: number; body: Buffer } {
  const ns: Notification[] = [];
  for (let i = 0; i < n; i++) {
    ns.push({ name: `p-${i % 2 ? 'stop' : 'start'}`, base_id: `trace-${i % 7}`, trace_id: `t-${i}`, parent_id: `trace-${i % 7}`, timestamp: `2026-12-04T12:00:00.${String(i).padStart(6, '0')}`, info: { host: 'h' }, project: i % 3 ? 'a' : 'b', service: 's' });
  }
  const l = linesOfNotifications(ns, notificationText);
  const { frame } = encodeLineBatch(Buffer.alloc(16), 1, [{ text: l.lines.join('\n') + '\n', count: n, errors: null, index: l.index, from: 0 }], withIndex);
  return { count: n, body: Buffer.from(frame.subarray(BATCH_BODY_OFFSET)) };
}

describe('upstream message ids', () => {
  it('are <agent id>:<key>.<part>, the same for the same record, and carry the index (schema 2)', () => {
    const r = record(40, true);
    const a = splitBatch(r.body, r.count, O, 'mk3x9-17')!;
    const b = splitBatch(r.body, r.count, O, 'mk3x9-17')!;
    expect(a.length).toBeGreaterThan(2);
    expect(a.map((m) => m.id)).toEqual(a.map((_, i) => `node-1:mk3x9-17.${i}`));
    expect(b.map((m) => [m.id, m.subject, m.body.toString('hex')])).toEqual(a.map((m) => [m.id, m.subject, m.body.toString('hex')]));
    expect(a.every((m) => m.indexed && m.body[0] === 0x49)).toBe(true);
    const plain = splitBatch(record(40, false).body, 40, O, 'k')!;
    expect(plain.every((m) => !m.indexed && m.body[0] === 0x4c)).toBe(true);
  });

  it('bodies of 1 KiB and more go DEFLATE-compressed (schema 3) unless the URL says compression=none', () => {
    const [big] = splitBatch(record(40, true).body, 40, { ...O, partitions: 1 }, 'k')!;
    expect(big.body.length).toBeGreaterThan(1024);
    const z = encodeBody(big, 'deflate');
    expect(z.schema).toBe('3');
    expect(z.body.length).toBeLessThan(big.body.length / 3);
    expect(inflateRawSync(z.body).equals(big.body)).toBe(true);
    expect(encodeBody(big, 'none')).toEqual({ body: big.body, schema: '2' });
    const [small] = splitBatch(record(2, false).body, 2, { ...O, partitions: 1 }, 'k')!;
    expect(small.body.length).toBeLessThan(1024);
    expect(encodeBody(small, 'deflate')).toEqual({ body: small.body, schema: '1' });
    expect(upstreamCompression('nats://127.0.0.1:4222')).toBe('deflate');
    expect(upstreamCompression('nats://u:p@a:4222,nats://b:4222?compression=none')).toBe('none');
    expect(() => upstreamCompression('nats://a:4222?compression=gzip')).toThrow(/compression=gzip is not "deflate" or "none"/);
  });

  it('a record without key (spooled by an older agent) gets the MD5 id that agent sent', () => {
    const r = record(10, false);
    for (const m of splitBatch(r.body, r.count, O)!) {
      expect(m.id).toBe(`node-1:${createHash('md5').update(m.subject).update(m.body).digest('hex')}`);
    }
  });

  it('the spool keeps each record key across a restart, and reads the previous format', async () => {
    const dir = tempDir('spoolkeys');
    const s1 = await Spool.open(dir, 1 << 20);
    const r1 = record(5, true);
    const r2 = record(6, false);
    await s1.append([{ ...r1, key: 'mk3x9-1' }, { ...r2, key: 'mk3x9-2' }, record(3, false)]);
    await s1.close();
    // An older agent's segment (count, length, body) next to it.
    const old = record(4, false);
    const raw = Buffer.alloc(8 + old.body.length);
    raw.writeUInt32BE(4, 0);
    raw.writeUInt32BE(old.body.length, 4);
    old.body.copy(raw, 8);
    writeFileSync(join(dir, 'spool-000000000000.osps'), raw);
    expect(readFileSync(join(dir, 'spool-000000000001.osps')).length).toBeGreaterThan(0);
    const s2 = await Spool.open(dir, 1 << 20); // the next agent process
    const first = await s2.peek(1000);
    expect(first).toHaveLength(1);
    expect(first[0].count).toBe(4);
    expect(first[0].key).toBeUndefined();
    expect(first[0].body.equals(old.body)).toBe(true);
    await s2.commit(1);
    const rest = await s2.peek(1000);
    expect(rest.map((r) => [r.count, r.key])).toEqual([
      [5, 'mk3x9-1'],
      [6, 'mk3x9-2'],
      [3, undefined],
    ]);
    expect(rest[0].body.equals(r1.body)).toBe(true);
    expect(rest[1].body.equals(r2.body)).toBe(true);
    // Replayed, the keyed record splits into the ids it would have had before the restart.
    expect(splitBatch(rest[0].body, 5, O, rest[0].key)!.map((m) => m.id)).toEqual(splitBatch(r1.body, 5, O, 'mk3x9-1')!.map((m) => m.id));
    await s2.commit(3);
    expect(s2.empty).toBe(true);
    await s2.close();
  });
});
