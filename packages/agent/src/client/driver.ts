/**
 * The `agent://` client driver. Core's notifier already calls it off the request path, in
 * batches, with the points serialised as Python stores them (`notifyLines`, core's raw
 * path); here the batch's lines are joined into one text and queued (bounded). Framing
 * (one copy of each text into the frame, see lines.ts) and writing happen in a
 * setImmediate, over one Unix socket connection, with at most `maxInflightPoints`
 * unacknowledged.
 *
 * It never throws or blocks: with the agent down the queue keeps up to `maxPoints`
 * points, drops the OLDEST past that (counted, and marked in their traces), reconnects
 * with backoff and resends every unacknowledged batch after a reconnect.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { linesOfNotifications, recordFailure } from '@osprofiler/core/instrument';
import type { Driver, DriverOptions, ListOptions, Notification, Report, SearchOptions, SearchPage, TraceSummary } from '@osprofiler/core';
import type { LineBatch, LineIndex } from '@osprofiler/core/instrument';
import { encodeLineBatch, notificationText, withoutIndex, type TextPart } from '../lines';
import { DropLedger, type PointOrigin } from '../markers';
import { FrameReader, FrameType, PROTOCOL_VERSION, encodeFrame, parseJsonObject } from '../protocol';
import type { AgentClientOptions } from './options';
import { agentRequest } from './request';
import { trackDriver, untrackDriver } from './exit';

/** What the client did; `dropped` points are gone for good (and marked in their traces). */
export interface AgentClientCounters {
  /** Points handed to notify. */
  received: number;
  /** Points the agent acknowledged (stored or spooled). */
  acknowledged: number;
  /** Points dropped: queue full (oldest first) or after close. */
  dropped: number;
  /** Batches sent again after a reconnect. */
  resent: number;
  /** Connections made (handshake completed). */
  connects: number;
  /** Connection attempts or connections that failed. */
  connectErrors: number;
}

const HELLO_TIMEOUT_MS = 5000;
/** The connection's read buffer: the agent sends 9-byte ACKs and small JSON frames. */
const READ_BUFFER_BYTES = 16 * 1024;
/** An ACK frame: u32 length 5, the type, u32 seq (protocol.ts `encodeAck`). */
const ACK_FRAME_BYTES = 9;

/** Whether `buf`'s first `n` bytes are whole ACK frames and nothing else (the usual read). */
function onlyAcks(buf: Uint8Array, n: number): boolean {
  if (n === 0 || n % ACK_FRAME_BYTES !== 0) return false;
  for (let off = 0; off < n; off += ACK_FRAME_BYTES) {
    if (buf[off] !== 0 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 5 || buf[off + 4] !== FrameType.ACK) return false;
  }
  return true;
}

/** What a queued chunk still reads of its batch: the drop ledger's ids and times, the error flags, the index. */
type ChunkSource = Pick<LineBatch, 'baseIds' | 'timestamps' | 'errors'> & { readonly index?: LineIndex };

/**
 * A batch as queued: core's LineBatch, its lines as one text, where its points come from,
 * and how far it was taken. A chunk that cannot go at once is parked (`park`): its text as
 * bytes outside V8's heap and only the batch's ids, times and error flags kept, not the
 * batch (core's points, their infos, the lines' ropes). A lagging agent otherwise left
 * every queued batch in the app's young generation: with the agent stopped 250 ms of every
 * 500 ms, the traced compare app's scavenges took 37.9 / 40.8 µs a /nested request (heap
 * 185 / 85 MB) before, 16.1 / 22.5 µs (23 / 52 MB) parked (tools/bench/agent-lag.cjs, both
 * builds alternated; tools/bench/README.md, session 26). Before the first WELCOME nothing is
 * parked: the agent may yet ask for a batch's index, read from the batch.
 */
