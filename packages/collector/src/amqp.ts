/**
 * AMQP intake: Python services on OSProfiler's messaging driver publish each point to the
 * `openstack` exchange with routing key `profiler.info`. The collector reads a durable
 * queue of its OWN bound to that exchange and key (so Python's own `profiler.info` queue
 * and its reader are never touched: each bound queue gets its copy), and republishes every
 * notification into the stream by project and partition, like an agent — so a trace that
 * mixes Python and Node services stays in one partition. The AMQP message is acknowledged
 * after JetStream acknowledged the republished one; the NATS message id
 * (`amqp:<message_id>`) makes a redelivered AMQP message a JetStream duplicate.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { recordFailure } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { UPSTREAM_SCHEMA_VERSION, UpstreamHeaders, deadLetterSubject, notificationText, partitionOf, pointsSubject } from '@osprofiler/agent';
import { CollectorError } from './errors';
import type { CollectorMetrics } from './metrics';
import type { CollectorOptions } from './options';

type Amqplib = typeof import('amqplib');

/** The notification inside an oslo.messaging body (v1.0 bare dict, or the v2.0 `oslo.message` envelope). */
export function notificationOf(body: Buffer): { n: Notification; id: string } | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(body.toString('utf8'));
    if (msg !== null && typeof msg === 'object' && typeof (msg as Record<string, unknown>)['oslo.message'] === 'string') {
      msg = JSON.parse((msg as Record<string, string>)['oslo.message']);
    }
  } catch {
    return undefined;
  }
  if (msg === null || typeof msg !== 'object') return undefined;
  const m = msg as Record<string, unknown>;
  const n = m.payload as Record<string, unknown> | undefined;
  if (n === null || typeof n !== 'object' || typeof n.base_id !== 'string' || typeof n.name !== 'string' || typeof n.trace_id !== 'string') return undefined;
  const id = typeof m.message_id === 'string' ? m.message_id : typeof m._unique_id === 'string' ? m._unique_id : `${n.trace_id}/${n.name}`;
  return { n: n as unknown as Notification, id };
}

export class AmqpIntake {
  private conn: ChannelModel | undefined;
  private channel: Channel | undefined;
  private tag: string | undefined;
  private inflight = new Set<Promise<void>>();

  constructor(
    private readonly o: CollectorOptions,
    private readonly js: JetStreamClient,
    private readonly headers: () => MsgHdrs,
    private readonly metrics: CollectorMetrics,
    private readonly collectorId: string,
  ) {}

  async start(): Promise<void> {
    let amqp: Amqplib;
    try {
      // An optional peer: loaded only with --amqp.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      amqp = require('amqplib') as Amqplib;
    } catch {
      throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', '--amqp needs the amqplib package: npm install amqplib');
    }
    const o = this.o;
    if (o.amqpQueue === o.amqpRoutingKey) throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', `--amqp-queue "${o.amqpQueue}" is Python's own queue; the collector needs a queue of its own`);
    this.conn = await amqp.connect(o.amqp as string);
    this.conn.on('error', (err: unknown) => recordFailure('collector.amqp', err));
    const ch = await this.conn.createChannel();
    this.channel = ch;
    // Declared as oslo.messaging declares it (topic, not durable: amqp_durable_queues=False);
    // a broker holding it with other settings refuses, and start-up fails saying so.
    await ch.assertExchange(o.amqpExchange, 'topic', { durable: false, autoDelete: false });
    const c = ch;
    await c.assertQueue(o.amqpQueue, { durable: true, autoDelete: false });
    await c.bindQueue(o.amqpQueue, o.amqpExchange, o.amqpRoutingKey);
    await c.prefetch(256);
    const r = await c.consume(o.amqpQueue, (msg) => {
      if (msg === null) return;
      const p = this.onMessage(c, msg).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
    this.tag = r.consumerTag;
  }

  private async onMessage(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const o = this.o;
    const got = notificationOf(msg.content);
    if (got === undefined) {
      this.metrics.amqpBad++;
      try {
        const h = this.headers();
        h.set(UpstreamHeaders.REASON, 'amqp: not an OSProfiler notification (oslo.messaging dict with payload.base_id, name, trace_id)');
        h.set(UpstreamHeaders.SOURCE_SUBJECT, `amqp:${o.amqpQueue}`);
        await this.js.publish(deadLetterSubject(o.subjectPrefix, 'amqp'), msg.content, { headers: h });
        this.metrics.deadLetters.amqp++;
        ch.ack(msg);
      } catch (err) {
        recordFailure('collector.amqp.deadletter', err);
        setTimeout(() => ch.nack(msg, false, true), 1000).unref();
      }
      return;
    }
    const { n, id } = got;
    const line = notificationText(n);
    const info = n.info as Record<string, unknown> | null | undefined;
    const isError = info !== null && typeof info === 'object' && info.etype !== undefined && info.etype !== null;
    const body = Buffer.allocUnsafe(5 + (isError ? 4 : 0) + Buffer.byteLength(line, 'utf8') + 1);
    body[0] = 0x4c;
    body.writeUInt32BE(isError ? 1 : 0, 1);
    let off = 5;
    if (isError) off = body.writeUInt32BE(0, off);
    off += body.write(line, off, 'utf8');
    body[off] = 0x0a;
    const subject = pointsSubject(o.subjectPrefix, typeof n.project === 'string' ? n.project : null, partitionOf(n.base_id, o.partitions));
    const h = this.headers();
    h.set(UpstreamHeaders.SCHEMA, UPSTREAM_SCHEMA_VERSION);
    h.set(UpstreamHeaders.AGENT, `amqp-${this.collectorId}`);
    h.set(UpstreamHeaders.POINTS, '1');
    try {
      await this.js.publish(subject, body, { msgID: `amqp:${id}`, headers: h });
      this.metrics.amqpReceived++;
      ch.ack(msg);
    } catch (err) {
      // NATS away or the stream full: the message goes back to the queue, a bit later.
      recordFailure('collector.amqp.publish', err);
      setTimeout(() => ch.nack(msg, false, true), 1000).unref();
    }
  }

  async stop(): Promise<void> {
    const ch = this.channel;
    if (ch !== undefined && this.tag !== undefined) await ch.cancel(this.tag).catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
    await this.conn?.close().catch(() => undefined);
  }
}
