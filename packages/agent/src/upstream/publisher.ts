/**
 * The agent's upstream: instead of writing to a store, each accepted batch is split by
 * trace partition (and project) and published to NATS JetStream; the batch counts as
 * written once JetStream acknowledged every part. A failure (NATS away, the stream full
 * and refusing, a timeout) throws, and the writer keeps the batch — in the spool with
 * --spool-dir, else in memory unacknowledged — and sends it again later.
 *
 * Re-sending is safe: a message's id is `<agent id>:<record key>.<part>`, the key is kept
 * with the record (in memory, and in the spool across agent restarts), and a record is
 * always split the same way, so JetStream's duplicate window drops a part that was stored
 * before, and the collector's idempotent write drops one that comes back later.
 * The search index a client sent travels on in each part (schema 2, lineindex.ts).
 * Bodies of DEFLATE_MIN_BYTES and more are compressed (schema 3): nats-server's CPU goes
 * mostly per byte stored and delivered, and the bench's 87 KB bodies shrink ~15× (nats-server 1.5–2.7 µs a point instead of 5.8–10).
 * `?compression=none` on the upstream URL sends them as they are (for collectors older
 * than schema 3, which dead-letter it).
 */
import { redactConnectionString } from '@osprofiler/core/instrument';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { deflateRawSync } from 'node:zlib';
import type { NatsConnection } from '@nats-io/transport-node';
import { DecodedLines, encodeLinesBody } from '../lines';
import { RawDeflater } from './deflate';
import { splitLineRuns } from './split';
import { AckInbox, type PubAck } from './acks';
import type { SpoolRecord } from '../agent/spool';
import { AgentError } from '../errors';
import { checkNatsFiles, connectNats, requireNats, type NatsAccess } from './connect';
import { DEFLATE_MIN_BYTES, Headers, UPSTREAM_SCHEMA_DEFLATE, UPSTREAM_SCHEMA_INDEXED, UPSTREAM_SCHEMA_VERSION, lineProject, partitionOf, pointsSubject } from './contract';

/** JetStream's de-duplication header (the stream's duplicate window). */
const NATS_MSG_ID = 'Nats-Msg-Id';

export interface UpstreamOptions extends NatsAccess {
  subjectPrefix: string;
  partitions: number;
  /** Stable across restarts of this agent (so a resend after a crash has the same message ids). */
  agentId: string;
  /** How long to wait for JetStream's acknowledgement of one message. */
  publishTimeoutMs: number;
  /** Compress bodies (schema 3); default: the URL's `compression=` query, else `deflate`. */
  compression?: 'deflate' | 'none';
}

/** The `compression=` of an upstream URL (`nats://host:4222?compression=none`); deflate by default. */
export function upstreamCompression(url: string): 'deflate' | 'none' {
  const m = /[?&]compression=([^&,]*)/.exec(url);
  if (m === null || m[1] === 'deflate') return 'deflate';
  if (m[1] === 'none') return 'none';
  throw new AgentError('OSP_AGENT_BAD_OPTION', `--upstream: compression=${m[1]} is not "deflate" or "none"`);
}

/**
 * A message's body and schema as sent: raw DEFLATE (schema 3) when it is big enough and
 * compression is on. Level 1: on the bench's 87 KB bodies 15.2× smaller for 0.52 µs a
 * point (inflate 0.25); level 6 gives 17.1× for 1.54 µs, brotli q1 17.7× for 0.47 — a
 * few bytes a point that nats-server does not notice, and DEFLATE is in every language.
 */
export function encodeBody(m: Pick<UpstreamMessage, 'body' | 'indexed'>, compression: 'deflate' | 'none', deflater?: RawDeflater): { body: Buffer; schema: string } {
  if (compression === 'deflate' && m.body.length >= DEFLATE_MIN_BYTES) return { body: deflater !== undefined ? deflater.deflate(m.body) : deflateRawSync(m.body, { level: 1 }), schema: UPSTREAM_SCHEMA_DEFLATE };
  return { body: m.body, schema: m.indexed ? UPSTREAM_SCHEMA_INDEXED : UPSTREAM_SCHEMA_VERSION };
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
  /** The body carries an index section ('I', schema 2). */
  indexed: boolean;
}

/**
 * Splits one agent batch body into per-subject message bodies (line bodies, with the
 * index section when the batch carried a good one), in a fixed order. `key` names the
 * record (ids `<agent id>:<key>.<n>`); a record spooled by an older agent has none and
 * gets the MD5 of subject and body, as that agent would have sent.
 */
