// The search index over agent:// into a real redis:// store: the same points sent by the
// current client (lines + index), by an older client (lines only: the agent parses them)
// and with a forged index (dropped, counted, parsed) give the same stored lines and the
// same search results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { startAgent } from '@osprofiler/agent';
import { createDriver, type Driver, type Notification, type SearchOptions } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import '@osprofiler/drivers/register';
import { bodyLayout, encodeLineBatch, notificationText } from '../src/lines';
import { BATCH_BODY_OFFSET, FrameReader, FrameType, encodeFrame } from '../src/protocol';
import { tempDir, waitFor } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';

const dir = tempDir('lineidx');
type Agent = Awaited<ReturnType<typeof startAgent>>;
const stores: { redis: RedisServer; agent: Agent; reader: Driver }[] = [];

/** 40 traces of 6 points each, with routes, SQL, errors, non-ASCII and hosts that differ. */
function dataset(): Notification[][] {
  const batches: Notification[][] = [];
  for (let t = 0; t < 40; t++) {
    const base = `7f3c${String(t).padStart(4, '0')}-aaaa-4bbb-8ccc-00000000${String(t).padStart(4, '0')}`;
    const out: Notification[] = [];
    const ts = (k: number): string => `2026-12-04T10:${String(t).padStart(2, '0')}:0${k}.${String(t * 7 + k).padStart(6, '0')}`;
    const point = (name: string, k: number, parent: string, info: Record<string, unknown>): Notification => ({
      name,
      base_id: base,
      trace_id: `${base}-${name}-${k}`,
      parent_id: parent,
      timestamp: ts(k),
      info: { ...info, host: t % 3 === 0 ? 'node-ß' : 'node-a' },
      project: t % 4 === 0 ? null : 'proj',
      service: t % 2 === 0 ? 'api' : 'wörker',
    });
    const req = { request: { method: t % 2 ? 'POST' : 'GET', path: `/items/${t}` } };
    out.push(point('wsgi-start', 0, base, req));
    out.push(point('db-start', 1, `${base}-wsgi-start-0`, { db: { statement: `SELECT * FROM items WHERE id = ${t} — ☕` } }));
    out.push(point('db-stop', 2, `${base}-wsgi-start-0`, t % 5 === 0 ? { etype: 'IntegrityError', message: `dup ${t}` } : {}));
    out.push(point('rpc-start', 3, `${base}-wsgi-start-0`, { function: { name: `svc.call_${t % 3}` } }));
    out.push(point('rpc-stop', 4, `${base}-wsgi-start-0`, {}));
    out.push(point('wsgi-stop', 5, base, { request: { ...req.request, route: '/items/:id' } }));
    batches.push(out);
  }
  return batches;
}

/** A bare agent:// client: HELLO, then the given BATCH frames, waiting for every ACK. */
async function sendFrames(socketPath: string, client: Buffer, frames: Buffer[]): Promise<void> {
  const s: Socket = await new Promise((res, rej) => {
    const c = createConnection(socketPath, () => res(c));
    c.on('error', rej);
  });
  const reader = new FrameReader(1 << 20);
  const acked = new Set<number>();
  let welcome: Record<string, unknown> | undefined;
  s.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      if (f.type === FrameType.WELCOME) welcome = JSON.parse(f.payload.toString()) as Record<string, unknown>;
      if (f.type === FrameType.ACK) acked.add(f.payload.readUInt32BE(0));
    }
  });
  s.write(encodeFrame(FrameType.HELLO, JSON.stringify({ v: 1, client: client.toString('hex'), pid: process.pid })));
  await waitFor('WELCOME', () => welcome !== undefined);
  expect(welcome?.index).toBe(true); // a redis:// agent asks for the index
  for (const f of frames) s.write(f);
  await waitFor('every ACK', () => acked.size === frames.length, 20_000);
  s.destroy();
}

function frames(batches: Notification[][], client: Buffer, withIndex: boolean, forge?: (body: Buffer) => void): Buffer[] {
  return batches.map((b, k) => {
    const l = linesOfNotifications(b, notificationText);
    const errors: number[] = [];
    l.errors?.forEach((e, i) => e === 1 && errors.push(i));
    const { frame } = encodeLineBatch(client, k + 1, [{ text: l.lines.join('\n') + '\n', count: l.lines.length, errors: errors.length ? errors : null, index: l.index, from: 0 }], withIndex);
    forge?.(frame.subarray(BATCH_BODY_OFFSET));
    return frame;
  });
}

