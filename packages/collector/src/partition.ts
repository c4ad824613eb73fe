/**
 * One partition's worker, while this collector holds its lease: pulls from the
 * partition's durable consumer, checks and transforms each message, writes several
 * messages at once through the store, then acknowledges them — only after the write.
 * Dead letters are published (and acknowledged) with their reason; a message whose write
 * keeps failing while the rest of its partition is written goes to dead-letter after
 * `maxDeliver` attempts, so a poison batch never stalls the partition.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { recordFailure } from '@osprofiler/core/instrument';
import { UpstreamHeaders, deadLetterSubject } from '@osprofiler/agent';
import type { CollectorMetrics, DeadReason } from './metrics';
import { observeWrite } from './metrics';
import type { CollectorOptions } from './options';
import type { CompiledRules } from './rules';
import type { Store, WriteItem } from './store';
import { checkMessage, type BadPoint } from './validate';
import type { Keeper } from './keep';
import type { PointGate } from './gate';

export interface WorkerContext {
  js: JetStreamClient;
  options: CollectorOptions;
  store: Store;
  rules: CompiledRules | undefined;
  keeper: Keeper | undefined;
  metrics: CollectorMetrics;
  /** Whether our lease still allows writing. */
  valid(partition: number): boolean;
  /** Shared by the partitions: `lastOk` is the time of the last write the store accepted. */
  storeState: { up: boolean; failures: number; lastOk: number };
  /** When each failing message (by key) last failed; bounded. */
  failedAt: Map<string, number>;
  consumerName(partition: number): string;
  /** Points checked and not yet written, over the partitions (./gate.ts). */
  gate: PointGate;
  headers(): import('@nats-io/transport-node').MsgHdrs;
}

interface Taken {
  m: JsMsg;
  item?: WriteItem;
}