export function splitBatch(body: Buffer, count: number, o: Pick<UpstreamOptions, 'subjectPrefix' | 'partitions' | 'agentId'>, key?: string, badIndex?: () => void): UpstreamMessage[] | undefined {
  // 'L' bodies in the wire's layout: split by the lines' places (./split.ts), the same parts.
  const runs = splitLineRuns(body, count, o, key);
  if (runs !== null) return runs;
  return splitByDecoding(body, count, o, key, badIndex);
}

/** The split by decoding the points: any body DecodedLines takes ('I' bodies, escapes, …). */
export function splitByDecoding(body: Buffer, count: number, o: Pick<UpstreamOptions, 'subjectPrefix' | 'partitions' | 'agentId'>, key?: string, badIndex?: () => void): UpstreamMessage[] | undefined {
  const d = new DecodedLines();
  if (!d.append(body, count)) return undefined;
  if (d.badIndexes > 0) badIndex?.();
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
  const isError = errs === null ? () => false : (i: number): boolean => errs[i] === 1;
  for (const [subject, idx] of groups) {
    const part = encodeLinesBody(d, idx, isError);
    const id = key === undefined ? `${o.agentId}:${createHash('md5').update(subject).update(part).digest('hex')}` : `${o.agentId}:${key}.${out.length}`;
    out.push({ subject, body: part, count: idx.length, id, indexed: part[0] === 0x49 });
  }
  return out;
}

export class Upstream {
  readonly name: string;
  private nc: NatsConnection | undefined;
  /** JetStream's acknowledgements of this connection's publishes (acks.ts). */
  private acks: AckInbox | undefined;
  private opening: Promise<void> | undefined;
  private seq = 0;
  /** Parts JetStream answered "duplicate" for (sent before, kept once). */
  duplicates = 0;
  published = 0;
  /** Records whose index section did not check out (dropped; the collector parses their lines). */
  badIndexes = 0;

  private readonly compression: 'deflate' | 'none';
  /** One zlib handle for all messages (reset between them; deflate.ts). */
  private readonly deflater = new RawDeflater();

  constructor(private readonly o: UpstreamOptions) {
    this.name = `nats upstream ${redactConnectionString(o.url)}`;
    checkNatsFiles(o);
    this.compression = o.compression ?? upstreamCompression(o.url);
  }

  open(): Promise<void> {
    if (this.acks !== undefined && !this.acks.ended && this.nc !== undefined && !this.nc.isClosed()) return Promise.resolve();
    this.opening ??= (async () => {
      try {
        const { createInbox } = requireNats<typeof import('@nats-io/transport-node')>('@nats-io/transport-node', 'NATS (--upstream)');
        const nc = this.nc !== undefined && !this.nc.isClosed() ? this.nc : await connectNats({ ...this.o, name: this.o.name ?? `osprofiler-agent ${this.o.agentId}` });
        this.nc = nc;
        this.acks = new AckInbox(nc, createInbox());
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /** Publishes the records' points; resolves with the number of points that did not decode (dropped), throws when any part was not acknowledged. */
  async writeRecords(records: readonly SpoolRecord[]): Promise<number> {
    await this.open();
    const inbox = this.acks as AckInbox;
    const { headers } = requireNats<typeof import('@nats-io/transport-node')>('@nats-io/transport-node', 'NATS (--upstream)');
    let bad = 0;
    const acks: Promise<unknown>[] = [];
    const keys: string[] = [];
    for (const r of records) {
      const parts = splitBatch(r.body, r.count, this.o, r.key, () => this.badIndexes++);
      if (parts === undefined) {
        bad += r.count;
        continue;
      }
      for (const m of parts) {
        const { body, schema } = encodeBody(m, this.compression, this.deflater);
        const h = headers();
        h.set(Headers.SCHEMA, schema);
        h.set(Headers.AGENT, this.o.agentId);
        h.set(Headers.POINTS, String(m.count));
        h.set(Headers.SEQ, String(++this.seq));
        h.set(NATS_MSG_ID, m.id);
        const p = inbox.publish(m.subject, body, h);
        keys.push(p.key);
        acks.push(
          p.ack.then((ack: PubAck) => {
            if (ack.duplicate) this.duplicates++;
            else this.published += m.count;
          }),
        );
      }
    }
    // One timer for the write: what is unanswered by then fails as timed out.
    const timer = setTimeout(() => inbox.expire(keys), this.o.publishTimeoutMs);
    // Every part is awaited (none left unobserved) before the first failure is reported.
    const results = await Promise.allSettled(acks);
    clearTimeout(timer);
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
    this.acks?.close();
    this.acks = undefined;
    this.deflater.close();
    if (nc !== undefined) await nc.drain().catch(() => nc.close());
  }
}
