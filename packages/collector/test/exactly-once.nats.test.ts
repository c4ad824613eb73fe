// Three apps, each on its own agent publishing --upstream to NATS JetStream (the shared
// nats-server, with this test's own stream, subjects and lease bucket), two collectors
// writing to the test's own redis-server. Mid-run one collector is killed with SIGKILL:
// the other takes its partitions over, and every point sent is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sleep } from '../../agent/test/support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp, type AppProc } from '../../agent/test/support/load';
import { readStore, sentPoints } from '../../agent/test/support/store';
import { SHARED_NATS, dropJetStream, freePort, healthz, startCollectorProc, startUpstreamAgent, stopProc, tempDir, testNames, waitFor, type Proc } from './support/nats';

const PARTITIONS = 8;
const names = testNames('once');
let redis: RedisServer;
const procs: Proc[] = [];

beforeAll(async () => {
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
});

afterAll(async () => {
  for (const p of procs.reverse()) await stopProc(p, 'SIGKILL');
  await redis?.stop();
  await dropJetStream(SHARED_NATS, names.stream);
});

describe('agents → NATS JetStream → two collectors → redis://', () => {
  it('stores every point exactly once, also when a collector is killed with SIGKILL mid-run', async () => {
    const dir = tempDir('once');
    const backend = `${redis.url(0)}`;
    const c1 = await startCollectorProc({ nats: SHARED_NATS, backend, names, partitions: PARTITIONS });
    const c2 = await startCollectorProc({ nats: SHARED_NATS, backend, names, partitions: PARTITIONS });
    procs.push(c1, c2);
    // Both share the partitions once the leases settled.
    await waitFor('partitions shared', async () => {
      const [a, b] = await Promise.all([healthz(c1.health), healthz(c2.health)]);
      return a.partitions.length > 0 && b.partitions.length > 0 && a.partitions.length + b.partitions.length === PARTITIONS;
    }, 20_000);
    const apps: AppProc[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = join(dir, `agent${i}.sock`);
      const spool = i === 0 ? join(dir, 'spool0') : undefined; // one with a spool, two in memory
      procs.push(await startUpstreamAgent({ socket, nats: SHARED_NATS, names, partitions: PARTITIONS, spool }));
      const app = await startApp(`agent://${socket}?reconnect_max_ms=200`);
      procs.push(app);
      apps.push(app);
    }
    const loads = apps.map((a) => load(a.port, { concurrency: 4, maxRequests: 1_500, durationMs: 12_000 }));
    await sleep(1_500);
    const before = await healthz(c1.health);
    c1.child.kill('SIGKILL');
    await c1.exited;
    const results = await Promise.all(loads);
    for (const a of apps) {
      const f = await flushApp(a.port);
      expect(f.pending).toBe(0);
      expect(f.counters.dropped).toBe(0);
    }
    const sent = results.flatMap((r) => r.sent);
    expect(results.every((r) => r.failures === 0)).toBe(true);
    const expected = sentPoints(sent);
    // The survivor holds every partition within the lease TTL and drains the backlog.
    await waitFor('takeover', async () => (await healthz(c2.health)).partitions.length === PARTITIONS, 15_000);
    let stored = await readStore(redis.port, sent);
    await waitFor('all points stored', async () => {
      stored = await readStore(redis.port, sent);
      return stored.points.size >= expected.size;
    }, 45_000).catch(() => undefined);
    const missing = [...expected].filter((k) => !stored.points.has(k));
    const extra = [...stored.points].filter((k) => !expected.has(k));
    const after = await healthz(c2.health);
    console.log(
      `exactly-once: ${sent.length} requests, ${expected.size} points sent, ${stored.points.size} stored, ${stored.duplicates} duplicates; ` +
        `killed collector had ${before.partitions.length} partitions and ${before.metrics.written} points written; survivor: ${after.metrics.written} written, ` +
        `${after.metrics.redeliveries} redeliveries, ${after.metrics.duplicates} messages already written`,
    );
    expect(sent.length).toBeGreaterThan(300); // bounded by time on a busy machine; 900-1,200 here
    expect(before.partitions.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(extra).toEqual([]);
    expect(stored.duplicates).toBe(0);
    expect(stored.foreign).toBe(0);
  }, 120_000);
});