interface Chunk {
  batch: ChunkSource;
  /**
   * Its search index, read when queued (core's notifier builds it lazily from the points'
   * info: read in the same turn as the lines were formatted, so both see the same info).
   */
  readonly index: LineIndex | undefined;
  /** The lines, LF-separated; '' once parked. */
  text: string;
  /** The text's bytes once parked (lines are ASCII: a character a byte, the offsets below hold for both). */
  bytes: Buffer | undefined;
  readonly count: number;
  readonly origin: PointOrigin;
  /** Points of this chunk already taken (sent or dropped), and where the next line starts in `text` (its lines joined by LF, none after the last). */
  head: number;
  headOffset: number;
}

interface Sent {
  seq: number;
  count: number;
  frame: Buffer;
}

/** Moves a chunk's head `n` lines on (to the end without scanning when it is all taken). */
function advance(c: Chunk, n: number): void {
  c.head += n;
  const bytes = c.bytes;
  if (c.head === c.count) {
    c.headOffset = bytes !== undefined ? bytes.length : c.text.length;
    return;
  }
  let off = c.headOffset;
  if (bytes !== undefined) for (let k = 0; k < n; k++) off = bytes.indexOf(LF, off) + 1;
  else for (let k = 0; k < n; k++) off = c.text.indexOf('\n', off) + 1;
  c.headOffset = off;
}

const LF = 0x0a;

/** `c` kept off V8's heap while it waits (see Chunk); once per chunk. */
function park(c: Chunk): void {
  if (c.bytes !== undefined) return;
  const b = c.batch;
  c.batch = { baseIds: b.baseIds, timestamps: b.timestamps, errors: b.errors };
  c.bytes = Buffer.from(c.text, 'latin1');
  c.text = '';
}

export class AgentClientDriver implements Driver {
  readonly scheme = 'agent';
  readonly counters: AgentClientCounters = { received: 0, acknowledged: 0, dropped: 0, resent: 0, connects: 0, connectErrors: 0 };
  readonly clientId = randomBytes(16);

  /** Batches not sent yet (the oldest first). */
  private queue: Chunk[] = [];
  private queued = 0;
  /** Sent on the current connection, not acknowledged: seq → frame. */
  private inflight = new Map<number, Sent>();
  private inflightPoints = 0;
  /** Sent on a connection that died before the ack: sent again first. */
  private resend: Sent[] = [];
  private readonly ledger = new DropLedger();
  private seq = 0;

  private socket: Socket | undefined;
  private ready = false;
  /**
   * The agent asked for the search index with the lines (WELCOME `index`): the notifier's
   * LineIndex is then encoded into each frame (lineindex.ts), so the agent and a collector
   * never parse a line to index it.
   */
  private sendIndex = false;
  /**
   * A WELCOME came (on this connection or an earlier one): `sendIndex` is known. Until then a
   * waiting batch is not parked, since the agent may yet ask for its index (read from the batch).
   */
  private welcomed = false;
  private connecting = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private blocked = false;
  private closed = false;
  private waiters: (() => void)[] = [];

  private readonly origin: PointOrigin;

  constructor(
    readonly options: Readonly<AgentClientOptions>,
    driverOptions: Partial<DriverOptions> = {},
  ) {
    this.origin = { project: driverOptions.project ?? null, service: driverOptions.service ?? null, host: driverOptions.host ?? '' };
    if (options.exitHooks) trackDriver(this);
    this.connect();
  }

  /** The raw path (what core's notifier calls): the lines, joined once, wait as one text until framed. */
  notifyLines(batch: LineBatch): void {
    this.enqueueLines(batch, this.origin);
  }

  /** Notification objects (other callers): serialised here, once, as Python would. */
  notify(batch: readonly Notification[]): void {
    if (batch.length === 0) return;
    const lines = linesOfNotifications(batch, notificationText, (err) => {
      this.counters.received++;
      this.counters.dropped++;
      recordFailure('agent.client.serialise', err);
    });
    const first = batch[0];
    const origin = { project: first.project ?? null, service: first.service ?? null, host: typeof first.info?.host === 'string' ? first.info.host : this.origin.host };
    this.enqueueLines(lines, origin);
  }

