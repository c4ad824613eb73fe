/** The collector's counters and their Prometheus text (names `osprofiler_collector_*`). */

export type DeadReason = 'schema' | 'body' | 'point' | 'partition' | 'write' | 'amqp';

/** Write latency buckets (seconds). */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface CollectorMetrics {
  /** Messages taken from JetStream (redeliveries included). */
  messages: number;
  /** Messages delivered more than once. */
  redeliveries: number;
  /** Messages acknowledged (written, dead-lettered or skipped as duplicates). */
  acks: number;
  /** Points written to the store. */
  written: number;
  /** Messages found already written (redis:// marker) and not written again. */
  duplicates: number;
  /** Dead-lettered: messages (whole) and points, by reason. */
  deadLetters: Record<DeadReason, number>;
  /** Points removed by the rules (`drop.kinds`). */
  ruleDropped: number;
  /** Points whose info was redacted / renamed. */
  ruleChanged: number;
  /** Messages whose search index section did not check out (dropped; their lines parsed instead). */
  badIndexes: number;
  /** Whole-trace decisions. */
  tracesKept: number;
  tracesDropped: number;
  /** Points dropped by whole-trace rules (including for the memory bound). */
  keepDroppedPoints: number;
  keepForced: number;
  /** Store writes that failed. */
  writeErrors: number;
  /** AMQP notifications taken in (republished to the stream). */
  amqpReceived: number;
  amqpBad: number;
  leaseAcquired: number;
  leaseLost: number;
  leaseReleased: number;
  writeLatency: { buckets: number[]; sum: number; count: number };
}

export function newMetrics(): CollectorMetrics {
  return {
    messages: 0,
    redeliveries: 0,
    acks: 0,
    written: 0,
    duplicates: 0,
    deadLetters: { schema: 0, body: 0, point: 0, partition: 0, write: 0, amqp: 0 },
    ruleDropped: 0,
    ruleChanged: 0,
    badIndexes: 0,
    tracesKept: 0,
    tracesDropped: 0,
    keepDroppedPoints: 0,
    keepForced: 0,
    writeErrors: 0,
    amqpReceived: 0,
    amqpBad: 0,
    leaseAcquired: 0,
    leaseLost: 0,
    leaseReleased: 0,
    writeLatency: { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 },
  };
}

export function observeWrite(m: CollectorMetrics, seconds: number): void {
  const h = m.writeLatency;
  for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.buckets[i]++;
  h.sum += seconds;
  h.count++;
}

export interface CollectorGauges {
  leasesHeld: number;
  /** Messages waiting in JetStream per held partition (consumer num_pending + num_ack_pending). */
  lag: Map<number, number>;
  heldPoints: number;
  storeUp: boolean;
  natsConnected: boolean;
}

export function prometheusText(m: CollectorMetrics, g: CollectorGauges): string {
  const out: string[] = [];
  const head = (name: string, help: string, type: string): void => {
    out.push(`# HELP osprofiler_collector_${name} ${help}`, `# TYPE osprofiler_collector_${name} ${type}`);
  };
  const one = (name: string, help: string, type: string, v: number): void => {
    head(name, help, type);
    out.push(`osprofiler_collector_${name} ${v}`);
  };
  one('messages_total', 'Messages taken from JetStream (redeliveries included).', 'counter', m.messages);
  one('redeliveries_total', 'Messages delivered more than once.', 'counter', m.redeliveries);
  one('acks_total', 'Messages acknowledged (written, dead-lettered or duplicates).', 'counter', m.acks);
  one('written_points_total', 'Points written to the store.', 'counter', m.written);
  one('duplicate_messages_total', 'Messages already written before (not written again).', 'counter', m.duplicates);
  head('dead_letters_total', 'Messages or points sent to the dead-letter subject, by reason.', 'counter');
  for (const [r, v] of Object.entries(m.deadLetters)) out.push(`osprofiler_collector_dead_letters_total{reason="${r}"} ${v}`);
  one('rule_dropped_points_total', 'Points removed by drop.kinds.', 'counter', m.ruleDropped);
  one('rule_changed_points_total', 'Points redacted or renamed by the rules.', 'counter', m.ruleChanged);
  one('bad_index_messages_total', 'Messages whose search index section did not check out (index dropped, lines parsed instead).', 'counter', m.badIndexes);
  one('traces_kept_total', 'Traces kept by the whole-trace rules.', 'counter', m.tracesKept);
  one('traces_dropped_total', 'Traces dropped by the whole-trace rules.', 'counter', m.tracesDropped);
  one('keep_dropped_points_total', 'Points of traces dropped by the whole-trace rules.', 'counter', m.keepDroppedPoints);
  one('keep_forced_decisions_total', 'Traces decided early because the held points hit the memory bound.', 'counter', m.keepForced);
  one('write_errors_total', 'Store writes that failed.', 'counter', m.writeErrors);
  one('amqp_received_total', 'Notifications taken from the AMQP queue.', 'counter', m.amqpReceived);
  one('amqp_bad_total', 'AMQP messages that were not OSProfiler notifications.', 'counter', m.amqpBad);
  one('lease_acquired_total', 'Partition leases taken.', 'counter', m.leaseAcquired);
  one('lease_lost_total', 'Partition leases lost (another collector took them).', 'counter', m.leaseLost);
  one('lease_released_total', 'Partition leases given up for balance.', 'counter', m.leaseReleased);
  head('write_seconds', 'Store write latency.', 'histogram');
  m.writeLatency.buckets.forEach((v, i) => out.push(`osprofiler_collector_write_seconds_bucket{le="${BUCKETS[i]}"} ${v}`));
  out.push(`osprofiler_collector_write_seconds_bucket{le="+Inf"} ${m.writeLatency.count}`);
  out.push(`osprofiler_collector_write_seconds_sum ${m.writeLatency.sum}`, `osprofiler_collector_write_seconds_count ${m.writeLatency.count}`);
  one('leases_held', 'Partitions this collector holds.', 'gauge', g.leasesHeld);
  head('consumer_lag_messages', 'Messages pending in JetStream per held partition.', 'gauge');
  for (const [p, v] of g.lag) out.push(`osprofiler_collector_consumer_lag_messages{partition="${p}"} ${v}`);
  one('held_points', 'Points held for whole-trace decisions.', 'gauge', g.heldPoints);
  one('store_up', '1 when the last store write succeeded.', 'gauge', g.storeUp ? 1 : 0);
  one('nats_connected', '1 while connected to NATS.', 'gauge', g.natsConnected ? 1 : 0);
  one('resident_memory_bytes', 'Resident set size.', 'gauge', process.memoryUsage.rss());
  return out.join('\n') + '\n';
}
