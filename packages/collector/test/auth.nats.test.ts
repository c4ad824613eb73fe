// NATS credentials as NATS users write them: a nats-server of the test's own that
// requires a user and password. `nats://user:pass@host` works for the agent and the
// collector, also on the IPv6 loopback (`nats://user:pass@[::1]:port`); a wrong password
// fails the collector's start-up naming --nats, and the agent keeps its points; the
// password appears in no log line, error, /healthz or /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { get, load, startApp } from '../../agent/test/support/load';
import { OwnNats, flowThrough, freePort, refusedCollector, startCollectorProc, startUpstreamAgent, tempDir, testNames, useServers, waitFor } from './support/nats';

const P = 2;
const PASSWORD = 's3cr%t-pw';
const WRONG = 'wrong-pw-123';
const SECRET = /s3cr|wrong-pw|s3cr%25t/;
const s = useServers(() => ['--user', 'osp', '--pass', PASSWORD]);
let nats6: OwnNats;

beforeAll(async () => {
  nats6 = await OwnNats.create(['--user', 'osp', '--pass', PASSWORD], '::1');
  await nats6.start();
});

afterAll(async () => {
  await nats6?.stop();
});

const withPassword = (url: string, pw: string): string => url.replace('nats://', `nats://osp:${encodeURIComponent(pw)}@`);

/** The text of a health endpoint (host:port) path. */
async function healthText(address: string, path: string): Promise<string> {
  return (await get(Number(address.split(':')[1]), path)).body;
}

describe('NATS user and password', () => {
  it('nats://user:pass@ works for agent and collector; a wrong password fails start-up without echoing it; the password is nowhere in logs or metrics', async () => {
    const names = testNames('auth');
    const good = withPassword(s.nats.url, PASSWORD);
    const refused = await refusedCollector(s, names, [], withPassword(s.nats.url, WRONG));
    expect(refused).toMatch(/--nats nats:\/\/osp:\*\*\*@127\.0\.0\.1:\d+: .*(Authorization|authorization|auth)/i);
    expect(refused).not.toMatch(SECRET);

    const c = await startCollectorProc({ nats: good, backend: s.redis.url(), names, partitions: P });
    s.procs.push(c);
    const r = await flowThrough({ nats: good, names, partitions: P, redisPort: s.redis.port, procs: s.procs, requests: 200 });
    expect(r.expected).toBeGreaterThan(0);
    expect(r.stored).toBe(r.expected);
    expect(r.duplicates).toBe(0);
    for (const text of [c.stderr(), r.agent.stderr(), await healthText(c.health, '/metrics'), await healthText(c.health, '/healthz')]) expect(text).not.toMatch(SECRET);
  }, 60_000);

  it('an agent with a wrong password keeps its points and never prints the password', async () => {
    const names = testNames('authbad');
    const health = `127.0.0.1:${await freePort()}`;
    const socket = join(tempDir('authbad'), 'a.sock');
    const agent = await startUpstreamAgent({ socket, nats: withPassword(s.nats.url, WRONG), names, partitions: P, health });
    s.procs.push(agent);
    const app = await startApp(`agent://${socket}`);
    s.procs.push(app);
    await load(app.port, { concurrency: 1, maxRequests: 10, durationMs: 5_000 });
    // The agent has tried (and failed) to publish: its failure shows in its log.
    // The agent tried to publish, was refused, and keeps the points (unacknowledged).
    await waitFor('agent refused by NATS', () => /Authorization Violation/.test(agent.stderr()), 10_000);
    // The refusal can be logged (at connect) before the app's first batch reaches the agent.
    type Health = { queueDepth: number; metrics: { acknowledged: number; received: number } };
    let h: Health | undefined;
    await waitFor('agent holds the app points', async () => {
      h = JSON.parse(await healthText(health, '/healthz')) as Health;
      return h.metrics.received > 0;
    });
    h = JSON.parse(await healthText(health, '/healthz')) as Health;
    expect(h.metrics.received).toBeGreaterThan(0);
    expect(h.metrics.acknowledged).toBe(0);
    expect(h.queueDepth).toBe(h.metrics.received);
    expect(agent.stderr()).toMatch(/publishing to nats:\/\/osp:\*\*\*@127\.0\.0\.1/);
    for (const text of [agent.stderr(), await healthText(health, '/metrics'), await healthText(health, '/healthz')]) expect(text).not.toMatch(SECRET);
  }, 30_000);

  it('the IPv6 loopback: nats://user:pass@[::1]:port for agent and collector', async () => {
    const names = testNames('auth6');
    expect(nats6.url).toMatch(/^nats:\/\/\[::1\]:\d+$/);
    const good = withPassword(nats6.url, PASSWORD);
    const c = await startCollectorProc({ nats: good, backend: s.redis.url(), names, partitions: P });
    s.procs.push(c);
    expect(c.stderr()).not.toMatch(SECRET);
    const r = await flowThrough({ nats: good, names, partitions: P, redisPort: s.redis.port, procs: s.procs });
    expect(r.expected).toBeGreaterThan(0);
    expect(r.stored).toBe(r.expected);
    expect(r.duplicates).toBe(0);
  }, 60_000);
});
