/**
 * The agent's write path: one queue of accepted batches, one loop that writes them to the
 * backend in order (several batches per write) and acknowledges each batch once written.
 * When a write fails the batches go to the fsynced spool (and are acknowledged), and so
 * does everything after them until the spool has been replayed, so order is kept.
 *
 * Duplicates: a client resends only batches it saw no ack for, so remembering
 * (client id, sequence) of recent batches is enough to store each batch once while the
 * agent lives (see PROTOCOL.md for the crash window).
 */
import { recordFailure } from '@osprofiler/core/instrument';
import type { Notification } from '@osprofiler/core';
import { DecodedLines, bodyLayout, mergeLineBodies, notificationText } from '../lines';
import type { BackendBatch, Sink } from './backend';
import type { AgentMetrics } from './metrics';
import type { Spool, SpoolRecord } from './spool';

export interface AckTarget {
  ack(seq: number): void;
}

interface Entry {
  client: string;
  seq: number;
  count: number;
  body: Buffer;
  waiters: AckTarget[];
}

/** Sequences remembered per client (a client resends at most max_inflight_points batches). */
const REMEMBER = 32_768;
/** Clients remembered at most (the oldest are forgotten). */
const MAX_CLIENTS = 1_024;

class ClientSeqs {
  done = new Set<number>();
  /**
   * The remembered sequences, oldest first, as a ring: `order.shift()` on a full array of
   * 32k numbers moved all of them on every batch (an array that large lives in large-object
   * space, which V8 does not trim from the left) for a client that had sent 32k batches:
   * 2.8 µs a batch against 0.02 for the ring (node 20, a loop of 200k, loaded VM).
   */
  private order: number[] = [];
  private next = 0;
  pending = new Map<number, Entry>();

  markDone(seq: number): void {
    this.done.add(seq);
    if (this.order.length < REMEMBER) {
      this.order.push(seq);
      return;
    }
    this.done.delete(this.order[this.next]);
    this.order[this.next] = seq;
    this.next = (this.next + 1) % REMEMBER;
  }
}

export interface WriterSettings {
  writeBatchPoints: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxSpoolBytes: number;
}

export class Writer {
  private queue: Entry[] = [];
  /** Points queued in memory, waiting for a write (the server pauses its clients on it). */
  queued = 0;
  /** Points taken from the queue into a write or spool append not yet done (put back if it fails). */
  private inFlight = 0;
  /**
   * Points held in memory unacknowledged: queued, or in a write in flight (the queue_depth
   * gauge). `queued` alone read 0 whenever a retry had taken the queue (a backend refusing
   * every write: the collector's NATS auth test read 0 of 40 points held, 1 run in 8).
   */
  get held(): number {
    return this.queued + this.inFlight;
  }
  private clients = new Map<string, ClientSeqs>();
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private halted = false;
  private failures = 0;
  private retryAt = 0;
  backendUp = true;
  /**
   * Upstream only: the batches of a publish that failed, and the one record they were
   * merged into. They are retried (or spooled) as exactly that record, so the resend is
   * split into the same messages with the same ids (JetStream and the collector then
   * store the parts acknowledged before only once).
   */
  private group: { size: number; record: SpoolRecord } | undefined;
  /**
   * Upstream message keys (`Nats-Msg-Id = <agent id>:<key>.<part>`): this run's start
   * (base 36 ms, so a restarted agent never reuses a key inside JetStream's duplicate
   * window) and a running number. Cheaper than the MD5 of every body it replaces
   * (~6 % of the agent's CPU).
   */
  private readonly run = Date.now().toString(36);
  private keySeq = 0;
  private nextKey(): string {
    return `${this.run}-${++this.keySeq}`;
  }
  /** Called whenever the queue shrinks (the server resumes reading). */
  onDrained: () => void = () => undefined;

  constructor(
    private readonly backend: Sink,
    private readonly spool: Spool | undefined,
    private readonly metrics: AgentMetrics,
    private readonly settings: WriterSettings,
  ) {}