export class PartitionWorker {
  private buf: JsMsg[] = [];
  private messages: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    readonly partition: number,
    private readonly ctx: WorkerContext,
  ) {}

  /** Starts pulling; retries (NATS away at that moment) until it works or the worker stops. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.open();
        return;
      } catch (err) {
        recordFailure('collector.partition.start', err);
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  private async open(): Promise<void> {
    const o = this.ctx.options;
    const consumer = await this.ctx.js.consumers.get(o.stream, this.ctx.consumerName(this.partition));
    if (this.stopping) return;
    const messages = await consumer.consume({ max_messages: o.fetchMessages });
    this.messages = messages;
    void (async () => {
      try {
        for await (const m of messages) {
          if (this.stopping) {
            m.nak();
            continue;
          }
          this.buf.push(m);
          this.kick();
        }
      } catch (err) {
        recordFailure('collector.consume', err);
      }
    })();
    this.loop = this.run();
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.buf.length === 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (!this.ctx.valid(this.partition)) {
        // Our lease ran out (or is being given up): the next holder gets these again.
        for (const m of this.buf.splice(0)) m.nak();
        await sleep(100);
        continue;
      }
      const { batch, points } = this.take();
      const gate = this.ctx.gate;
      const wait = gate.acquire(points);
      if (wait !== undefined) await wait;
      try {
        if (this.stopping || !this.ctx.valid(this.partition)) {
          // Stopped or the lease lost while waiting for room: the next holder gets these.
          for (const m of batch) m.nak();
          continue;
        }
        await this.handle(batch);
      } catch (err) {
        recordFailure('collector.partition', err);
        for (const m of batch) m.nak(1000);
      } finally {
        gate.release(points);
      }
    }
  }

  /** Messages for one write: at least one, up to writeBatchPoints points (by their headers). */
  private take(): { batch: JsMsg[]; points: number } {
    const max = this.ctx.options.writeBatchPoints;
    let points = 0;
    let n = 0;
    while (n < this.buf.length) {
      const c = Number(this.buf[n].headers?.get(UpstreamHeaders.POINTS) ?? '1') || 1;
      if (n > 0 && points + c > max) break;
      points += c;
      n++;
    }
    return { batch: this.buf.splice(0, n), points };
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const { options: o, metrics } = this.ctx;
    const ok: Taken[] = [];
    for (const m of batch) {
      metrics.messages++;
      if (m.redelivered) metrics.redeliveries++;
      const h = m.headers;
      const checked = checkMessage(m.data, h?.get(UpstreamHeaders.SCHEMA) || undefined, h?.get(UpstreamHeaders.POINTS) || undefined, this.partition, o, this.ctx.rules);
      if (!checked.ok) {
        await this.deadLetter(m, checked.reason, checked.message, undefined);
        continue;
      }
      metrics.ruleDropped += checked.dropped;
      metrics.ruleChanged += checked.changed;
      if (checked.badIndex) metrics.badIndexes++;
      if (checked.bad.length > 0) {
        // The good points of the message are written; the bad ones go to dead-letter first.
        if (!(await this.deadLetter(m, 'point', `${checked.bad.length} invalid point(s): ${checked.bad[0].reason}`, checked.bad, false))) continue;
      }
      const key = h?.get(UpstreamHeaders.MSG_ID) || `${o.stream}:${m.seq}`;
      ok.push({ m, item: { key, points: checked.points } });
    }
    if (ok.length === 0) return;
    if (this.ctx.keeper !== undefined) {
      this.ctx.keeper.hold(this.partition, ok.map((t) => ({ msg: t.m, item: t.item as WriteItem })));
      return;
    }
    await this.write(ok);
  }

  private async write(ok: Taken[]): Promise<void> {
    const { metrics } = this.ctx;
    try {
      await this.writeAndAck(ok);
      return;
    } catch (err) {
      metrics.writeErrors++;
      recordFailure('collector.store.write', err);
      if (ok.length === 1) return this.failedAlone(ok[0], err, false);
    }
    // Which ones fail? One by one: if some are written, the others are poison candidates.
    const failed: [Taken, unknown][] = [];
    for (const t of ok) {
      try {
        await this.writeAndAck([t]);
      } catch (err) {
        failed.push([t, err]);
      }
    }
    const someWritten = failed.length < ok.length;
    for (const [t, err] of failed) await this.failedAlone(t, err, someWritten);
  }

  private async writeAndAck(ts: Taken[]): Promise<void> {
    const { store, metrics, storeState } = this.ctx;
    const t0 = process.hrtime.bigint();
    const r = await store.write(ts.map((t) => t.item as WriteItem));
    observeWrite(metrics, Number(process.hrtime.bigint() - t0) / 1e9);
    storeState.up = true;
    storeState.failures = 0;
    storeState.lastOk = Date.now();
    metrics.written += r.written;
    metrics.duplicates += r.duplicates;
    for (const t of ts) {
      t.m.ack();
      metrics.acks++;
    }
  }

  /**
   * A message that did not write. It is poison when it keeps failing (maxDeliver
   * deliveries) while the store accepts other writes — some written since its previous
   * failure; then it goes to dead-letter. Otherwise the store is down: nak with backoff.
   */
  private async failedAlone(t: Taken, err: unknown, othersWritten: boolean): Promise<void> {
    const { options: o, storeState, failedAt } = this.ctx;
    const key = (t.item as WriteItem).key;
    const previous = failedAt.get(key);
    const now = Date.now();
    const storeWorks = othersWritten || (previous !== undefined && storeState.lastOk > previous);
    if (storeWorks && t.m.info.deliveryCount >= o.maxDeliver) {
      failedAt.delete(key);
      await this.deadLetter(t.m, 'write', `store refused the batch ${t.m.info.deliveryCount} times while writing others: ${err instanceof Error ? err.message : String(err)}`, undefined);
      return;
    }
    failedAt.delete(key);
    failedAt.set(key, now);
    if (failedAt.size > 10_000) failedAt.delete(failedAt.keys().next().value as string);
    if (!storeWorks) {
      storeState.up = false;
      storeState.failures++;
    }
    const delay = storeWorks ? o.retryMinMs : Math.min(o.retryMaxMs, o.retryMinMs * 2 ** Math.min(storeState.failures, 16));
    t.m.nak(delay);
    if (!storeWorks) await sleep(delay);
  }

  /**
   * Publishes a dead letter (JSON body: reason, source subject, the points or the message
   * body) and, when `ack`, acknowledges the message. False when the publish failed (the
   * message is then left for redelivery).
   */
  private async deadLetter(m: JsMsg, reason: DeadReason, message: string, points: BadPoint[] | undefined, ack = true): Promise<boolean> {
    const { js, options: o, metrics } = this.ctx;
    const h = this.ctx.headers();
    h.set(UpstreamHeaders.REASON, `${reason}: ${message}`.slice(0, 1024));
    h.set(UpstreamHeaders.SOURCE_SUBJECT, m.subject);
    const agent = m.headers?.get(UpstreamHeaders.AGENT);
    if (agent) h.set(UpstreamHeaders.AGENT, agent);
    const body = JSON.stringify({
      reason,
      message,
      subject: m.subject,
      stream_seq: m.seq,
      msg_id: m.headers?.get(UpstreamHeaders.MSG_ID) || null,
      // `body` is the message as it came: raw DEFLATE when the schema is 3.
      schema: m.headers?.get(UpstreamHeaders.SCHEMA) || null,
      points: points ?? null,
      body: points === undefined ? Buffer.from(m.data).toString('base64') : null,
    });
    try {
      await js.publish(deadLetterSubject(o.subjectPrefix, this.partition), body, { headers: h });
    } catch (err) {
      recordFailure('collector.deadletter', err);
      m.nak(1000);
      return false;
    }
    metrics.deadLetters[reason] += points === undefined ? 1 : points.length;
    if (ack) {
      m.ack();
      metrics.acks++;
    }
    return true;
  }

  /** Stops pulling, finishes the write in hand (acknowledged), gives the rest back (nak). */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.kick();
    try {
      this.messages?.stop();
    } catch {
      // already closed
    }
    // The bound's timer must not keep a stopped process alive.
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
    clearTimeout(t);
    for (const m of this.buf.splice(0)) m.nak();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
