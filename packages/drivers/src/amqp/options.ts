/** `amqp://[user[:password]@]host[:port][/vhost][?exchange=openstack&durable=false&…]` */
import type { DriverOptions } from '@osprofiler/core';
import { parseDurationMs } from '../duration';
import { optionError } from '../errors';

export interface AmqpSettings {
  /** The topic exchange (oslo.messaging's `control_exchange`). */
  exchange: string;
  /** Declare exchange and queue durable (oslo.messaging's `amqp_durable_queues`); must match what the broker already has. */
  durable: boolean;
  /** Also declare and bind the `profiler.info` queue, as oslo.messaging's notifier does, so nothing is lost before a reader exists. */
  declareQueue: boolean;
  /** The message's `publisher_id` (Python: the driver's host). */
  publisherId: string;
  connectTimeoutMs: number;
  /** AMQP heartbeat in seconds (0 = none). */
  heartbeatSeconds: number;
}

export const DEFAULT_AMQP_SETTINGS: Readonly<Omit<AmqpSettings, 'publisherId'>> = {
  exchange: 'openstack',
  durable: false,
  declareQueue: true,
  connectTimeoutMs: 5000,
  heartbeatSeconds: 60,
};

/** oslo.messaging notifications: topic `profiler`, priority `info`. */
export const ROUTING_KEY = 'profiler.info';

const KNOWN = ['exchange', 'durable', 'declare_queue', 'publisher_id', 'connect_timeout', 'heartbeat'];

function bool(scheme: string, name: string, v: string | null, fallback: boolean): boolean {
  if (v === null) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw optionError(scheme, `${name}="${v}" must be true or false`);
}

export function amqpSettings(url: URL, options: Partial<DriverOptions> = {}): AmqpSettings {
  const scheme = url.protocol.slice(0, -1);
  const q = url.searchParams;
  for (const key of q.keys()) if (!KNOWN.includes(key)) throw optionError(scheme, `unknown option "${key}" (known: ${KNOWN.join(', ')})`);
  const d = DEFAULT_AMQP_SETTINGS;
  const timeout = q.get('connect_timeout');
  const connectTimeoutMs = timeout === null ? d.connectTimeoutMs : parseDurationMs(timeout);
  if (connectTimeoutMs === undefined) throw optionError(scheme, `connect_timeout="${timeout}" is not a duration`);
  const heartbeat = Number(q.get('heartbeat') ?? d.heartbeatSeconds);
  if (!Number.isInteger(heartbeat) || heartbeat < 0) throw optionError(scheme, 'heartbeat must be a whole number of seconds');
  const exchange = q.get('exchange') ?? d.exchange;
  if (exchange === '') throw optionError(scheme, 'exchange must not be empty');
  return {
    exchange,
    durable: bool(scheme, 'durable', q.get('durable'), d.durable),
    declareQueue: bool(scheme, 'declare_queue', q.get('declare_queue'), d.declareQueue),
    publisherId: q.get('publisher_id') ?? options.host ?? 'localhost',
    connectTimeoutMs,
    heartbeatSeconds: heartbeat,
  };
}