  private enqueueLines(batch: LineBatch, origin: PointOrigin): void {
    // The lines' count, not baseIds': core's batch makes its base ids only when read (dropOldest).
    const n = batch.lines.length;
    if (n === 0) return;
    this.counters.received += n;
    if (this.closed) {
      this.counters.dropped += n;
      return;
    }
    this.queue.push({ batch, index: this.sendIndex ? batch.index : undefined, text: batch.lines.join('\n'), bytes: undefined, count: n, origin, head: 0, headOffset: 0 });
    this.queued += n;
    if (this.queued > this.options.maxPoints) this.dropOldest(this.queued - this.options.maxPoints);
    // Core's notifier calls this once per batch, from its timer, off the request path: the
    // frame goes now rather than in a setImmediate (one immediate and one more wake-up per
    // batch, measured under callgrind on traced /hello). A pump already scheduled takes it.
    if (!this.pumpScheduled) this.pump();
    // What could not go now waits off the heap (the agent is behind, or down after a first
    // connection); with the index asked for, the chunk keeps the index it took when queued.
    if (this.welcomed) for (let i = this.queue.length - 1; i >= 0 && this.queue[i].bytes === undefined; i--) park(this.queue[i]);
  }

  /** Points waiting: queued, in flight and to resend, plus the drop markers owed. */
  get pending(): number {
    let resend = 0;
    for (const s of this.resend) resend += s.count;
    return this.queued + this.inflightPoints + resend + this.ledger.size;
  }

  /** Where the pending points are, and the connection state (for diagnostics). */
  state(): { queued: number; inflight: number; inflightBatches: number; resend: number; ready: boolean; blocked: boolean; connecting: boolean } {
    let resend = 0;
    for (const s of this.resend) resend += s.count;
    return {
      queued: this.queued,
      inflight: this.inflightPoints,
      inflightBatches: this.inflight.size,
      resend,
      ready: this.ready,
      blocked: this.blocked,
      connecting: this.connecting,
    };
  }

  get connected(): boolean {
    return this.ready;
  }

  private dropOldest(excess: number): void {
    let left = excess;
    while (left > 0 && this.queue.length > 0) {
      const c = this.queue[0];
      const take = Math.min(c.count - c.head, left);
      const { baseIds, timestamps } = c.batch;
      for (let i = c.head; i < c.head + take; i++) this.ledger.add(baseIds[i], timestamps[i], c.origin);
      left -= take;
      this.queued -= take;
      this.counters.dropped += take;
      advance(c, take);
      if (c.head === c.count) this.queue.shift();
    }
    if (this.counters.dropped === excess || this.counters.dropped % 10_000 < excess) {
      recordFailure('agent.client.dropped', new Error(`agent:// queue full (max_points=${this.options.maxPoints}): dropping the oldest points`));
    }
  }

