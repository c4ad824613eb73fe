/**
 * The agent's upstream: instead of writing to a store, each accepted batch is split by
 * trace partition (and project) and published to NATS JetStream; the batch counts as
 * written once JetStream acknowledged every part. A failure (NATS away, the stream full
 * and refusing, a timeout) throws, and the writer keeps the batch — in the spool with
 * --spool-dir, else in memory unacknowledged — and sends it again later.
 *
 * Re-sending is safe: a message's id is `<agent id>:<md5 of its body>`, and a batch is
 * always split the same way, so JetStream's duplicate window drops a part that was stored
 * before, and the collector's idempotent write drops one that comes back later.
 */
import { redactConnectionString } from '@osprofiler/core/instrument';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { DecodedLines } from '../lines';
import type { SpoolRecord } from '../agent/spool';
import { checkNatsFiles, connectNats, requireNats, type NatsAccess } from './connect';
import { Headers, UPSTREAM_SCHEMA_VERSION, lineProject, partitionOf, pointsSubject } from './contract';

export interface UpstreamOptions extends NatsAccess {
  subjectPrefix: string;
  partitions: number;
  /** Stable across restarts of this agent (so a resend after a crash has the same message ids). */
  agentId: string;
  /** How long to wait for JetStream's acknowledgement of one message. */
  publishTimeoutMs: number;
}

/** A default agent id that survives restarts: host name and a hash of the socket path. */
export function defaultAgentId(socketPath: string): string {
  const h = createHash('md5').update(socketPath).digest('hex').slice(0, 8);
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${h}`;
}

export interface UpstreamMessage {
  subject: string;
  body: Buffer;
  count: number;
  id: string;
}

/** Splits one agent batch body into per-subject message bodies ('L' format), in a fixed order. */
export function splitBatch(body: Buffer, count: number, o: Pick<UpstreamOptions, 'subjectPrefix' | 'partitions' | 'agentId'>): UpstreamMessage[] | undefined {
  const d = new DecodedLines();
  if (!d.append(body, count)) return undefined;
  const errs = d.errors;
  const groups = new Map<string, number[]>();
  let lastBase = '';
  let lastSubject = '';
  for (let i = 0; i < d.count; i++) {
    const base = d.baseIds[i];
    let subject: string;
    if (base === lastBase) subject = lastSubject;
    else subject = pointsSubject(o.subjectPrefix, lineProject(d.buffers[i]), partitionOf(base, o.partitions));
    lastBase = base;
    lastSubject = subject;
    let g = groups.get(subject);
    if (g === undefined) groups.set(subject, (g = []));
    g.push(i);
  }
  const out: UpstreamMessage[] = [];
  for (const [subject, idx] of groups) out.push(encodeGroup(subject, idx, d, errs, o.agentId));
  return out;
}

function encodeGroup(subject: string, idx: number[], d: DecodedLines, errs: Uint8Array | null, agentId: string): UpstreamMessage {
  let bytes = 0;
  const errors: number[] = [];
  for (let k = 0; k < idx.length; k++) {
    bytes += d.buffers[idx[k]].length + 1;
    if (errs !== null && errs[idx[k]] === 1) errors.push(k);
  }
  const body = Buffer.allocUnsafe(5 + 4 * errors.length + bytes);
  body[0] = 0x4c;
  body.writeUInt32BE(errors.length, 1);
  let off = 5;
  for (const e of errors) off = body.writeUInt32BE(e, off);
  for (const i of idx) {
    off += d.buffers[i].copy(body, off);
    body[off++] = 0x0a;
  }
  const id = `${agentId}:${createHash('md5').update(subject).update(body).digest('hex')}`;
  return { subject, body, count: idx.length, id };
}

export class Upstream {
  readonly name: string;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private opening: Promise<void> | undefined;
  private seq = 0;
  /** Parts JetStream answered "duplicate" for (sent before, kept once). */
  duplicates = 0;
  published = 0;

  constructor(private readonly o: UpstreamOptions) {
    this.name = `nats upstream ${redactConnectionString(o.url)}`;
    checkNatsFiles(o);
  }

  open(): Promise<void> {
    if (this.js !== undefined && this.nc !== undefined && !this.nc.isClosed()) return Promise.resolve();
    this.opening ??= (async () => {
      try {
        const nc = await connectNats({ ...this.o, name: this.o.name ?? `osprofiler-agent ${this.o.agentId}` });
        const { jetstream } = requireNats<typeof import('@nats-io/jetstream')>('@nats-io/jetstream', 'NATS (--upstream)');
        this.nc = nc;
        this.js = jetstream(nc, { timeout: this.o.publishTimeoutMs });
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /** Publishes the records' points; resolves with the number of points that did not decode (dropped), throws when any part was not acknowledged. */
  async writeRecords(records: readonly SpoolRecord[]): Promise<number> {
    await this.open();
    const js = this.js as JetStreamClient;
    const { headers } = requireNats<typeof import('@nats-io/transport-node')>('@nats-io/transport-node', 'NATS (--upstream)');
    let bad = 0;
    const acks: Promise<unknown>[] = [];
    for (const r of records) {
      const parts = splitBatch(r.body, r.count, this.o);
      if (parts === undefined) {
        bad += r.count;
        continue;
      }
      for (const m of parts) {
        const h = headers();
        h.set(Headers.SCHEMA, UPSTREAM_SCHEMA_VERSION);
        h.set(Headers.AGENT, this.o.agentId);
        h.set(Headers.POINTS, String(m.count));
        h.set(Headers.SEQ, String(++this.seq));
        acks.push(
          js.publish(m.subject, m.body, { msgID: m.id, headers: h, timeout: this.o.publishTimeoutMs, retries: 0 }).then((ack) => {
            if (ack.duplicate) this.duplicates++;
            else this.published += m.count;
          }),
        );
      }
    }
    // Every part is awaited (none left unobserved) before the first failure is reported.
    const results = await Promise.allSettled(acks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const n = results.filter((r) => r.status === 'rejected').length;
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      throw new Error(`${this.name}: ${n} of ${results.length} messages not acknowledged (${reason})`);
    }
    return bad;
  }

  get connected(): boolean {
    return this.nc !== undefined && !this.nc.isClosed();
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    if (nc !== undefined) await nc.drain().catch(() => nc.close());
  }
}
