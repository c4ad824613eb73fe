// kill -9 the agent under load and restart it (backend: the test's own redis-server).
// Every request must succeed, and the store must hold exactly the points sent minus the
// points the client counted (and marked) as dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sleep, startAgentProc, stopProc, tempDir } from './support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp } from './support/load';
import { readStore, sentPoints } from './support/store';

let redis: RedisServer;

beforeAll(async () => {
  redis = new RedisServer({ persist: true });
  await redis.start();
});

afterAll(async () => {
  await redis?.close();
});

async function killScenario(db: number, maxPoints: number, outageMs: number, maxRequests = 20_000) {
  const dir = tempDir('kill');
  const socket = join(dir, 'agent.sock');
  const backend = redis.url(db);
  let agent = await startAgentProc({ socket, backend, spool: join(dir, 'spool') });
  const app = await startApp(`agent://${socket}?max_points=${maxPoints}&reconnect_max_ms=200`);
  try {
    const loadDone = load(app.port, { concurrency: 8, maxRequests, durationMs: 2_500 + outageMs });
    await sleep(1000);
    agent.child.kill('SIGKILL');
    await agent.exited;
    await sleep(outageMs);
    agent = await startAgentProc({ socket, backend, spool: join(dir, 'spool') });
    const { sent, failures } = await loadDone;
    const client = await flushApp(app.port);
    if (client.pending !== 0) console.log('client state after flush', JSON.stringify(client), agent.stderr());
    await stopProc(agent); // drains: everything acknowledged is stored
    const stored = await readStore(redis.port, sent, db);
    const expected = sentPoints(sent);
    const missing = [...expected].filter((k) => !stored.points.has(k));
    const extra = [...stored.points].filter((k) => !expected.has(k));
    return { sent, failures, client, stored, expected, missing, extra };
  } finally {
    await stopProc(app);
    await stopProc(agent, 'SIGKILL');
  }
}

describe('agent killed with SIGKILL under load, then restarted', () => {
  it('loses nothing when the outage fits in the client buffer', async () => {
    const r = await killScenario(1, 100_000, 1000);
    expect(r.failures).toBe(0);
    expect(r.sent.length).toBeGreaterThan(200);
    expect(r.client.pending).toBe(0);
    expect(r.client.counters.dropped).toBe(0);
    expect(r.client.counters.resent).toBeGreaterThanOrEqual(0);
    expect(r.extra).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.stored.markedDropped).toBe(0);
    expect(r.stored.foreign).toBe(0);
    console.log(
      `kill -9 (1 s outage): ${r.sent.length} requests, ${r.expected.size} points sent, ${r.stored.points.size} stored, ` +
        `${r.stored.duplicates} stored twice (written before the kill, not acknowledged), resent batches ${r.client.counters.resent}`,
    );
  }, 60_000);

  it('stores exactly what was sent minus the counted drops when the buffer overflows', async () => {
    // At most 6,000 requests: the client marks drops for up to 10,000 traces (beyond that
    // they are only counted), and this test wants every drop marked.
    const r = await killScenario(2, 300, 1500, 6_000);
    expect(r.failures).toBe(0);
    expect(r.client.pending).toBe(0);
    expect(r.client.counters.dropped).toBeGreaterThan(0);
    expect(r.extra).toEqual([]);
    // Count from the store: what is missing is exactly what the client dropped, and the
    // traces carry markers that add up to the same number.
    expect(r.missing.length).toBe(r.client.counters.dropped);
    expect(r.stored.markedDropped).toBe(r.client.counters.dropped);
    console.log(
      `kill -9 (1.5 s outage, max_points=300): ${r.expected.size} points sent, ${r.stored.points.size} stored, ` +
        `${r.missing.length} missing = ${r.client.counters.dropped} counted drops = ${r.stored.markedDropped} marked`,
    );
  }, 60_000);
});