  private schedule(): void {
    if (this.pumpScheduled || !this.ready || this.blocked) return;
    // Nothing to send (the usual case on an ack): no immediate.
    if (this.queued === 0 && this.resend.length === 0 && this.ledger.size === 0) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Resend first, then new batches, while the in-flight window has room. */
  private pump(): void {
    const socket = this.socket;
    if (!this.ready || socket === undefined || this.blocked) return;
    // Corked from the second frame on: the usual pump writes one frame, and cork + uncork
    // around it (the write buffered, then `clearBuffer`) cost ~7k instructions a batch.
    let frames = 0;
    try {
      let ok = true;
      while (ok && this.resend.length > 0) {
        const s = this.resend.shift() as Sent;
        this.counters.resent++;
        if (!this.sendIndex) s.frame = withoutIndex(s.frame);
        if (frames++ === 1) socket.cork();
        ok = this.send(socket, s);
      }
      const { maxInflightPoints, maxBatchPoints } = this.options;
      while (ok && (this.queued > 0 || this.ledger.size > 0) && this.inflightPoints < maxInflightPoints) {
        const seq = (this.seq = (this.seq + 1) >>> 0 || 1);
        const { frame, count } = this.takeBatch(seq, Math.min(maxBatchPoints, Math.max(1, maxInflightPoints - this.inflightPoints)));
        if (frames++ === 1) socket.cork();
        ok = this.send(socket, { seq, count, frame });
      }
      if (frames > 1) socket.uncork();
      if (!ok) {
        this.blocked = true;
        socket.once('drain', () => {
          this.blocked = false;
          this.schedule();
        });
      }
    } catch (err) {
      recordFailure('agent.client.send', err);
    }
  }

  private send(socket: Socket, s: Sent): boolean {
    this.inflight.set(s.seq, s);
    this.inflightPoints += s.count;
    return socket.write(s.frame);
  }

  /** The BATCH frame of up to `max` points from the queue, after the drop markers owed. */
  private takeBatch(seq: number, max: number): { frame: Buffer; count: number } {
    const parts: TextPart[] = [];
    let count = 0;
    if (this.ledger.size > 0) {
      const markers = linesOfNotifications(this.ledger.take('client-buffer'), notificationText);
      parts.push({ text: markers.lines.join('\n'), count: markers.lines.length, errors: null, index: markers.index });
      count += markers.lines.length;
    }
    while (count < max && this.queue.length > 0) {
      const c = this.queue[0];
      const take = Math.min(c.count - c.head, max - count);
      const from = c.head;
      const fromOffset = c.headOffset;
      advance(c, take);
      // Whole chunks go as they are (no copy); a cut chunk as a substring (or a view of its bytes).
      const whole = fromOffset === 0 && c.head === c.count;
      const bytes = c.bytes === undefined ? undefined : whole ? c.bytes : c.bytes.subarray(fromOffset, c.headOffset);
      const text = bytes !== undefined || whole ? c.text : c.text.slice(fromOffset, c.headOffset);
      let errors: number[] | null = null;
      const e = c.batch.errors;
      if (e !== null) for (let i = from; i < c.head; i++) if (e[i] === 1) (errors ??= []).push(i - from);
      parts.push({ text, bytes, count: take, errors, index: c.index ?? (this.sendIndex ? c.batch.index : undefined), from }); // (queued before the WELCOME: read now; a parked chunk has its index only if it was asked for when queued)
      count += take;
      this.queued -= take;
      if (c.head === c.count) this.queue.shift();
    }
    return encodeLineBatch(this.clientId, seq, parts, this.sendIndex);
  }

  private connect(): void {
    if (this.closed || this.connecting || this.socket !== undefined) return;
    this.connecting = true;
    const reader = new FrameReader(1024 * 1024);
    // The agent's replies (an ACK a batch) are read into one buffer of the connection
    // (`onread`) instead of through the Readable stream ('data': push, addChunk, emit, a
    // nextTick for maybeReadMore, a new Buffer a read), and a read of whole ACK frames is
    // handled in place: an ACK's read and its nextTicks ~49k → ~10k instructions a batch at
    // core's 100 ms timer in isolation, where this runs in baseline code (~1k a request in the
    // compare app, whose HTTP server keeps Node's stream code hot) (tools/bench/README.md, session 16, branch flush). Anything else goes
    // through the FrameReader as a copy (it keeps a view of a frame cut across reads).
    const socket = createConnection({
      path: this.options.socketPath,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (n: number, buf: Uint8Array): boolean => {
          if (reader.pendingBytes === 0 && onlyAcks(buf, n)) {
            for (let off = 0; off < n; off += ACK_FRAME_BYTES) this.onAck(((buf[off + 5] << 24) | (buf[off + 6] << 16) | (buf[off + 7] << 8) | buf[off + 8]) >>> 0);
            return true;
          }
          for (const f of reader.push(Buffer.copyBytesFrom(buf, 0, n))) this.onFrame(socket, f.type, f.payload);
          if (reader.failure !== undefined) socket.destroy(new Error(`agent protocol: ${reader.failure}`));
          return true; // go on reading
        },
      },
    });
    socket.unref();
    this.socket = socket;
    // An agent that accepts but never answers the HELLO must not hold the client forever.
    const helloTimer = setTimeout(() => {
      if (!this.ready && this.socket === socket) socket.destroy(new Error('agent did not answer the handshake within 5 s'));
    }, HELLO_TIMEOUT_MS);
    helloTimer.unref();
    socket.on('connect', () => {
      socket.write(encodeFrame(FrameType.HELLO, JSON.stringify({ v: PROTOCOL_VERSION, client: this.clientId.toString('hex'), pid: process.pid })));
    });
    socket.on('error', (err) => {
      this.counters.connectErrors++;
      recordFailure('agent.client.connect', err);
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      this.onClose(socket);
    });
  }