beforeAll(async () => {
  for (let k = 0; k < 5; k++) {
    const redis = await RedisServer.start();
    const socket = join(dir, `agent-${k}.sock`);
    // Agent 4 keeps the default: it does not ask apps for the index (options.clientIndex).
    const agent = await startAgent({ socketPath: socket, backend: redis.url(), clientIndex: k < 4 });
    const reader = await createDriver(redis.url());
    stores.push({ redis, agent, reader });
  }
  const data = dataset();
  // 0: the current client driver (core's LineBatch with its index, encoded in the frame).
  const client = await createDriver(`agent://${join(dir, 'agent-0.sock')}?exit_hooks=0`);
  for (const b of data) await client.notify(b);
  await client.flush(20_000);
  await client.close();
  // 4: the same client against an agent that does not ask for the index: 'L' bodies, parsed there.
  const plain = await createDriver(`agent://${join(dir, 'agent-4.sock')}?exit_hooks=0`);
  for (const b of data) await plain.notify(b);
  await plain.flush(20_000);
  await plain.close();
  // 1: an older client (L bodies: no index).
  await sendFrames(join(dir, 'agent-1.sock'), Buffer.alloc(16, 1), frames(data, Buffer.alloc(16, 1), false));
  // 2: a forged index in every batch (a ref past the string table).
  await sendFrames(
    join(dir, 'agent-2.sock'),
    Buffer.alloc(16, 2),
    frames(data, Buffer.alloc(16, 2), true, (body) => {
      const l = bodyLayout(body)!;
      body.writeUInt32BE(0x7fffffff, l.textStart - 29 + 1);
    }),
  );
  // 3: a well-formed index that says service "xyz" where the lines say "api": shows the
  // store really indexes from the carried index (the lines are not parsed for it).
  await sendFrames(
    join(dir, 'agent-3.sock'),
    Buffer.alloc(16, 3),
    frames(data, Buffer.alloc(16, 3), true, (body) => {
      const l = bodyLayout(body)!;
      const at = body.indexOf('\u0000\u0000\u0000\u0003api', l.indexStart, 'latin1');
      if (at >= 0 && at < l.textStart) body.write('xyz', at + 4, 'latin1');
    }),
  );
});

afterAll(async () => {
  for (const s of stores) {
    await s.reader.close();
    await s.agent.stop();
    await s.redis.close();
  }
});

describe('LineIndex over agent:// into redis://', () => {
  it('the index traveled, and a forged one was dropped and counted', () => {
    expect(stores[0].agent.metrics.indexedPoints).toBe(240);
    expect(stores[1].agent.metrics.indexedPoints).toBe(0);
    expect(stores[4].agent.metrics.indexedPoints).toBe(0); // default agent: the client sent no index
    expect(stores[0].agent.metrics.badIndexes).toBe(0);
    expect(stores[1].agent.metrics.badIndexes).toBe(0);
    expect(stores[2].agent.metrics.badIndexes).toBe(40);
    expect(stores[2].agent.metricsText()).toMatch(/osprofiler_agent_bad_index_batches_total 40/);
    for (const s of stores) expect(s.agent.metrics.written).toBe(240);
  });

  it('stores the same lines whatever the client sent', async () => {
    for (let t = 0; t < 40; t += 7) {
      const base = `7f3c${String(t).padStart(4, '0')}-aaaa-4bbb-8ccc-00000000${String(t).padStart(4, '0')}`;
      const reports = await Promise.all(stores.map((s) => s.reader.getReport(base)));
      expect(reports[1]).toEqual(reports[0]);
      expect(reports[2]).toEqual(reports[0]);
      expect(reports[4]).toEqual(reports[0]);
    }
  });

  it('the store indexes from the carried index (a consistent rewrite of it shows in search only)', async () => {
    const xyz = await stores[3].reader.searchTraces!({ service: 'xyz' });
    expect(xyz.traces.length).toBe(20);
    expect((await stores[0].reader.searchTraces!({ service: 'xyz' })).traces).toEqual([]);
    expect((await stores[3].reader.searchTraces!({ service: 'api' })).traces).toEqual([]);
  });

  const queries: SearchOptions[] = [
    {},
    { limit: 7 },
    { service: 'wörker' },
    { project: 'proj' },
    { host: 'node-ß' },
    { root: 'wsgi' },
    { text: 'select * from items where id = 12' },
    { text: 'post /items/:id' },
    { text: 'svc.call_2' },
    { errorsOnly: true },
    { minDurationMs: 4000 },
  ];
  for (const q of queries) {
    it(`search ${JSON.stringify(q)} gives the same page with, without (old client, or an agent not asking) and with a forged index`, async () => {
      const pages = await Promise.all(stores.map((s) => s.reader.searchTraces!(q)));
      expect(pages[0].traces.length).toBeGreaterThan(0);
      expect(pages[1]).toEqual(pages[0]);
      expect(pages[2]).toEqual(pages[0]);
      expect(pages[4]).toEqual(pages[0]);
    });
  }
});
