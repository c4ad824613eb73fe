/**
 * Creating what the collector needs in JetStream when it is missing (and `--init` alone):
 * the points stream (work-queue retention: a message is gone once a collector acked it;
 * max age and max bytes with discard-new, so a full stream refuses publishes — agents keep
 * their batches — instead of dropping stored ones), the dead-letter stream, one durable
 * pull consumer per partition, and the lease bucket. Only features of nats-server 2.9.
 */
import * as jsApi from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { partitionFilter } from '@osprofiler/agent';
import type { CollectorOptions } from './options';

type JS = typeof import('@nats-io/jetstream');

const ns = (ms: number): number => Math.round(ms * 1_000_000);

export function consumerName(stream: string, partition: number): string {
  return `${stream}_p${partition}`;
}

export function deadLetterStream(stream: string): string {
  return `${stream}_DEADLETTER`;
}

export function leaseBucket(o: Pick<CollectorOptions, 'stream' | 'leaseBucket'>): string {
  return o.leaseBucket ?? `${o.stream}_LEASES`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(String(e?.message ?? ''));
}

/** Adds a stream unless it exists; another collector creating it at the same moment is fine. */
async function addStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add(config);
  } catch (err) {
    await jsm.streams.info(config.name).catch(() => {
      throw err;
    });
  }
}

export async function ensureStreams(jsm: JetStreamManager, o: CollectorOptions, js: JS): Promise<void> {
  await addStream(jsm, {
    name: o.stream,
    subjects: [`${o.subjectPrefix}.points.>`],
    retention: js.RetentionPolicy.Workqueue,
    storage: js.StorageType.File,
    discard: js.DiscardPolicy.New,
    max_age: ns(o.streamMaxAgeMs),
    max_bytes: o.streamMaxBytes,
    duplicate_window: ns(o.duplicateWindowMs),
    num_replicas: 1,
  });
  // Dead letters are for people to look at: the oldest go when it is full.
  await addStream(jsm, {
    name: deadLetterStream(o.stream),
    subjects: [`${o.subjectPrefix}.deadletter.>`],
    retention: js.RetentionPolicy.Limits,
    storage: js.StorageType.File,
    discard: js.DiscardPolicy.Old,
    max_age: ns(7 * 86_400_000),
    max_bytes: Math.min(o.streamMaxBytes, 256 * 1024 * 1024),
    num_replicas: 1,
  });
}

export async function ensureConsumer(jsm: JetStreamManager, o: CollectorOptions, partition: number, js: JS): Promise<void> {
  const name = consumerName(o.stream, partition);
  try {
    await jsm.consumers.info(o.stream, name);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.consumers.add(o.stream, {
      durable_name: name,
      ack_policy: js.AckPolicy.Explicit,
      deliver_policy: js.DeliverPolicy.All,
      filter_subject: partitionFilter(o.subjectPrefix, partition),
      ack_wait: ns(o.ackWaitMs),
      max_ack_pending: o.maxAckPending,
      max_deliver: -1,
    });
  } catch (err) {
    // Another collector created it at the same moment.
    await jsm.consumers.info(o.stream, name).catch(() => {
      throw err;
    });
  }
}

export async function openLeaseBucket(nc: NatsConnection, o: CollectorOptions): Promise<KV> {
  return new Kvm(nc).create(leaseBucket(o), { history: 1 });
}

export async function ensureAll(nc: NatsConnection, jsm: JetStreamManager, o: CollectorOptions): Promise<KV> {
  await ensureStreams(jsm, o, jsApi);
  for (let p = 0; p < o.partitions; p++) await ensureConsumer(jsm, o, p, jsApi);
  return openLeaseBucket(nc, o);
}
