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

/**
 * Requests in three bounded phases: `before` (the agent up; it is killed 1 s in, while they
 * may still run), `during` (all of them sent while the agent is dead: it is restarted only
 * once they are answered and `outageMs` has passed) and `after` (the agent back). A load
 * bounded only by time and count could finish before the kill on a fast machine, and then
 * no point met the outage.
 */
async function killScenario(db: number, maxPoints: number, outageMs: number, phases: { before: number; during: number; after: number }) {
  const dir = tempDir('kill');
  const socket = join(dir, 'agent.sock');
  const backend = redis.url(db);
  let agent = await startAgentProc({ socket, backend, spool: join(dir, 'spool') });
  const app = await startApp(`agent://${socket}?max_points=${maxPoints}&reconnect_max_ms=200`);
  const phase = (maxRequests: number) => load(app.port, { concurrency: 8, maxRequests, durationMs: 15_000 });
  try {
    const first = phase(phases.before);
    await sleep(1000);
    agent.child.kill('SIGKILL');
    await agent.exited;
    const [a, b] = await Promise.all([first, phase(phases.during), sleep(outageMs)]);
    agent = await startAgentProc({ socket, backend, spool: join(dir, 'spool') });
    const c = await phase(phases.after);
    const sent = [...a.sent, ...b.sent, ...c.sent];
    const failures = a.failures + b.failures + c.failures;
    const client = await flushApp(app.port);
    if (client.pending !== 0) console.log('client state after flush', JSON.stringify(client), agent.stderr());
    await stopProc(agent); // drains: everything acknowledged is stored
    const stored = await readStore(redis.port, sent, db);
    const expected = sentPoints(sent);
    const missing = [...expected].filter((k) => !stored.points.has(k));
    const extra = [...stored.points].filter((k) => !expected.has(k));
    return { sent, failures, client, stored, expected, missing, extra, during: b.sent.length };
  } finally {
    await stopProc(app);
    await stopProc(agent, 'SIGKILL');
  }
}

describe('agent killed with SIGKILL under load, then restarted', () => {
  it('loses nothing when the outage fits in the client buffer', async () => {
    // 4 points a request: at most 12,000 requests' points fit the 100,000-point buffer.
    const r = await killScenario(1, 100_000, 1000, { before: 4000, during: 4000, after: 4000 });
    expect(r.failures).toBe(0);
    expect(r.during).toBe(4000);
    expect(r.client.pending).toBe(0);
    expect(r.client.counters.dropped).toBe(0);
    expect(r.client.counters.resent).toBeGreaterThanOrEqual(0);
    expect(r.extra).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.stored.markedDropped).toBe(0);
    expect(r.stored.foreign).toBe(0);
    console.log(
      `kill -9 (1 s outage and more): ${r.sent.length} requests (${r.during} while the agent was down), ${r.expected.size} points sent, ${r.stored.points.size} stored, ` +
        `${r.stored.duplicates} stored twice (written before the kill, not acknowledged), resent batches ${r.client.counters.resent}`,
    );
  }, 60_000);

  it('stores exactly what was sent minus the counted drops when the buffer overflows', async () => {
    // 4,000 requests: the client marks drops for up to 10,000 traces (beyond that they are
    // only counted), and this test wants every drop marked. The 2,000 sent while the agent
    // is dead make 8,000 points for a 300-point buffer.
    const r = await killScenario(2, 300, 1500, { before: 1000, during: 2000, after: 1000 });
    expect(r.failures).toBe(0);
    expect(r.during).toBe(2000);
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
