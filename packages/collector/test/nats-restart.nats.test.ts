// A nats-server of the test's own (free port, own store dir) is stopped for a few seconds
// and restarted with its store while two apps send under paced load: the agents (one with
// a spool, one holding batches in memory) keep their unacknowledged batches and send them
// again, the collector reconnects, and every point is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { sleep } from '../../agent/test/support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp, type AppProc } from '../../agent/test/support/load';
import { readStore, sentPoints } from '../../agent/test/support/store';
import { OwnNats, freePort, healthz, startCollectorProc, startUpstreamAgent, stopProc, tempDir, testNames, waitFor, type Proc } from './support/nats';

const PARTITIONS = 4;
const names = testNames('restart');
let redis: RedisServer;
let nats: OwnNats;
const procs: Proc[] = [];

beforeAll(async () => {
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
  nats = await OwnNats.create();
  await nats.start();
});

afterAll(async () => {
  for (const p of procs.reverse()) await stopProc(p, 'SIGKILL');
  await nats?.stop();
  await redis?.stop();
});

describe('nats-server restarted during a run', () => {
  it('agents keep and resend their batches: nothing lost, nothing stored twice', async () => {
    const dir = tempDir('restart');
    const c = await startCollectorProc({ nats: nats.url, backend: redis.url(), names, partitions: PARTITIONS });
    procs.push(c);
    await waitFor('leases', async () => (await healthz(c.health)).partitions.length === PARTITIONS, 15_000);
    const apps: AppProc[] = [];
    const agentHealth: string[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = join(dir, `a${i}.sock`);
      const health = `127.0.0.1:${await freePort()}`;
      agentHealth.push(health);
      procs.push(await startUpstreamAgent({ socket, nats: nats.url, names, partitions: PARTITIONS, spool: i === 0 ? join(dir, 'spool') : undefined, health }));
      const app = await startApp(`agent://${socket}?reconnect_max_ms=200`);
      procs.push(app);
      apps.push(app);
    }
    const loads = apps.map((a) => load(a.port, { concurrency: 2, maxRequests: 1_000, durationMs: 9_000, ratePerSec: 120 }));
    await sleep(1_500);
    await nats.stop();
    await sleep(2_500);
    await nats.start();
    const results = await Promise.all(loads);
    for (const a of apps) {
      const f = await flushApp(a.port);
      expect(f.pending).toBe(0);
      expect(f.counters.dropped).toBe(0);
    }
    const sent = results.flatMap((r) => r.sent);
    expect(results.every((r) => r.failures === 0)).toBe(true);
    const expected = sentPoints(sent);
    let stored = await readStore(redis.port, sent);
    await waitFor('all points stored', async () => {
      stored = await readStore(redis.port, sent);
      return stored.points.size >= expected.size;
    }, 45_000).catch(() => undefined);
    const missing = [...expected].filter((k) => !stored.points.has(k));
    const h = await healthz(c.health);
    // The outage was felt: publishes failed; the spooling agent spooled, the other held batches in memory.
    const [spooling, inMemory] = (await Promise.all(agentHealth.map((a) => healthz(a)))).map((x) => x.metrics as unknown as { backendErrors: number; spooled: number });
    console.log(`agents: spooling one ${spooling.backendErrors} failed publishes, ${spooling.spooled} points spooled; in-memory one ${inMemory.backendErrors} failed publishes`);
    expect(spooling.backendErrors).toBeGreaterThan(0);
    expect(spooling.spooled).toBeGreaterThan(0);
    expect(inMemory.backendErrors).toBeGreaterThan(0);
    console.log(
      `nats restart: ${sent.length} requests, ${expected.size} points sent, ${stored.points.size} stored, ${stored.duplicates} duplicates; ` +
        `collector: ${h.metrics.written} written, ${h.metrics.redeliveries} redeliveries, ${h.metrics.duplicates} duplicate messages skipped`,
    );
    expect(sent.length).toBeGreaterThan(500);
    expect(missing).toEqual([]);
    expect(stored.duplicates).toBe(0);
    expect(stored.foreign).toBe(0);
  }, 120_000);
});
