// One trace begun by a Node service (agent:// → agent --upstream → NATS) and continued by
// a Python service on OSProfiler's messaging driver (oslo.messaging → RabbitMQ exchange
// `openstack`): the collector reads a queue of its own bound to that exchange, republishes
// into the stream by partition, and writes both halves to redis:// — one trace, every
// point once, one report (Python's own `osprofiler trace show` reads it). Python's
// `profiler.info` queue is left as it was. RabbitMQ vhost, NATS stream and redis-server
// are this test's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import amqp from 'amqplib';
import { configure, flush, get, run, shutdown, traced } from '@osprofiler/core';
import '@osprofiler/agent';
import { RedisServer } from '../../../tools/testing/redis-server';
import { RabbitVhost } from '../../drivers/test/support/rabbitmq';
import { peer, pythonCli, requirePythonOsprofiler } from '../../drivers/test/support/python';
import { Redis } from 'ioredis';
import { SHARED_NATS, dropJetStream, freePort, healthz, startCollectorProc, startUpstreamAgent, stopProc, tempDir, testNames, waitFor, type CollectorProc, type Proc } from './support/nats';

const P = 4;
const HMAC_KEY = 'mixed-secret';
const names = testNames('mixed');
const vhost = new RabbitVhost();
let redis: RedisServer;
let agent: Proc | undefined;
let collector: CollectorProc | undefined;

beforeAll(async () => {
  requirePythonOsprofiler();
  vhost.create();
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
});

afterAll(async () => {
  await shutdown().catch(() => undefined);
  if (collector) await stopProc(collector);
  if (agent) await stopProc(agent);
  await dropJetStream(SHARED_NATS, names.stream);
  await redis?.stop();
  vhost.delete();
});

describe('Python (messaging driver) and Node (agent://) in one trace', () => {
  it('is stored once, as one report', async () => {
    // A process of its own: the Python peer below runs synchronously and would stall an in-process collector.
    collector = await startCollectorProc({ nats: SHARED_NATS, backend: redis.url(), names, partitions: P, extra: ['--amqp', vhost.amqpUrl(), '--amqp-queue', names.queue] });
    const socket = join(tempDir('mixed'), 'agent.sock');
    agent = await startUpstreamAgent({ socket, nats: SHARED_NATS, names, partitions: P });
    configure({ connectionString: `agent://${socket}`, project: 'shop', service: 'orders', flushIntervalMs: 5 });
    const baseId = await run({ hmacKey: HMAC_KEY }, () =>
      traced('wsgi', { request: { method: 'GET', path: '/mixed', query: '', scheme: 'http' } }, async () => {
        const p = get()!;
        peer(['emit', '--key', HMAC_KEY, '--connection', 'messaging://', '--transport-url', vhost.transportUrl, '--base-id', p.baseId, '--parent-id', p.currentId, '--service', 'pysvc']);
        return p.baseId;
      }),
    );
    await flush();
    // Node: wsgi (2 notifications); Python: peer_emit > peer_outer > peer_inner > peer_leaf > db (10).
    const r = new Redis({ host: '127.0.0.1', port: redis.port });
    let stored: { trace_id: string; name: string }[] = [];
    await waitFor('both halves stored', async () => {
      stored = (await r.lrange(`osprofiler_opt:${baseId}`, 0, -1)).map((t) => JSON.parse(t) as { trace_id: string; name: string });
      return stored.length >= 12;
    }, 30_000).catch(() => undefined);
    r.disconnect();
    // Every notification once.
    const keys = stored.map((n) => `${n.trace_id} ${n.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(12);
    // One report, read by Python's own command from the store.
    const py = pythonCli(['trace', 'show', '--json', baseId, '--connection-string', `${redis.url(0)}`]);
    expect(py.stderr).toBe('');
    const report = JSON.parse(py.stdout);
    expect(report.children.map((c: { info: { name: string } }) => c.info.name)).toEqual(['wsgi']);
    expect(report.children[0].children[0].info).toMatchObject({ name: 'peer_emit', service: 'pysvc' });
    expect(Object.keys(report.stats).sort()).toEqual(['db', 'peer_emit', 'peer_inner', 'peer_leaf', 'peer_outer', 'wsgi']);
    expect((await healthz(collector.health)).metrics.amqpReceived).toBe(10);
    // Python's own profiler.info queue, if oslo.messaging declared it, still holds its copies.
    const conn = await amqp.connect(vhost.amqpUrl());
    const ch = await conn.createChannel();
    const q = await ch.checkQueue('profiler.info').catch(() => undefined);
    await conn.close().catch(() => undefined);
    if (q !== undefined) expect(q.messageCount).toBe(10);
    console.log(`mixed trace ${baseId}: ${keys.length} notifications stored once; profiler.info queue ${q === undefined ? 'not declared' : `still holds ${q.messageCount}`}`);
  }, 90_000);
});
