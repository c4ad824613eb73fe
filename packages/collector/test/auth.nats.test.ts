// NATS credentials as NATS users write them: a nats-server of the test's own that
// requires a user and password. `nats://user:pass@host` works for the agent and the
// collector; a wrong password fails the collector's start-up naming --nats, without
// printing the password; the agent keeps (spools) until it can publish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { RedisServer } from '../../../tools/testing/redis-server';
import { flushApp, load, startApp } from '../../agent/test/support/load';
import { readStore, sentPoints } from '../../agent/test/support/store';
import { COLLECTOR_DAEMON, OwnNats, freePort, spawnNode, startCollectorProc, startUpstreamAgent, stopProc, tempDir, testNames, waitFor, type Proc } from './support/nats';

const P = 2;
const names = testNames('auth');
let nats: OwnNats;
let redis: RedisServer;
const procs: Proc[] = [];

beforeAll(async () => {
  nats = await OwnNats.create(['--user', 'osp', '--pass', 's3cr%t-pw']);
  await nats.start();
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
});

afterAll(async () => {
  for (const p of procs.reverse()) await stopProc(p, 'SIGKILL');
  await nats?.stop();
  await redis?.stop();
});

describe('NATS user and password', () => {
  it('nats://user:pass@ works for agent and collector; a wrong password fails start-up without echoing it', async () => {
    const good = `nats://osp:${encodeURIComponent('s3cr%t-pw')}@127.0.0.1:${nats.port}`;
    const bad = `nats://osp:wrong-pw-123@127.0.0.1:${nats.port}`;
    const refused = spawnNode([COLLECTOR_DAEMON, '--nats', bad, '--backend', redis.url(), '--stream', names.stream, '--subject-prefix', names.prefix]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/--nats nats:\/\/osp:\*\*\*@127\.0\.0\.1:\d+: .*(Authorization|authorization|auth)/i);
    expect(refused.stderr()).not.toMatch(/wrong-pw-123/);

    const c = await startCollectorProc({ nats: good, backend: redis.url(), names, partitions: P });
    procs.push(c);
    expect(c.stderr()).not.toMatch(/s3cr/);
    const socket = join(tempDir('auth'), 'a.sock');
    procs.push(await startUpstreamAgent({ socket, nats: good, names, partitions: P }));
    const app = await startApp(`agent://${socket}`);
    procs.push(app);
    const { sent, failures } = await load(app.port, { concurrency: 2, maxRequests: 200, durationMs: 10_000 });
    expect(failures).toBe(0);
    expect((await flushApp(app.port)).pending).toBe(0);
    const expected = sentPoints(sent);
    let stored = await readStore(redis.port, sent);
    await waitFor('stored', async () => (stored = await readStore(redis.port, sent)).points.size >= expected.size, 20_000).catch(() => undefined);
    expect(stored.points.size).toBe(expected.size);
    expect(stored.duplicates).toBe(0);
  }, 60_000);
});
