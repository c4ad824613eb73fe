/**
 * `startCollector(options)`: connects to NATS and the store, creates the stream, the
 * per-partition consumers and the lease bucket when missing, then runs one worker per
 * partition it holds a lease for. Optional: AMQP intake (Python's messaging driver),
 * whole-trace keep rules, health and Prometheus metrics. stop() (SIGTERM) gives the
 * partitions back after finishing and acknowledging the writes in hand.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { recordFailure, redactConnectionString, scrubSecrets } from '@osprofiler/core/instrument';
import { checkNatsFiles, checkSubjectPrefix, connectNats, startHealthServer, type HealthServer } from '@osprofiler/agent';
import { AmqpIntake } from './amqp';
import { CollectorError } from './errors';
import { Keeper } from './keep';
import { Leases } from './leases';
import { newMetrics, prometheusText, type CollectorMetrics } from './metrics';
import { DEFAULT_COLLECTOR_OPTIONS, type CollectorOptions, type CollectorOptionsInput } from './options';
import { PointGate } from './gate';
import { PartitionWorker, type WorkerContext } from './partition';
import { loadRules } from './rules';
import { consumerName, ensureAll } from './setup';
import { Store } from './store';

export interface CollectorHandle {
  readonly id: string;
  readonly options: Readonly<CollectorOptions>;
  readonly metrics: Readonly<CollectorMetrics>;
  readonly healthAddress: string | undefined;
  /** Partitions this collector holds now. */
  partitions(): number[];
  metricsText(): string;
  stop(): Promise<void>;
  readonly stopped: Promise<void>;
}

function bad(field: string, message: string): never {
  throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', `${field}: ${message}`);
}

export function checkOptions(o: CollectorOptions): void {
  if (!o.nats) bad('--nats', 'the collector needs a NATS url (--nats nats://127.0.0.1:4222)');
  if (!o.backend) bad('--backend', 'the collector needs a store (--backend redis://127.0.0.1:6379)');
  if (!checkSubjectPrefix(o.subjectPrefix)) bad('--subject-prefix', `"${o.subjectPrefix}" must be NATS subject tokens of [A-Za-z0-9_-] joined by dots`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.stream)) bad('--stream', `"${o.stream}" must be 1-64 of [A-Za-z0-9_-]`);
  if (!Number.isInteger(o.partitions) || o.partitions < 1 || o.partitions > 1024) bad('--partitions', `${o.partitions} must be an integer from 1 to 1024`);
  if (o.leaseRenewMs * 2 > o.leaseTtlMs) bad('leaseRenewMs', 'must be at most half of leaseTtlMs');
  if (o.collectorId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(o.collectorId)) bad('--id', `"${o.collectorId}" must be 1-64 of [A-Za-z0-9_-]`);
  try {
    checkNatsFiles(natsAccess(o, ''));
  } catch (err) {
    throw new CollectorError('OSP_COLLECTOR_BAD_OPTION', (err as Error).message);
  }
}

function natsAccess(o: CollectorOptions, name: string) {
  return { url: o.nats, credsFile: o.natsCreds, tlsCa: o.natsTlsCa, tlsCert: o.natsTlsCert, tlsKey: o.natsTlsKey, name };
}