  private onFrame(socket: Socket, type: number, payload: Buffer): void {
    if (type === FrameType.ACK && payload.length === 4) {
      this.onAck(payload.readUInt32BE(0));
    } else if (type === FrameType.WELCOME) {
      const w = parseJsonObject(payload);
      if (w?.v !== PROTOCOL_VERSION) {
        socket.destroy(new Error(`agent speaks protocol ${String(w?.v)}, this client ${PROTOCOL_VERSION}`));
        return;
      }
      this.sendIndex = w.index === true;
      this.welcomed = true;
      this.connecting = false;
      this.ready = true;
      this.attempts = 0;
      this.counters.connects++;
      this.schedule();
    } else if (type === FrameType.ERROR) {
      const e = parseJsonObject(payload);
      socket.destroy(new Error(`agent refused: ${String(e?.message ?? 'unknown error')}`));
    }
  }

  private onAck(seq: number): void {
    const s = this.inflight.get(seq);
    if (s === undefined) return;
    this.inflight.delete(seq);
    this.inflightPoints -= s.count;
    this.counters.acknowledged += s.count;
    this.schedule();
    this.checkWaiters();
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.ready = false;
    this.connecting = false;
    this.blocked = false;
    // Everything sent on this connection and not acknowledged goes again, in order.
    if (this.inflight.size > 0) {
      this.resend = [...this.resend, ...this.inflight.values()].sort((a, b) => a.seq - b.seq);
      this.inflight.clear();
      this.inflightPoints = 0;
    }
    if (this.closed) {
      this.checkWaiters();
      return;
    }
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.attempts++, 16)) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
    this.reconnectTimer.unref();
    this.checkWaiters();
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    if (this.pending === 0 || this.closed) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves once everything notified so far is acknowledged, or after `timeoutMs`. */
  flush(timeoutMs = 5000): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    this.socket?.ref();
    if (this.socket === undefined && this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.connect();
      (this.socket as Socket | undefined)?.ref();
    }
    this.schedule();
    return new Promise<void>((resolve) => {
      let t: NodeJS.Timeout | undefined = undefined;
      const done = (): void => {
        if (t !== undefined) clearTimeout(t);
        this.socket?.unref();
        resolve();
      };
      t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        done();
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    untrackDriver(this);
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.socket?.end();
    this.socket?.destroy();
    this.checkWaiters();
  }

  getReport(baseId: string): Promise<Report> {
    return agentRequest(this.options.socketPath, 'getReport', [baseId]) as Promise<Report>;
  }

  listTraces(options?: ListOptions): Promise<TraceSummary[]> {
    return agentRequest(this.options.socketPath, 'listTraces', [options ?? {}]) as Promise<TraceSummary[]>;
  }

  listErrorTraces(options?: ListOptions): Promise<TraceSummary[]> {
    return agentRequest(this.options.socketPath, 'listErrorTraces', [options ?? {}]) as Promise<TraceSummary[]>;
  }

  /** Trace search, answered by the agent's own store (PROTOCOL.md, Reads). */
  searchTraces(options?: SearchOptions): Promise<SearchPage> {
    const o = { ...(options ?? {}) };
    // Dates do not survive JSON: epoch ms do.
    if (o.since instanceof Date) o.since = o.since.getTime();
    if (o.until instanceof Date) o.until = o.until.getTime();
    return agentRequest(this.options.socketPath, 'searchTraces', [o]) as Promise<SearchPage>;
  }
}
