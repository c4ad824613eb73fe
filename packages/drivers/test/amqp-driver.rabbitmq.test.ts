/**
 * amqp:// against the real RabbitMQ (127.0.0.1:5672, a vhost of its own): messages exactly
 * as oslo.messaging sends Python OSProfiler's notifications, read back by Python's own
 * messaging:// reader. Fails (never skips) without Python OSProfiler and oslo.messaging.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import amqp from 'amqplib';
import { buildReport, configure, createDriver, flush, formatReportJson, get, pyDumps, run, shutdown, traced } from '@osprofiler/core';
import type { Driver, Notification } from '@osprofiler/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../src/register'; // registers amqp:// with core
import { AmqpDriver } from '../src/index';
import { RabbitVhost } from './support/rabbitmq';
import { peer, pythonCli, requirePythonOsprofiler } from './support/python';
import { everyKind, HMAC_KEY, inTrace } from './support/trace';

const vhost = new RabbitVhost();
let conn: amqp.ChannelModel;
let ch: amqp.Channel;
let queue: string;

interface Got {
  body: string;
  properties: amqp.MessageProperties;
  fields: amqp.MessageFields;
}
const received: Got[] = [];

/** Our own queue on the same exchange and routing key, as a collector would bind. */
async function listen(): Promise<void> {
  conn = await amqp.connect(vhost.amqpUrl());
  ch = await conn.createChannel();
  await ch.assertExchange('openstack', 'topic', { durable: false, autoDelete: false });
  queue = (await ch.assertQueue('', { exclusive: true })).queue;
  await ch.bindQueue(queue, 'openstack', 'profiler.info');
  await ch.consume(queue, (m) => m && received.push({ body: m.content.toString('utf8'), properties: m.properties, fields: m.fields }), { noAck: true });
}

beforeAll(async () => {
  requirePythonOsprofiler();
  vhost.create();
  await listen();
});
afterAll(async () => {
  await shutdown();
  await conn?.close().catch(() => undefined);
  vhost.delete();
});

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function take(baseId: string): Got[] {
  const mine = received.filter((g) => (JSON.parse(g.body) as { payload: { base_id: string } }).payload.base_id === baseId);
  for (const g of mine) received.splice(received.indexOf(g), 1);
  return mine;
}

const n1: Notification = {
  name: 'rpc-start',
  base_id: '11111111-2222-4333-8444-555555555555',
  trace_id: '0d07cccb-bc9d-4e0e-9fb7-d56989c8d14e',
  parent_id: '11111111-2222-4333-8444-555555555555',
  timestamp: '2026-11-23T02:38:11.450126',
  info: { function: { name: 'mod.fn é' }, host: 'vm' },
  project: 'myproject',
  service: 'myservice',
};