/** `--init`: creates the stream, dead-letter stream, consumers and lease bucket, then returns. */
export async function initCollector(input: CollectorOptionsInput): Promise<void> {
  const o: CollectorOptions = { ...DEFAULT_COLLECTOR_OPTIONS, ...input, backend: input.backend || 'none://' };
  checkOptions(o);
  const nc = await connectNats(natsAccess(o, 'osprofiler-collector --init'));
  try {
    await ensureAll(nc, await jetstreamManager(nc), o);
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

export async function startCollector(input: CollectorOptionsInput): Promise<CollectorHandle> {
  const o: CollectorOptions = { ...DEFAULT_COLLECTOR_OPTIONS, ...input };
  checkOptions(o);
  const rules = loadRules(o.rules);
  const id = o.collectorId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const metrics = newMetrics();

  const store = new Store(o.backend, o.driverOptions, o.writeTimeoutMs, o.markerTtlSeconds);
  try {
    await store.open();
  } catch (err) {
    throw new CollectorError('OSP_COLLECTOR_START', `--backend: ${(err as Error).message}`);
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(natsAccess(o, `osprofiler-collector ${id}`));
  } catch (err) {
    await store.close();
    throw new CollectorError('OSP_COLLECTOR_START', `--nats ${redactConnectionString(o.nats)}: ${scrubSecrets((err as Error).message, o.nats)}`);
  }
  let jsm: JetStreamManager;
  let kv;
  try {
    jsm = await jetstreamManager(nc);
    kv = await ensureAll(nc, jsm, o);
  } catch (err) {
    await nc.close();
    await store.close();
    throw new CollectorError('OSP_COLLECTOR_START', `JetStream set-up failed: ${(err as Error).message}`);
  }
  const js = jetstream(nc);
  const keeper = rules.keep === undefined ? undefined : new Keeper(rules.keep, store, metrics);
  const storeState = { up: true, failures: 0, lastOk: 0 };
  const workers = new Map<number, PartitionWorker>();
  // eslint-disable-next-line prefer-const
  let leases: Leases;
  const ctx: WorkerContext = {
    js,
    options: o,
    store,
    rules: rules.changesPoints ? rules : undefined,
    keeper,
    metrics,
    valid: (p) => leases.valid(p),
    storeState,
    failedAt: new Map(),
    consumerName: (p) => consumerName(o.stream, p),
    headers,
    gate: new PointGate(o.maxPointsInFlight),
  };
  leases = new Leases(kv, id, o.partitions, o.leaseTtlMs, {
    acquire(p) {
      const w = new PartitionWorker(p, ctx);
      workers.set(p, w);
      w.start().catch((err: unknown) => recordFailure('collector.partition.start', err));
    },
    async release(p) {
      const w = workers.get(p);
      workers.delete(p);
      await w?.stop(o.drainTimeoutMs);
      keeper?.forget(p);
    },
    lost(p) {
      const w = workers.get(p);
      workers.delete(p);
      void w?.stop(0);
      keeper?.forget(p);
    },
  }, metrics);

  // The lease loop: one tick at a time.
  let stopping = false;
  let ticking: Promise<void> = Promise.resolve();
  const lag = new Map<number, number>();
  let lastLag = 0;
  const tick = async (): Promise<void> => {
    try {
      await leases.tick();
    } catch (err) {
      recordFailure('collector.leases', err);
    }
    if (Date.now() - lastLag > 5000) {
      lastLag = Date.now();
      lag.clear();
      for (const p of leases.partitionsHeld) {
        try {
          const ci = await jsm.consumers.info(o.stream, consumerName(o.stream, p));
          lag.set(p, ci.num_pending + ci.num_ack_pending);
        } catch {
          // not now
        }
      }
    }
  };
  const schedule = (): void => {
    if (stopping) return;
    timer = setTimeout(() => {
      ticking = tick().finally(schedule);
    }, o.leaseRenewMs);
  };
  let timer: NodeJS.Timeout | undefined;
  ticking = tick().finally(schedule);

  let amqp: AmqpIntake | undefined;
  if (o.amqp !== undefined) {
    amqp = new AmqpIntake(o, js, headers, metrics, id);
    try {
      await amqp.start();
    } catch (err) {
      stopping = true;
      clearTimeout(timer);
      await ticking;
      await leases.releaseAll();
      await nc.close();
      await store.close();
      throw new CollectorError('OSP_COLLECTOR_START', `--amqp: ${(err as Error).message}`);
    }
  }

  const gauges = () => ({ leasesHeld: leases.partitionsHeld.length, lag, heldPoints: keeper?.held ?? 0, storeUp: storeState.up, natsConnected: !nc.isClosed() });
  const metricsText = (): string => prometheusText(metrics, gauges());
  let health: HealthServer | undefined;
  if (o.health !== undefined) {
    health = await startHealthServer(o.health, metricsText, () => ({ status: 'ok', id, partitions: leases.partitionsHeld, ...gauges(), lag: Object.fromEntries(lag), metrics }));
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopPromise ??= (async () => {
      stopping = true;
      clearTimeout(timer);
      await amqp?.stop();
      await ticking;
      // Finish and acknowledge the writes in hand, decide held traces, give partitions back.
      await Promise.all([...workers.values()].map((w) => w.stop(o.drainTimeoutMs)));
      await keeper?.flush();
      workers.clear();
      await leases.releaseAll().catch((err: unknown) => recordFailure('collector.leases', err));
      await nc.flush().catch(() => undefined); // the acks leave before the connection goes
      await nc.drain().catch(() => nc.close());
      await store.close();
      await health?.close();
      resolveStopped();
    })());

  return {
    id,
    options: o,
    metrics,
    healthAddress: health?.address,
    partitions: () => leases.partitionsHeld,
    metricsText,
    stop,
    stopped,
  };
}
