/**
 * The redis:// driver's write connection: batches encoded as one Buffer (./resp.ts) on a
 * plain socket, replies counted per batch. Reads stay on ioredis. Same contract as the
 * ioredis client it replaces on the write path: AUTH and SELECT (and SCRIPT LOAD of the
 * driver's scripts) on every (re)connect, a write to a down server fails at once (nothing
 * thrown synchronously), reconnects by itself with backoff (200 ms × attempts, at most
 * 2 s), a batch not answered within command_timeout fails and the socket is reset;
 * socket errors are counted.
 */
import { connect, type Socket } from 'node:net';
import { contained } from '../contained';
import type { DriverCounters } from '../inflight';
import type { IdleUnref } from '../idle-unref';
import type { RedisSettings } from './options';
import { RedisReplyError, RespEncoder, RespParser, type Reply, type Script, type ScriptCall } from './resp';

/** A batch on the wire, waiting for its replies (in order: Redis answers in order). */
interface Round {
  readonly expected: number;
  got: number;
  /** Every reply, when the caller wants them. */
  readonly replies: Reply[] | undefined;
  /** Error replies, with their command's index. */
  errors: { index: number; error: RedisReplyError }[] | undefined;
  readonly deadline: number;
  resolve(r: Round): void;
  reject(err: Error): void;
}

/** An encoded batch, as RespEncoder.take() hands it over. */
export type EncodedBatch = ReturnType<RespEncoder['take']>;

const MAX_BACKOFF_MS = 2000;