describe('amqp:// messages (wire spec §6)', () => {
  it('publish the bare v1.0 message dict, as oslo.messaging does for Python', async () => {
    const driver = (await createDriver(vhost.amqpUrl(), { host: 'myhost' })) as AmqpDriver;
    const before = Date.now();
    await driver.notify([n1, { ...n1, name: 'rpc-stop', service: null }]);
    await driver.close();
    await waitFor(() => received.length >= 2);
    const [a, b] = take(n1.base_id);
    const msg = JSON.parse(a.body) as Record<string, unknown>;
    expect(Object.keys(msg)).toEqual(['message_id', 'publisher_id', 'event_type', 'priority', 'payload', 'timestamp', '_unique_id']);
    expect(msg).toMatchObject({ publisher_id: 'myhost', event_type: 'profiler.myservice', priority: 'INFO', payload: n1 });
    expect(msg.message_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(msg._unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(msg.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
    expect(Date.parse(String(msg.timestamp).replace(' ', 'T') + 'Z')).toBeGreaterThanOrEqual(before - 1000);
    // Python's json.dumps text, key for key (ensure_ascii: é is \u00e9).
    expect(a.body).toBe(pyDumps(msg));
    expect(a.body).toContain('"payload": {"name": "rpc-start", "base_id": "11111111-2222-4333-8444-555555555555"');
    expect(a.body).toContain('"name": "mod.fn \\u00e9"');
    expect(JSON.parse(b.body).event_type).toBe('profiler.None'); // "profiler.%s" % None
    expect(a.fields).toMatchObject({ exchange: 'openstack', routingKey: 'profiler.info' });
  });

  it("has the same exchange, routing key and properties as Python's messaging driver", async () => {
    const pyBase = peer(['emit', '--key', HMAC_KEY, '--connection', 'messaging://', '--transport-url', vhost.transportUrl, '--service', 'pysvc']).trim();
    await waitFor(() => received.some((g) => g.body.includes(pyBase)));
    await new Promise((r) => setTimeout(r, 200));
    const py = take(pyBase);
    expect(py).toHaveLength(10);
    const driver = await createDriver(vhost.amqpUrl(), { host: 'myhost' });
    await driver.notify([{ ...n1, base_id: randomUUID() }]);
    await driver.close();
    await waitFor(() => received.length >= 1);
    const ours = received.splice(0, received.length);
    const pyMsg = JSON.parse(py[0].body) as Record<string, unknown>;
    const ourMsg = JSON.parse(ours[0].body) as Record<string, unknown>;
    expect(Object.keys(ourMsg)).toEqual(Object.keys(pyMsg));
    expect(ourMsg.priority).toBe(pyMsg.priority);
    expect(py[0].body).toBe(pyDumps(pyMsg)); // Python's body is json.dumps text, as ours
    const props = (g: Got) => ({ ...g.properties, messageId: undefined, timestamp: undefined });
    expect(props(ours[0])).toEqual(props(py[0]));
    expect({ ...ours[0].fields, deliveryTag: 0, consumerTag: '' }).toEqual({ ...py[0].fields, deliveryTag: 0, consumerTag: '' });
  });
});

describe("Python's messaging:// reader", () => {
  afterEach(() => shutdown());

  // Each read consumes the queue (as Python's reader does), so one read per trace.
  function pyShow(format: '--json', baseId: string) {
    return pythonCli(['trace', 'show', format, baseId, '--connection-string', 'messaging://', '--transport-url', vhost.transportUrl]);
  }

  it('reads a trace Node published: byte-identical to our report of the same events in arrival order', async () => {
    const sent: Notification[] = [];
    const amqpDriver = await createDriver(vhost.amqpUrl());
    const tee: Driver = {
      scheme: 'tee',
      async notify(batch) {
        sent.push(...batch.map((n) => JSON.parse(pyDumps(n)) as Notification));
        await amqpDriver.notify(batch);
      },
      getReport: (id) => amqpDriver.getReport(id),
      listTraces: () => amqpDriver.listTraces(),
      listErrorTraces: () => amqpDriver.listErrorTraces(),
      flush: (t) => amqpDriver.flush(t),
      close: () => amqpDriver.close(),
    };
    configure({ driver: tee, project: 'shop', service: 'orders', flushIntervalMs: 5 });
    const baseId = await inTrace(everyKind);
    await flush();
    const py = pyShow('--json', baseId);
    expect(py.stderr).toBe('');
    // The reader appends messages as they arrive (oldest first), then builds the same report.
    expect(py.stdout).toBe(formatReportJson(buildReport(sent.filter((n) => n.base_id === baseId))) + '\n');
    expect(JSON.parse(py.stdout).children[0].info.name).toBe('wsgi');
    take(baseId);
  });

  it('one trace begun in Node and continued by Python on the same exchange: one report', async () => {
    configure({ connectionString: vhost.amqpUrl(), project: 'shop', service: 'orders', flushIntervalMs: 5 });
    const baseId = await run({ hmacKey: HMAC_KEY }, () =>
      traced('wsgi', { request: { method: 'GET', path: '/mixed', query: '', scheme: 'http' } }, async () => {
        const p = get()!;
        peer(['emit', '--key', HMAC_KEY, '--connection', 'messaging://', '--transport-url', vhost.transportUrl, '--base-id', p.baseId, '--parent-id', p.currentId, '--service', 'pysvc']);
        return p.baseId;
      }),
    );
    await flush();
    const py = pyShow('--json', baseId);
    expect(py.stderr).toBe('');
    const report = JSON.parse(py.stdout);
    expect(report.children.map((c: { info: { name: string } }) => c.info.name)).toEqual(['wsgi']);
    expect(report.children[0].children[0].info).toMatchObject({ name: 'peer_emit', service: 'pysvc' });
    expect(Object.keys(report.stats)).toEqual(expect.arrayContaining(['wsgi', 'peer_emit', 'peer_outer', 'peer_inner', 'peer_leaf', 'db']));
    take(baseId);
  });
});

describe('amqp:// failures', () => {
  it('start-up failure names the scheme and host, never the password', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const err = (await createDriver(`amqp://guest:s3cr%40t-pw@127.0.0.1:${port}/x`).catch((e: Error) => e)) as Error & { code?: string };
    expect(err.code).toBe('OSP_DRIVER_CONNECT');
    expect(err.message).toContain(`amqp:// storage at 127.0.0.1:${port}/x`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toMatch(/s3cr/);
  });

  it('a declaration that contradicts the broker (durable vs not) fails at start-up', async () => {
    await expect(createDriver(vhost.amqpUrl('?durable=true'))).rejects.toThrow(/PRECONDITION_FAILED/);
  });

  it('is write-only: reading is refused with a pointer to what to read instead', async () => {
    const driver = await createDriver(vhost.amqpUrl());
    await expect(driver.getReport(n1.base_id)).rejects.toThrow(/write-only/);
    await expect(driver.listTraces()).rejects.toThrow(/write-only/);
    await driver.close();
  });

  it('reconnects after the broker closed its connection; the write in between fails and is counted', async () => {
    const driver = (await createDriver(vhost.amqpUrl())) as AmqpDriver;
    try {
      vhost.closeConnections(); // ours and the test's listener
      await waitFor(() => (driver as unknown as { link?: unknown }).link === undefined, 15_000);
      await listen();
      const baseId = randomUUID();
      await driver.notify([{ ...n1, base_id: baseId }]).catch(() => undefined);
      await driver.notify([{ ...n1, base_id: baseId, name: 'rpc-stop' }]);
      expect(driver.counters.written).toBeGreaterThanOrEqual(1);
      expect(driver.counters.written + driver.counters.failed).toBe(2);
      await waitFor(() => received.filter((g) => g.body.includes(baseId)).length >= driver.counters.written);
      take(baseId);
    } finally {
      await driver.close();
    }
  }, 30_000);
});
