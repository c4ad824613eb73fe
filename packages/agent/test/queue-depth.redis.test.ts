// queue_depth is every point the agent holds unacknowledged, those of a write under way too:
// the agent's own redis-server is frozen (SIGSTOP, by its handle) so that a write hangs, and
// the gauge must still count the batch it took from the queue. Before, it read 0 there (the
// collector's NATS auth test saw 0 of 40 points held, one run in eight).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { AgentClientDriver, clientOptionsFromUrl, startAgent } from '@osprofiler/agent';
import { RedisServer } from '../../../tools/testing/redis-server';
import { batchOf } from './support/line-batch';
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

const depth = (text: string): number => Number(/^osprofiler_agent_queue_depth (\d+)$/m.exec(text)?.[1]);

it('counts the points of a write under way: held, not acknowledged, until the backend answers', async () => {
  const socket = join(tempDir('queue-depth'), 'agent.sock');
  const agent = await startAgent({ socketPath: socket, backend: redis.url(5), writeTimeoutMs: 30_000 });
  const client = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?exit_hooks=0`)));
  const frozen = redis.process!;
  try {
    // A first batch written: the backend is connected before it freezes.
    client.notifyLines(batchOf(0, 4, ['queue-depth-warm']).batch);
    await client.flush(10_000);
    expect(agent.metrics.written).toBe(4);
    expect(depth(agent.metricsText())).toBe(0);

    frozen.kill('SIGSTOP');
    client.notifyLines(batchOf(4, 40, ['queue-depth-held']).batch);
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