export class RedisWriter {
  /** Where the driver encodes its batches. */
  readonly encoder = new RespEncoder();
  private socket: Socket | undefined;
  private readonly queue: Round[] = [];
  private lastError: Error | undefined;
  private attempts = 0;
  private started = false;
  private closed = false;
  private reconnect: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly settings: Readonly<RedisSettings>,
    private readonly counters: DriverCounters,
    private readonly keep: IdleUnref,
    /**
     * Loaded (SCRIPT LOAD) on every connect, so the first batch does not take a NOSCRIPT
     * round trip, and an EVALSHA inside MULTI (./once.ts) finds its script.
     */
    private readonly preload: readonly Script[] = [],
  ) {}

  private get endpoint(): string {
    return `${this.settings.host}:${this.settings.port}/${this.settings.db}`;
  }

  /** Connects and checks the server answers (AUTH, SELECT, PING); rejects with why not. Reconnects by itself from then on. */
  async start(): Promise<void> {
    await this.open();
    this.started = true;
  }

  /**
   * Sends an encoded batch; resolves with its replies when `keep` (else undefined), or
   * rejects with the first error reply, or when the connection is down, lost or the
   * batch is not answered in time. A script the server does not know (NOSCRIPT: restarted,
   * SCRIPT FLUSH) is loaded and that command sent again, once; the others are not resent.
   * Error replies of commands from `softFrom` on do not reject (the caller reads them in
   * the replies it keeps: the search index's, whose failure must not fail the points).
   */
  async exec(batch: EncodedBatch, keep: boolean, softFrom = Infinity): Promise<Reply[] | undefined> {
    const round = await this.send(batch.bytes, batch.commands, keep);
    if (round.errors !== undefined && batch.scripts !== undefined) await this.resendScripts(batch, round, keep);
    // Every reply is in: the server has read the bytes, the memory can take the next batch.
    this.encoder.release(batch.bytes);
    if (round.errors !== undefined && round.errors[0].index < softFrom) throw round.errors[0].error;
    return round.replies;
  }

  /**
   * Sends an encoded batch and resolves with every reply, error replies included (nothing
   * resent on NOSCRIPT); rejects only when the connection is down, lost or the batch is not
   * answered in time. For batches whose replies the caller reads itself (./once.ts).
   */
  async execReplies(batch: EncodedBatch): Promise<Reply[]> {
    const round = await this.send(batch.bytes, batch.commands, true);
    this.encoder.release(batch.bytes);
    return round.replies!;
  }

  private async resendScripts(batch: EncodedBatch, round: Round, keep: boolean): Promise<void> {
    const calls = batch.scripts!;
    const lost = round.errors!.filter((e) => e.error.message.startsWith('NOSCRIPT'));
    const again = lost.map((e) => calls.find((c) => c.index === e.index)).filter((c): c is ScriptCall => c !== undefined);
    if (again.length === 0) return;
    const enc = new RespEncoder(1024);
    const scripts = [...new Set(again.map((c) => c.script))];
    for (const s of scripts) enc.call('SCRIPT', 'LOAD', s.lua);
    const parts = [enc.take().bytes, ...again.map((c) => batch.bytes.subarray(c.start, c.end))];
    const replies = (await this.send(Buffer.concat(parts), scripts.length + again.length, true)).replies!;
    const resent = new Set(again.map((c) => c.index));
    const errors = round.errors!.filter((e) => !resent.has(e.index));
    again.forEach((c, k) => {
      const r = replies[scripts.length + k];
      if (keep) round.replies![c.index] = r;
      if (r instanceof RedisReplyError) errors.push({ index: c.index, error: r });
    });
    errors.sort((a, b) => a.index - b.index);
    round.errors = errors.length > 0 ? errors : undefined;
  }

  /** Writes `bytes` (`expected` commands) and waits for their replies. */
  private send(bytes: Buffer, expected: number, keep: boolean): Promise<Round> {
    const s = this.socket;
    if (s === undefined) {
      return Promise.reject(new Error(`redis:// ${this.endpoint} is not connected (reconnecting): ${this.lastError?.message ?? 'connection lost'}`));
    }
    return new Promise<Round>((resolve, reject) => {
      this.queue.push({ expected, got: 0, replies: keep ? [] : undefined, errors: undefined, deadline: Date.now() + this.settings.commandTimeoutMs, resolve, reject });
      s.write(bytes);
      // command_timeout=0: none (as ioredis took it).
      if (this.settings.commandTimeoutMs > 0) this.timer ??= this.armTimer(this.settings.commandTimeoutMs);
    });
  }

  private onReply(reply: Reply): void {
    const r = this.queue[0];
    if (r === undefined) {
      this.fail(new Error(`redis:// ${this.endpoint} sent a reply nothing waited for`));
      return;
    }
    if (r.replies !== undefined) r.replies.push(reply);
    if (reply instanceof RedisReplyError) (r.errors ??= []).push({ index: r.got, error: reply });
    if (++r.got === r.expected) {
      this.queue.shift();
      r.resolve(r);
    }
  }

  /** One timer for the oldest batch's deadline (not one per batch): re-armed for the next one when it fires. */
  private armTimer(ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timer = undefined;
      const head = this.queue[0];
      if (head === undefined) return;
      const left = head.deadline - Date.now();
      if (left > 0) {
        this.timer = this.armTimer(left);
        return;
      }
      this.fail(new Error(`redis:// ${this.endpoint}: no answer within ${this.settings.commandTimeoutMs} ms (command_timeout); the connection is reset`));
    }, ms);
    t.unref();
    return t;
  }

  /** Fails every batch waiting and drops the socket (it reconnects). */
  private fail(err: Error): void {
    const s = this.socket;
    this.lastError = err;
    this.failAll(err);
    if (s !== undefined) s.destroy();
  }

  private failAll(err: Error): void {
    const waiting = this.queue.splice(0);
    for (const r of waiting) r.reject(err);
  }

  /** A new socket; resolves when the server answered AUTH/SELECT/PING on it. */
  private open(): Promise<void> {
    const { host, port, username, password, db, connectTimeoutMs } = this.settings;
    const s = connect({ host, port });
    s.setNoDelay(true);
    this.socket = s;
    this.keep.add(s);
    const parser = new RespParser((reply) => this.onReply(reply));
    const connectTimer = setTimeout(() => s.destroy(new Error(`no connection within ${connectTimeoutMs} ms (connect_timeout)`)), connectTimeoutMs);
    connectTimer.unref();
    s.once('connect', () => clearTimeout(connectTimer));
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      try {
        parser.feed(chunk);
      } catch (err) {
        // Not RESP: the connection cannot be trusted; reset.
        contained('redis.reply', err);
        this.counters.connectionErrors++;
        this.fail(err as Error);
      }
    });
    s.on('error', (err) => {
      this.counters.connectionErrors++;
      if (this.socket === s) this.lastError = err;
    });
    s.once('close', () => {
      clearTimeout(connectTimer);
      if (this.socket !== s) return;
      this.socket = undefined;
      this.failAll(this.lastError ?? new Error(`redis:// ${this.endpoint}: connection closed`));
      this.scheduleReconnect();
    });
    // Sent first; batches written meanwhile wait behind it in the socket (and fail with it).
    const enc = new RespEncoder(256);
    if (password !== undefined) {
      if (username !== undefined) enc.call('AUTH', username, password);
      else enc.call('AUTH', password);
    }
    if (db !== 0) enc.call('SELECT', String(db));
    enc.call('PING');
    const checked = enc.count;
    // A SCRIPT LOAD refused (an ACL without scripting) is not fatal: EVALSHA then says NOSCRIPT as before.
    for (const s of this.preload) enc.call('SCRIPT', 'LOAD', s.lua);
    const hello = enc.take();
    return this.send(hello.bytes, hello.commands, false).then((r) => {
      const fatal = r.errors?.find((e) => e.index < checked);
      if (fatal !== undefined) {
        const err = fatal.error;
        this.counters.connectionErrors++;
        this.fail(err);
        throw err;
      }
      this.attempts = 0;
      this.lastError = undefined;
    });
  }

  private scheduleReconnect(): void {
    if (!this.started || this.closed || this.reconnect !== undefined) return;
    const delay = Math.min(++this.attempts * 200, MAX_BACKOFF_MS);
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      if (this.closed) return;
      // Failures are counted by the socket's handlers and retried from its 'close'.
      this.open().catch(() => undefined);
    }, delay);
    this.reconnect.unref();
  }

  /** Ends the connection once nothing is waiting (the driver flushed first); cut after `timeoutMs`. */
  close(timeoutMs = 5000): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    clearTimeout(this.reconnect);
    this.reconnect = undefined;
    const s = this.socket;
    if (s === undefined) return (this.closing = Promise.resolve());
    this.closing = new Promise<void>((resolve) => {
      const t = setTimeout(() => s.destroy(), timeoutMs);
      t.unref();
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.end();
    });
    return this.closing;
  }
}
