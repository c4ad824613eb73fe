/**
 * `amqp://` driver: publishes each notification as Python OSProfiler's messaging driver
 * does through oslo.messaging (wire spec §6): exchange `openstack` (topic), routing key
 * `profiler.info`, event type `profiler.<service>`, the bare v1.0 message dict. Python
 * services and ours then feed the same queue, and Python's `messaging://` reader (or our
 * collector, on a queue of its own) reads both.
 *
 * Write-only: reading the shared `profiler.info` queue is destructive (it acks every
 * message, of every trace), so getReport/listTraces refuse; read from the store a
 * consumer writes to.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { DriverOptions, Notification } from '@osprofiler/core';
import type { DriverFactory } from '@osprofiler/core/instrument';
import { connectError, endpointOf } from '../errors';
import { IdleUnref, type Unrefable } from '../idle-unref';
import { newCounters, type DriverCounters } from '../inflight';
import { WriteOnlyDriver } from '../write-only';
import { requirePeer } from '../optional';
import { MESSAGE_PROPERTIES, notificationBody } from './message';
import { amqpSettings, ROUTING_KEY, type AmqpSettings } from './options';

type Amqplib = typeof import('amqplib');

interface Link {
  connection: ChannelModel;
  channel: ConfirmChannel;
}

export class AmqpDriver extends WriteOnlyDriver {
  protected readonly readHint =
    'amqp:// is write-only: reading the shared profiler.info queue would consume every trace in it. ' +
    'Read traces from the store a consumer writes them to (or with Python: osprofiler trace show --connection-string messaging:// --transport-url rabbit://…)';
  readonly scheme = 'amqp';
  readonly counters: DriverCounters = newCounters();
  private readonly keep = new IdleUnref();
  private link: Link | undefined;
  private connecting: Promise<Link> | undefined;

  /** Use `createAmqpDriver` (it connects and declares first). */
  constructor(
    readonly settings: Readonly<AmqpSettings>,
    /** `host:port/vhost`, for messages. */
    readonly endpoint: string,
    private readonly open: () => Promise<Link>,
    link: Link,
  ) {
    super();
    this.adopt(link);
  }

  private adopt(link: Link): void {
    this.link = link;
    // amqplib internals (no public API): the socket, and the heartbeat timers, which must
    // not keep the process alive either.
    const inner = (link.connection as unknown as { connection?: { stream?: Unrefable; heartbeater?: { sendTimer?: NodeJS.Timeout; recvTimer?: NodeJS.Timeout } } }).connection;
    this.keep.add(inner?.stream);
    inner?.heartbeater?.sendTimer?.unref?.();
    inner?.heartbeater?.recvTimer?.unref?.();
    const lost = (): void => {
      if (this.link === link) this.link = undefined;
    };
    link.connection.on('error', () => this.counters.connectionErrors++);
    link.connection.on('close', lost);
    link.channel.on('error', () => this.counters.connectionErrors++);
    link.channel.on('close', lost);
  }

  /** The open link, reconnecting (once per call) after a lost connection. */
  private async current(): Promise<Link> {
    if (this.link !== undefined) return this.link;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    const link = await this.connecting;
    if (this.link !== link) this.adopt(link);
    return link;
  }

  notify(batch: readonly Notification[]): Promise<void> {
    if (this.closed) throw new Error(`amqp:// driver for ${this.endpoint} is closed`);
    if (batch.length === 0) return Promise.resolve();
    // Serialise now: the caller may reuse its objects once we return.
    const nowMs = Date.now();
    const bodies = batch.map((n) => notificationBody(n, { publisherId: this.settings.publisherId, nowMs }));
    return this.inflight.track(this.keep.run(() => this.publish(bodies)));
  }

  private async publish(bodies: Buffer[]): Promise<void> {
    try {
      const { channel } = await this.current();
      for (const body of bodies) {
        if (!channel.publish(this.settings.exchange, ROUTING_KEY, body, { ...MESSAGE_PROPERTIES, headers: {} })) {
          await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
        }
      }
      // Stored once the broker confirms every message (a nack rejects).
      await channel.waitForConfirms();
    } catch (err) {
      this.counters.failed += bodies.length;
      throw err;
    }
    this.counters.written += bodies.length;
    this.counters.batches++;
  }


  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) await this.keep.run(() => link.connection.close()).catch(() => undefined);
  }
}

/** Connects, opens a confirm channel and declares exchange (and queue) as oslo.messaging does. */
export async function createAmqpDriver(url: URL, options: Partial<DriverOptions> = {}): Promise<AmqpDriver> {
  const settings = amqpSettings(url, options);
  const scheme = url.protocol.slice(0, -1);
  const endpoint = `${endpointOf(url, 5672)}${url.pathname === '' ? '/' : url.pathname}`;
  const amqp = requirePeer<Amqplib>('amqplib', scheme);
  const clientUrl = new URL(url.href);
  clientUrl.search = '';
  const open = async (): Promise<Link> => {
    const connection = await amqp.connect(
      {
        protocol: 'amqp',
        hostname: url.hostname === '' ? 'localhost' : url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? 5672 : Number(url.port),
        username: url.username === '' ? 'guest' : decodeURIComponent(url.username),
        password: url.username === '' ? 'guest' : decodeURIComponent(url.password),
        vhost: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/',
        heartbeat: settings.heartbeatSeconds,
      },
      { timeout: settings.connectTimeoutMs },
    );
    // Until adopted by the driver, swallow errors (a failed start-up is reported by the rejection).
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      // Exactly oslo.messaging's declarations (impl_rabbit notify_send): a mismatch with what
      // Python services declared would close the channel with PRECONDITION_FAILED.
      await channel.assertExchange(settings.exchange, 'topic', { durable: settings.durable, autoDelete: false });
      if (settings.declareQueue) {
        await channel.assertQueue(ROUTING_KEY, { durable: settings.durable, autoDelete: false });
        await channel.bindQueue(ROUTING_KEY, settings.exchange, ROUTING_KEY);
      }
      return { connection, channel };
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  };
  let link: Link;
  try {
    link = await open();
  } catch (err) {
    throw connectError(scheme, endpoint, err);
  }
  return new AmqpDriver(settings, endpoint, open, link);
}

export const amqpDriverFactory: DriverFactory = (url, options) => createAmqpDriver(url, options);
