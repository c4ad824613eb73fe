// 10,000 garbage frames (well framed but wrong, unframed bytes, oversized, no handshake)
// while a good client sends: the agent drops and counts the garbage, closes broken
// streams cleanly, and stores every point of the good client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { AgentClientDriver, clientOptionsFromUrl } from '@osprofiler/agent';
import type { Notification } from '@osprofiler/core';
import { freePort, startAgentProc, stopProc, tempDir, waitFor } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { readStore, sentPoints } from './support/store';
import type { Sent } from './support/load';

let redis: RedisServer;
beforeAll(async () => {
  redis = new RedisServer({ persist: true });
  await redis.start();
});
afterAll(async () => {
  await redis?.close();
});

function frame(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(payload.length + 1, 0);
  h[4] = type;
  return Buffer.concat([h, payload]);
}

function open(path: string): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = createConnection(path, () => res(s));
    s.on('error', rej);
  });
}

function closed(s: Socket): Promise<void> {
  s.resume(); // read to the end, so the agent's FIN is seen
  return new Promise((r) => (s.destroyed ? r() : s.on('close', () => r())));
}

/** One garbage frame of a random kind (all with a valid length prefix). */
function garbage(i: number, client: Buffer): Buffer {
  switch (i % 5) {
    case 0:
      return frame(3, randomBytes(i % 23)); // BATCH too short
    case 1: {
      const p = Buffer.concat([randomBytes(16), Buffer.alloc(8), Buffer.from('{"not":"an array"}')]);
      p.writeUInt32BE(1, 20);
      return frame(3, p); // BATCH body not an array (and another client's id)
    }
    case 2: {
      const p = Buffer.concat([client, Buffer.alloc(8), Buffer.from('[' + randomBytes(40).toString('latin1') + ']')]);
      p.writeUInt32BE(i, 16);
      p.writeUInt32BE(2, 20);
      return frame(3, p); // BATCH that looks right but does not parse
    }
    case 3:
      return frame(100 + (i % 150), randomBytes(i % 64)); // unknown type
    default:
      return frame(6, randomBytes(i % 50)); // REQUEST that is not JSON
  }
}

function notifications(sent: Sent[], n: number): Notification[] {
  const out: Notification[] = [];
  for (let i = 0; i < n; i++) {
    const base = randomUUID();
    const id = randomUUID();
    sent.push({ base, ids: [id] });
    for (const phase of ['start', 'stop']) {
      out.push({
        name: `good-${phase}`,
        base_id: base,
        trace_id: id,
        parent_id: base,
        timestamp: '2026-01-01T00:00:00.000000',
        info: { i, host: 'h' },
        project: null,
        service: 'good',
      });
    }
  }
  return out;
}

describe('garbage frames', () => {
  it('10,000 garbage frames: the agent keeps serving good clients and counts what it dropped', async () => {
    const dir = tempDir('garbage');
    const socket = join(dir, 'agent.sock');
    const healthPort = await freePort();
    const agent = await startAgentProc({ socket, backend: redis.url(4), spool: join(dir, 'spool'), health: `127.0.0.1:${healthPort}` });
    const good = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?exit_hooks=0`)));
    const sent: Sent[] = [];
    try {
      // Handshaken connection sending 10,000 well-framed garbage frames, interleaved with good batches.
      const g = await open(socket);
      g.on('error', () => undefined);
      const gid = randomBytes(16);
      g.write(frame(1, Buffer.from(JSON.stringify({ v: 1, client: gid.toString('hex') }))));
      for (let i = 0; i < 10_000; i++) {
        g.write(garbage(i, gid));
        if (i % 1000 === 0) good.notify(notifications(sent, 200));
      }
      // Unframed random bytes before any handshake, an oversized length, a wrong version.
      const raw = await open(socket);
      raw.on('error', () => undefined);
      raw.write(frame(3, randomBytes(100))); // a batch before the handshake
      const big = await open(socket);
      big.on('error', () => undefined);
      big.write(frame(1, Buffer.from(JSON.stringify({ v: 1, client: randomBytes(16).toString('hex') }))));
      const hdr = Buffer.alloc(5);
      hdr.writeUInt32BE(0x7fffffff, 0);
      hdr[4] = 3;
      big.write(hdr);
      const old = await open(socket);
      old.on('error', () => undefined);
      let refusal = '';
      old.on('data', (d: Buffer) => (refusal += d.subarray(5).toString()));
      old.write(frame(1, Buffer.from(JSON.stringify({ v: 99, client: randomBytes(16).toString('hex') }))));
      await Promise.all([closed(raw), closed(big), closed(old)]);
      expect(refusal).toMatch(/protocol version 99 is not supported/);

      good.notify(notifications(sent, 1000));
      await good.flush(15_000);
      expect(good.pending).toBe(0);
      expect(good.counters.dropped).toBe(0);
      // The garbage connection is still open: well-framed garbage does not end it.
      expect(g.destroyed).toBe(false);
      g.destroy();

      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      const dropped = (reason: string) => Number(new RegExp(`reason="${reason}"\\} (\\d+)`).exec(text)?.[1]);
      await waitFor('bad batches to be counted', async () => {
        const t = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        return Number(/reason="bad_points"\} (\d+)/.exec(t)?.[1]) === 2 * 2000;
      });
      expect(dropped('malformed')).toBe(2 * 2000);
      expect(dropped('unknown_type')).toBe(2000);
      expect(dropped('no_handshake')).toBe(1);
      expect(dropped('oversized')).toBe(1);
      console.log(text.split('\n').filter((l) => l.startsWith('osprofiler_agent_dropped')).join('\n'));

      expect(await stopProc(agent)).toBe(0);
      const stored = await readStore(redis.port, sent, 4);
      const expected = sentPoints(sent);
      expect(stored.points.size).toBe(expected.size);
      expect([...expected].filter((k) => !stored.points.has(k))).toEqual([]);
    } finally {
      await good.close(1000);
      await stopProc(agent, 'SIGKILL');
    }
  }, 60_000);
});