  /** Accepts one batch; `to` gets the ack once it is durable. */
  submit(client: string, seq: number, count: number, body: Buffer, to: AckTarget): void {
    let c = this.clients.get(client);
    if (c === undefined) {
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value as string);
      this.clients.set(client, (c = new ClientSeqs()));
    }
    if (c.done.has(seq)) {
      this.metrics.duplicates++;
      to.ack(seq);
      return;
    }
    const p = c.pending.get(seq);
    if (p !== undefined) {
      this.metrics.duplicates++;
      p.waiters.push(to);
      return;
    }
    const e: Entry = { client, seq, count, body, waiters: [to] };
    c.pending.set(seq, e);
    this.queue.push(e);
    this.queued += count;
    this.metrics.received += count;
    this.start();
  }

  /** Runs the loop (e.g. to replay a spool left by a previous run). */
  kick(): void {
    this.start();
  }

  private start(): void {
    if (this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private done(entries: Entry[]): void {
    for (const e of entries) {
      const c = this.clients.get(e.client);
      if (c !== undefined) {
        c.pending.delete(e.seq);
        c.markDone(e.seq);
      }
      this.inFlight -= e.count;
      this.metrics.acknowledged += e.count;
      for (const w of e.waiters) w.ack(e.seq);
    }
  }

  private take(max: number, exactly = Number.MAX_SAFE_INTEGER): Entry[] {
    const out: Entry[] = [];
    let points = 0;
    while (this.queue.length > 0 && out.length < exactly && (out.length === 0 || points + this.queue[0].count <= max)) {
      const e = this.queue.shift() as Entry;
      out.push(e);
      points += e.count;
    }
    this.queued -= points;
    this.inFlight += points;
    return out;
  }

  private untake(entries: Entry[]): void {
    this.queue.unshift(...entries);
    for (const e of entries) {
      this.queued += e.count;
      this.inFlight -= e.count;
    }
  }

  /**
   * The points of some records, as one write: line records stay text (split, not parsed),
   * older JSON-array bodies are parsed. Bodies that do not decode are dropped and counted.
   */
  private parse(records: readonly SpoolRecord[]): BackendBatch {
    const lines = new DecodedLines();
    const objects: Notification[] = [];
    for (const r of records) {
      if (r.body[0] !== 0x5b) {
        if (lines.append(r.body, r.count)) continue;
      } else {
        let arr: unknown;
        try {
          arr = JSON.parse(r.body.toString('utf8'));
        } catch {
          arr = undefined;
        }
        if (Array.isArray(arr) && arr.length === r.count && arr.every(isNotification)) {
          for (const n of arr as Notification[]) objects.push(n);
          continue;
        }
      }
      this.metrics.dropped.bad_points += r.count;
      recordFailure('agent.batch', new Error(`dropped a batch of ${r.count} points that does not decode (raw lines or a JSON array of notifications)`));
    }
    this.badIndexes(lines.badIndexes);
    return { lines, objects, count: lines.count + objects.length };
  }

  /**
   * Writes records to the sink: an upstream takes the bodies as they are (it splits them
   * by partition itself); a backend gets them decoded. `count` is the points handed over.
   */
  private async store(records: readonly SpoolRecord[]): Promise<{ count: number; bad: number }> {
    if (this.backend.writeRecords !== undefined) {
      const count = records.reduce((a, r) => a + r.count, 0);
      return { count, bad: await this.backend.writeRecords(records) };
    }
    const write = this.backend.write as (b: BackendBatch) => Promise<number>;
    const batch = this.parse(records);
    return { count: batch.count, bad: batch.count > 0 ? await write.call(this.backend, batch) : 0 };
  }

  private badIndexes(n: number): void {
    if (n === 0) return;
    this.metrics.badIndexes += n;
    recordFailure('agent.batch.index', new Error(`dropped the search index of ${n} batch(es) that does not check out (their lines are parsed instead)`));
  }

  private badLines(n: number): void {
    if (n === 0) return;
    this.metrics.dropped.bad_points += n;
    recordFailure('agent.batch', new Error(`dropped ${n} point lines that do not parse as JSON`));
  }

  private async loop(): Promise<void> {
    const s = this.settings;
    for (;;) {
      if (this.halted) return;
      const spooling = this.spool !== undefined && !this.spool.empty;
      if (!this.backendUp || spooling) {
        // New batches go behind the spool (or wait, without a spool) to keep the order.
        if (this.queue.length > 0 && this.spool !== undefined && this.spool.bytes < s.maxSpoolBytes) {
          const group = this.group;
          const entries = this.take(Number.MAX_SAFE_INTEGER);
          try {
            // A failed upstream group is spooled as the one record it was published as.
            // Upstream records keep their key in the spool: replayed, even by the next
            // agent process, they are published with the same message ids.
            const keyed = this.backend.writeRecords === undefined ? entries : entries.map((e): SpoolRecord => ({ count: e.count, body: e.body, key: this.nextKey() }));
            await this.spool.append(group === undefined ? keyed : [group.record, ...keyed.slice(group.size)]);
            this.group = undefined;
            this.metrics.spooled += entries.reduce((a, e) => a + e.count, 0);
            this.done(entries);
            this.onDrained();
          } catch (err) {
            recordFailure('agent.spool.append', err);
            this.untake(entries);
          }
        }
        const wait = this.retryAt - Date.now();
        if (wait > 0) {
          if (this.stopping && this.queue.length === 0) return;
          await this.sleep(wait);
          continue;
        }
        if (!(await this.replayOrProbe())) continue;
        if (this.queue.length === 0 && (this.spool === undefined || this.spool.empty)) return;
        continue;
      }
      if (this.queue.length === 0) return;
      const group = this.group;
      const entries = group === undefined ? this.take(s.writeBatchPoints) : this.take(Number.MAX_SAFE_INTEGER, group.size);
      try {
        let result: { count: number; bad: number };
        const records = this.backend.writeRecords === undefined ? undefined : entries.map(linesRecord);
        if (records !== undefined && records.every(isLines)) {
          // Upstream: the batches taken are published as one record (fewer, larger messages).
          const record = group?.record ?? { ...mergeRecords(records), key: this.nextKey() };
          this.group = { size: entries.length, record };
          result = await this.store([record]);
          this.group = undefined;
        } else result = await this.store(records ?? entries); // (a body that is not lines: counted bad by the publisher)
        const { count, bad } = result;
        this.badLines(bad);
        this.metrics.written += count - bad;
        this.done(entries);
        this.onDrained();
      } catch (err) {
        this.failed(err);
        this.untake(entries);
      }
    }
  }

  /** One replay step (spool) or one retry of the queue's head (no spool). True when it worked. */
  private async replayOrProbe(): Promise<boolean> {
    if (this.spool !== undefined && !this.spool.empty) {
      const records = await this.spool.peek(this.settings.writeBatchPoints);
      if (records.length === 0) return true;
      try {
        const { count, bad } = await this.store(records);
        this.badLines(bad);
        this.metrics.replayed += count - bad;
        await this.spool.commit(records.length);
        this.recovered();
        return true;
      } catch (err) {
        this.failed(err);
        return false;
      }
    }
    // No spool: the queue waits in memory (unacknowledged) and its head is the probe.
    this.backendUp = true;
    return true;
  }

  private failed(err: unknown): void {
    this.metrics.backendErrors++;
    recordFailure('agent.backend.write', err);
    this.backendUp = false;
    const s = this.settings;
    this.retryAt = Date.now() + Math.min(s.retryMaxMs, s.retryMinMs * 2 ** Math.min(this.failures++, 16));
  }

  private recovered(): void {
    this.backendUp = true;
    this.failures = 0;
    this.retryAt = 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Stops the loop for good (after drain). */
  halt(): void {
    this.halted = true;
    this.wake?.();
  }

  /** Waits (bounded) until everything queued is written or spooled. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.queue.length > 0 || this.running !== undefined)) {
      if (this.queue.length === 0 && !this.backendUp) break; // only the spool is left: it stays on disk
      this.start();
      await Promise.race([this.running, new Promise((r) => setTimeout(r, 50))]);
    }
  }
}

/** Several line records as one (lines.ts mergeLineBodies: byte copies, index sections joined). */
export function mergeRecords(records: readonly SpoolRecord[]): SpoolRecord {
  if (records.length === 1) return records[0];
  let count = 0;
  for (const r of records) count += r.count;
  return { count, body: mergeLineBodies(records) };
}

function isLines(r: SpoolRecord): boolean {
  return r.body.length >= 5 && (r.body[0] === 0x4c || r.body[0] === 0x49) && bodyLayout(r.body) !== undefined;
}

/** An older JSON-array body as a line body (upstream messages carry lines only); others as they are. */
function linesRecord(r: SpoolRecord): SpoolRecord {
  if (r.body[0] !== 0x5b) return r;
  let arr: unknown;
  try {
    arr = JSON.parse(r.body.toString('utf8'));
  } catch {
    return r;
  }
  if (!Array.isArray(arr) || arr.length !== r.count || !arr.every(isNotification)) return r;
  const errors: number[] = [];
  const text = (arr as Notification[])
    .map((n, i) => {
      const info = n.info as Record<string, unknown> | null | undefined;
      if (info !== null && typeof info === 'object' && info.etype !== undefined && info.etype !== null) errors.push(i);
      return notificationText(n) + '\n';
    })
    .join('');
  const body = Buffer.allocUnsafe(5 + 4 * errors.length + Buffer.byteLength(text, 'utf8'));
  body[0] = 0x4c;
  body.writeUInt32BE(errors.length, 1);
  let off = 5;
  for (const e of errors) off = body.writeUInt32BE(e, off);
  body.write(text, off, 'utf8');
  return { count: r.count, body };
}

function isNotification(n: unknown): boolean {
  return n !== null && typeof n === 'object' && typeof (n as Notification).base_id === 'string' && typeof (n as Notification).name === 'string';
}
