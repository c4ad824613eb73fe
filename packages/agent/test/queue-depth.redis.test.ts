// queue_depth is every point the agent holds unacknowledged, those of a write under way too:
// the agent's own redis-server is frozen (SIGSTOP, by its handle) so that a write hangs, and
// the gauge must still count the batch it took from the queue. Before, it read 0 there (the
// collector's NATS auth test saw 0 of 40 points held, one run in eight).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { AgentClientDriver, clientOptionsFromUrl, startAgent } from '@osprofiler/agent';
import { pyDumps } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';
import { RedisServer } from '../../../tools/testing/redis-server';
import { sleep, tempDir, waitFor } from './support/procs';

let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  // Thawed first, in case a failed check left it stopped: a stopped process ignores SIGTERM.
  redis?.process?.kill('SIGCONT');
  await redis?.close();
});

function batchOf(n: number, trace: string): LineBatch {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      pyDumps({
        name: `p${i >> 1}-${i % 2 ? 'stop' : 'start'}`,
        base_id: trace,
        trace_id: `t${i >> 1}`,
        parent_id: trace,
        timestamp: `2026-12-07T07:00:00.${String(i).padStart(6, '0')}`,
        info: { host: 'h' },
        project: null,
        service: 's',
      }),
    );
  }
  return { baseIds: lines.map(() => trace), timestamps: lines.map((_, i) => `2026-12-07T07:00:00.${String(i).padStart(6, '0')}`), lines, errors: new Uint8Array(n) };
}

const depth = (text: string): number => Number(/^osprofiler_agent_queue_depth (\d+)$/m.exec(text)?.[1]);

it('counts the points of a write under way: held, not acknowledged, until the backend answers', async () => {
  const socket = join(tempDir('queue-depth'), 'agent.sock');
  const agent = await startAgent({ socketPath: socket, backend: redis.url(5), writeTimeoutMs: 30_000 });
  const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?exit_hooks=0`)));
  const frozen = redis.process!;
  try {
    // A first batch written: the backend is connected before it freezes.
    client.notifyLines(batchOf(4, 'queue-depth-warm'));
    await client.flush(10_000);
    expect(agent.metrics.written).toBe(4);
    expect(depth(agent.metricsText())).toBe(0);

    frozen.kill('SIGSTOP');
    client.notifyLines(batchOf(40, 'queue-depth-held'));
    await waitFor('the agent to take the batch', () => agent.metrics.received === 44);
    // The writer takes it at once and waits on the frozen Redis; give that a moment.
    await sleep(300);
    expect(agent.metrics.acknowledged).toBe(4);
    expect(depth(agent.metricsText())).toBe(40);

    frozen.kill('SIGCONT');
    await client.flush(20_000);
    expect(agent.metrics.acknowledged).toBe(44);
    expect(agent.metrics.written).toBe(44);
    expect(depth(agent.metricsText())).toBe(0);
  } finally {
    frozen.kill('SIGCONT');
    await client.close(1_000);
    await agent.stop();
  }
}, 60_000);
