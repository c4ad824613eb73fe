/** Options of the collector (`osprofiler collector`, `startCollector`): one typed object, defaults here. */
import type { DriverOptions } from '@osprofiler/core';
import { DEFAULT_PARTITIONS, DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '@osprofiler/agent';
import type { Rules } from './rules';

export interface CollectorOptions {
  /** `nats://[user:pass@]host:4222[,…]` (`tls://` for TLS). */
  nats: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  /** The store's connection string (any scheme core's registry knows). */
  backend: string;
  /** JetStream stream holding the points (created when missing). */
  stream: string;
  /** Subjects `<prefix>.points.<project>.<partition>`, dead letters `<prefix>.deadletter.<partition>`. */
  subjectPrefix: string;
  /** Partition count (one durable pull consumer each); agents must use the same. */
  partitions: number;
  /** Rules: a JSON file path, or the object itself. */
  rules?: string | Rules;
  /** `127.0.0.1:PORT`: `/metrics` (Prometheus) and `/healthz`. */
  health?: string;
  /** This collector's id in the lease bucket (default: host name + pid + random). */
  collectorId?: string;
  /** KV bucket of partition leases (default `<stream>_LEASES`). */
  leaseBucket?: string;
  /** A lease not renewed for this long may be taken by another collector. */
  leaseTtlMs: number;
  /** How often leases are renewed and free partitions looked for. */
  leaseRenewMs: number;
  /** Consumer max_ack_pending: messages delivered and not yet acknowledged, per partition. */
  maxAckPending: number;
  /** Messages asked for per pull request (nats.js `consume({ max_messages })`). */
  fetchMessages: number;
  /** Points per store write at most (several messages are written together). */
  writeBatchPoints: number;
  /**
   * Points checked and not yet written, over all partitions, at most (a write bigger than
   * this goes alone): a partition waits for room before it checks its next batch.
   */
  maxPointsInFlight: number;
  /** Consumer ack_wait: a message not acknowledged by then is delivered again. */
  ackWaitMs: number;
  /** A message that failed to write this many times, while others of its partition were written, goes to dead-letter. */
  maxDeliver: number;
  /** Stream limits: age and size; a full stream refuses new messages (discard new). */
  streamMaxAgeMs: number;
  streamMaxBytes: number;
  /** JetStream duplicate window (Nats-Msg-Id). */
  duplicateWindowMs: number;
  /** How long redis:// duplicate markers live. */
  markerTtlSeconds: number;
  /** Validation limits. */
  maxPointBytes: number;
  maxMessagePoints: number;
  /** A compressed (schema 3) body may inflate to this many bytes at most. */
  maxInflatedBytes: number;
  /** A store write not done by then fails. */
  writeTimeoutMs: number;
  /** Store retry backoff while it fails. */
  retryMinMs: number;
  retryMaxMs: number;
  /** SIGTERM / stop(): time to finish the writes in hand and acknowledge them. */
  drainTimeoutMs: number;
  /** AMQP intake (Python's messaging driver): `amqp://user:pass@host:5672/vhost`. */
  amqp?: string;
  /** Exchange Python's notifier publishes to. */
  amqpExchange: string;
  /** The collector's own queue (durable), bound to the exchange; never Python's `profiler.info`. */
  amqpQueue: string;
  /** Routing key bound (Python: `profiler.info`). */
  amqpRoutingKey: string;
  /** Options for the store's driver. */
  driverOptions: Partial<DriverOptions>;
}

export const DEFAULT_COLLECTOR_OPTIONS: Readonly<Omit<CollectorOptions, 'nats' | 'backend'>> = {
  stream: DEFAULT_STREAM,
  subjectPrefix: DEFAULT_SUBJECT_PREFIX,
  partitions: DEFAULT_PARTITIONS,
  leaseTtlMs: 6_000,
  leaseRenewMs: 1_500,
  maxAckPending: 4_096,
  fetchMessages: 512,
  writeBatchPoints: 5_000,
  maxPointsInFlight: 3_000,
  ackWaitMs: 15_000,
  maxDeliver: 5,
  streamMaxAgeMs: 24 * 3600_000,
  streamMaxBytes: 1024 * 1024 * 1024,
  duplicateWindowMs: 120_000,
  markerTtlSeconds: 7 * 86_400,
  maxPointBytes: 256 * 1024,
  maxMessagePoints: 100_000,
  maxInflatedBytes: 64 * 1024 * 1024,
  writeTimeoutMs: 15_000,
  retryMinMs: 100,
  retryMaxMs: 5_000,
  drainTimeoutMs: 10_000,
  amqpExchange: 'openstack',
  amqpQueue: 'osprofiler-collector',
  amqpRoutingKey: 'profiler.info',
  driverOptions: {},
};

export type CollectorOptionsInput = Pick<CollectorOptions, 'nats' | 'backend'> & Partial<CollectorOptions>;
