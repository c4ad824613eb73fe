// Frames in reused memory (client/framepool.ts) are safe: many batches of varied sizes; the
// agent stopped (SIGSTOP: nothing read or acknowledged) and killed, or stopped under load
// (the client's writes block) and stopped gracefully, each time replaced by a new agent
// (frames unacknowledged on the old connection are resent on the new one). Every point must be stored exactly once with the bytes the
// client was given, while most frames were written into memory an earlier frame had used.
// Backend: the test's own redis-server; the agent runs as a real process.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AgentClientDriver, clientOptionsFromUrl } from '@osprofiler/agent';
import { pyDumps, type Notification } from '@osprofiler/core';
import { MAX_SLABS } from '../src/client/framepool';
import { sleep, startAgentProc, stopProc, tempDir, type Proc } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';

let redis: RedisServer;
beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
});
afterAll(async () => {
  await redis?.close();
});

const POINTS = 100;

/** Batch `k`: one trace of POINTS points, its info padded by a length that varies with k (frames of ~25–75 KB). */
function batch(k: number): { base: string; lines: string[] } {
  const base = randomUUID();
  const pad = 'x'.repeat((k * 37) % 500);
  const lines: string[] = [];
  for (let i = 0; i < POINTS; i++) {
    const n: Notification = {
      name: `op${k}-${i % 2 ? 'stop' : 'start'}`,
      base_id: base,
      trace_id: `${base}-${i >> 1}`,
      parent_id: base,
      timestamp: `2026-12-04T21:00:00.${String(k * POINTS + i).padStart(6, '0')}`,
      info: { k, i, pad, host: 'h' },
      project: 'p',
      service: 's',
    };
    lines.push(pyDumps(n));
  }
  return { base, lines };
}

it('every point stored once, byte for byte, through slow acks and a resend, in reused frame memory', async () => {
  const dir = tempDir('framepool');
  const socket = join(dir, 'agent.sock');
  const backend = redis.url(4);
  let agent: Proc = await startAgentProc({ socket, backend });
  const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_batch_points=400&reconnect_min_ms=20&reconnect_max_ms=100&exit_hooks=0`)));
  const sent: { base: string; lines: string[] }[] = [];
  const send = async (n: number): Promise<void> => {
    for (let j = 0; j < n; j++) {
      const b = batch(sent.length);
      sent.push(b);
      client.notifyLines({ baseIds: b.lines.map(() => b.base), timestamps: b.lines.map((_, i) => String(i)), lines: b.lines, errors: null });
      await new Promise((r) => setImmediate(r));
      if (j % 10 === 9) await sleep(2);
    }
  };
  try {
    await send(100);
    await client.flush(10_000);
    // Frames written whole into the socket and never read: the agent is stopped, then
    // killed. Each write completes at once, so a frame released on its write rather than
    // on its ACK would have its memory taken by the next frame before it is resent.
    agent.child.kill('SIGSTOP');
    await send(4);
    await sleep(50);
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = await startAgentProc({ socket, backend });
    await send(100);
    // The agent stopped under load: frames stay unacknowledged, then the socket fills and
    // writes wait (the rest stays queued, not framed). A graceful stop as soon as it runs
    // again: what it had not read is resent to the next agent.
    agent.child.kill('SIGSTOP');
    await send(150);
    agent.child.kill('SIGTERM');
    agent.child.kill('SIGCONT');
    await agent.exited;
    agent = await startAgentProc({ socket, backend });
    await send(100);
    await client.flush(20_000);

    expect(client.pending).toBe(0);
    expect(client.counters.acknowledged).toBe(sent.length * POINTS);
    expect(client.counters.dropped).toBe(0);
    expect(client.counters.connects).toBe(3);
    expect(client.counters.resent).toBeGreaterThanOrEqual(4);
    const pool = client.frames.stats;
    expect(pool.slabs).toBeLessThanOrEqual(MAX_SLABS);
    expect(pool.reused).toBeGreaterThan(pool.pooled / 2);
    expect(client.frames.held).toBe(0); // every frame acknowledged and every write completed
    console.log(`frame pool: ${JSON.stringify(pool)}; resent batches ${client.counters.resent}`);

    const r = new Redis({ host: '127.0.0.1', port: redis.port, db: 4, lazyConnect: true });
    await r.connect();
    try {
      const p = r.pipeline();
      for (const b of sent) p.lrange(`osprofiler_opt:${b.base}`, 0, -1);
      const lists = ((await p.exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return v as string[];
      });
      // Each trace's list holds its lines once each, as given (in the store's order: sorted to compare).
      let wrong = 0;
      sent.forEach((b, k) => {
        if (JSON.stringify([...lists[k]].sort()) !== JSON.stringify([...b.lines].sort())) wrong++;
      });
      expect(wrong).toBe(0);
      expect((await r.keys('osprofiler_opt:*')).length).toBe(sent.length); // no trace but these
    } finally {
      r.disconnect();
    }
  } finally {
    await client.close(1_000);
    await stopProc(agent);
  }
}, 60_000);
