// SIGTERM drains: the collector finishes and acknowledges the writes in hand, gives its
// partitions back (the other collector takes them at once, not after the lease TTL),
// exits 0; every point is stored exactly once. Metrics are served in Prometheus text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { request } from 'node:http';
import { sleep } from '../../agent/test/support/procs';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp } from '../../agent/test/support/load';
import { readStore, sentPoints } from '../../agent/test/support/store';
import { SHARED_NATS, dropJetStream, freePort, healthz, startCollectorProc, startUpstreamAgent, stopProc, tempDir, testNames, waitFor, type Proc } from './support/nats';

const P = 6;
const names = testNames('drain');
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

function metrics(address: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((res, rej) => {
    request({ host, port: Number(port), path: '/metrics' }, (r) => {
      let b = '';
      r.on('data', (d) => (b += d));
      r.on('end', () => res(b));
    })
      .on('error', rej)
      .end();
  });
}

describe('collector SIGTERM', () => {
  it('drains, hands its partitions over at once, exits 0; nothing lost or doubled', async () => {
    const dir = tempDir('drain');
    // A long lease TTL: a takeover faster than it shows the partitions were handed back.
    const extra = ['--lease-ttl-ms', '20000', '--lease-renew-ms', '500'];
    const a = await startCollectorProc({ nats: SHARED_NATS, backend: redis.url(), names, partitions: P, extra });
    const b = await startCollectorProc({ nats: SHARED_NATS, backend: redis.url(), names, partitions: P, extra });
    procs.push(a, b);
    await waitFor('shared', async () => (await healthz(a.health)).partitions.length === P / 2 && (await healthz(b.health)).partitions.length === P / 2, 20_000);
    const text = await metrics(a.health);
    expect(text).toMatch(/^osprofiler_collector_leases_held 3$/m);
    expect(text).toMatch(/^# TYPE osprofiler_collector_write_seconds histogram$/m);
    const socket = join(dir, 'agent.sock');
    procs.push(await startUpstreamAgent({ socket, nats: SHARED_NATS, names, partitions: P }));
    const app = await startApp(`agent://${socket}`);
    procs.push(app);
    const loading = load(app.port, { concurrency: 4, maxRequests: 1_500, durationMs: 6_000 });
    await sleep(1_500);
    const t0 = Date.now();
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.stderr()).toMatch(/SIGTERM, draining/);
    await waitFor('handover', async () => (await healthz(b.health)).partitions.length === P, 15_000);
    const handover = Date.now() - t0;
    const { sent, failures } = await loading;
    expect(failures).toBe(0);
    expect((await flushApp(app.port)).pending).toBe(0);
    const expected = sentPoints(sent);
    let stored = await readStore(redis.port, sent);
    await waitFor('stored', async () => (stored = await readStore(redis.port, sent)).points.size >= expected.size, 30_000).catch(() => undefined);
    console.log(`drain: handover after SIGTERM in ${handover} ms (lease TTL 20 s); ${expected.size} points sent, ${stored.points.size} stored, ${stored.duplicates} duplicates`);
    expect(handover).toBeLessThan(10_000);
    expect([...expected].filter((k) => !stored.points.has(k))).toEqual([]);
    expect(stored.duplicates).toBe(0);
  }, 90_000);
});
