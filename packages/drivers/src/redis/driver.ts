/**
 * `redis://` driver: Python OSProfiler's Redis layout and payloads (wire spec §4), so
 * Python's `osprofiler trace show/list` read what Node wrote and the other way round.
 *
 * Writes are batched: each notify() batch becomes, per trace, ONE `LPUSH
 * osprofiler_opt:<base_id> e1 e2 …` (the same list as one LPUSH per event, oldest pushed
 * first), plus the error index SETs, encoded into one Buffer and sent on a write connection
 * of its own (./writer.ts), then the search index's batch (./index-write.ts), made while
 * Redis stores the lines and sent behind them; reads use ioredis.
 */
import type { Redis as RedisClient } from 'ioredis';
import { buildReport, pyDumps } from '@osprofiler/core';
import { linesOfNotifications, parseStoredEvent, searchIndex, withTimeout } from '@osprofiler/core/instrument';
import type { Driver, DriverOptions, ListOptions, Notification, Report, SearchOptions, SearchPage, TraceSummary } from '@osprofiler/core';
import type { DriverFactory, LineBatch, LinePlaces, TraceDelta } from '@osprofiler/core/instrument';
import { contained } from '../contained';
import { IndexReader } from './index-read';
import { IndexWriter, TRIM } from './index-write';
import { connectError } from '../errors';
import { IdleUnref } from '../idle-unref';
import { InFlight, newCounters, type DriverCounters } from '../inflight';
import { requirePeer } from '../optional';
import { NAMESPACE_ERROR, NAMESPACE_LEGACY, NAMESPACE_OPT, globEscape } from './keys';
import { NAMESPACE_BATCH, ONCE_CHECK_LUA, onceOutcome, type OnceSlot } from './once';
import { redisSettings, type RedisSettings } from './options';
import { encodeOldest, splitScores } from './split-mark';
import { RedisReplyError, type Reply, type RespEncoder } from './resp';
import { RedisWriter, type EncodedBatch } from './writer';

type IORedis = typeof import('ioredis');

const SCAN_COUNT = 1000;
/** Keys read per pipeline round trip when listing. */
const READ_CHUNK = 500;
/** Values per LPUSH: a huge trace is sent as several commands, so Redis never holds one command of millions of arguments. */
const LPUSH_MAX = 10_000;
/** Tries of a write-once batch whose marker another connection changed between check and EXEC (a second try finds it written). */
const ONCE_ATTEMPTS = 5;

export class RedisDriver implements Driver {
  readonly scheme = 'redis';
  private readonly inflight = new InFlight();
  private closed = false;
  private readonly index: IndexReader;
  private readonly indexWriter: IndexWriter;
  /** Write-once batches tried again because another connection wrote their marker between check and EXEC. */
  onceRaces = 0;

  /** Use `createRedisDriver` (it connects and checks the server first). */
  constructor(
    readonly settings: Readonly<RedisSettings>,
    private readonly client: RedisClient,
    /** The write path's connection (batches as one Buffer each); reads stay on `client`. */
    private readonly writer: RedisWriter,
    readonly counters: DriverCounters = newCounters(),
    /** Keeps the sockets from holding the process open while nothing is in flight. */
    private readonly keep: IdleUnref = new IdleUnref(),
  ) {
    this.index = new IndexReader(client);
    this.indexWriter = new IndexWriter(settings.ttlSeconds);
  }

  /** The store's endpoint, for messages: `host:port/db` (never the password). */
  get endpoint(): string {
    return `${this.settings.host}:${this.settings.port}/${this.settings.db}`;
  }

  notify(batch: readonly Notification[]): Promise<void> {
    // Serialise now: the caller may reuse its objects once we return.
    return this.notifyLines(linesOfNotifications(batch));
  }

  /** The raw path: lines already in Python's format, pushed as they are. */
  notifyLines(batch: LineBatch): Promise<void> {
    if (this.closed) throw new Error(`redis:// driver for ${this.endpoint} is closed`);
    if (batch.baseIds.length === 0) return Promise.resolve();
    return this.write(batch);
  }

  /**
   * Idempotent writes (the collector's): each item is one transaction (./once.ts) with its
   * marker `osprofiler_batch:<key>`, its lines, error keys and search index; an item whose
   * marker exists is not written again. All items go in one Buffer; resolves with, per
   * item, whether it was written now (false: it had been written before).
   */
  async notifyLinesOnce(items: readonly { key: string; batch: LineBatch }[], markerTtlSeconds = 7 * 86_400): Promise<boolean[]> {
    if (this.closed) throw new Error(`redis:// driver for ${this.endpoint} is closed`);
    const written = new Array<boolean>(items.length).fill(false);
    let todo = items.map((_, i) => i);
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (attempt > ONCE_ATTEMPTS) throw new Error(`redis:// ${this.endpoint}: ${todo.length} batch(es) raced another writer ${ONCE_ATTEMPTS} times (marker changed between check and EXEC)`);
      todo = await this.writeOnce(items, todo, markerTtlSeconds, written);
    }
    return written;
  }

  /** One try at the items `todo`: sets `written[i]`, throws the first failure, returns the items to try again (raced). */
  private async writeOnce(items: readonly { key: string; batch: LineBatch }[], todo: readonly number[], markerTtlSeconds: number, written: boolean[]): Promise<number[]> {
    const slots: OnceSlot[] = [];
    const sites: { pushes: Pushes; first: number }[] = [];
    const marker = String(markerTtlSeconds);
    /** Each item's index deltas (a split trace's earliest in its batch: splitScores). */
    const itemDeltas: Map<string, TraceDelta>[] = [];
    const batch = this.encode((enc) => {
      for (const item of todo) {
        const b = items[item].batch;
        const lists = linesPerTrace(b, this.settings.filterErrorTrace);
        const { ids, errors } = lists;
        const key = NAMESPACE_BATCH + items[item].key;
        const at = enc.count;
        enc.command(2).str('WATCH').str(key);
        enc.command(6 + ids.length + errors.size).str('EVAL').str(ONCE_CHECK_LUA).str(String(1 + ids.length + errors.size)).str(key);
        for (const baseId of ids) enc.str(NAMESPACE_OPT + baseId);
        for (const baseId of errors.keys()) enc.str(NAMESPACE_ERROR + baseId);
        enc.str(String(ids.length)).str(marker);
        enc.command(1).str('MULTI');
        const first = enc.count;
        enc.command(5).str('SET').str(key).str('1').str('EX').str(marker);
        const pushes = this.encodeLines(enc, b, lists);
        // The index's trimming call, when it has one, is the last of its commands.
        const deltas = this.settings.index ? searchIndex.deltasOfBatch(b) : undefined;
        if (deltas !== undefined) itemDeltas.push(deltas);
        const indexAt = deltas !== undefined && this.indexWriter.addToBatch(enc, deltas) ? enc.count - 1 - first : -1;
        const queued = enc.count - first;
        enc.command(1).str('EXEC');
        slots.push({ item, at, queued, indexAt });
        sites.push({ pushes, first });
      }
    });
    let replies: Reply[];
    try {
      replies = await this.inflight.track(this.keep.run(() => this.writer.execReplies(batch)));
    } catch (err) {
      // Connection lost or no answer in time: which transactions ran is unknown (each is all
      // or nothing; the caller's retry finds the markers of those that did).
      for (const i of todo) this.counters.failed += items[i].batch.baseIds.length;
      throw err;
    }
    const again: number[] = [];
    let lostTrim = false;
    const split: string[] = [];
    let failure: Error | undefined;
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k];
      const o = onceOutcome(replies, slot);
      const points = items[slot.item].batch.baseIds.length;
      if (o.kind === 'written') {
        written[slot.item] = true;
        this.counters.written += points;
        if (o.indexLost) lostTrim = true;
        // Inside EXEC's answer, the transaction's commands count from its first (the marker's SET).
        if (this.settings.index) splitTraces(replies[slot.at + 3 + slot.queued] as Reply[], sites[k].pushes, sites[k].first, split);
      } else if (o.kind === 'raced') {
        this.onceRaces++;
        again.push(slot.item);
      } else if (o.kind === 'failed') {
        failure ??= o.error;
        this.counters.failed += points;
      }
    }
    this.counters.batches++;
    if (lostTrim || split.length > 0) {
      // SCRIPT FLUSH since connect: trimming follows on its own (the writer loads the script
      // again); traces that came in more than one batch are marked.
      await this.inflight.track(this.keep.run(async () => {
        const scores = split.length > 0 ? await this.splitScores(split, itemDeltas) : [];
        const ib = this.encode((enc) => {
          if (lostTrim) this.indexWriter.encodeTrim(enc);
          this.indexWriter.encodeSplit(enc, split, scores);
        });
        await this.writer.exec(ib, false);
      })).catch((err: unknown) => contained('redis.index', err));
    }
    if (failure !== undefined) throw failure;
    return again;
  }

  /**
   * Per trace ONE LPUSH (oldest first; split past LPUSH_MAX values) and its EXPIRE, then the
   * error index. Returns where each trace's first LPUSH is (its answer, the list's length
   * after it, says whether an earlier batch pushed lines of that trace: splitTraces).
   */
  private encodeLines(enc: RespEncoder, batch: LineBatch, lists: TraceLists): Pushes {
    const { ids, ends, order, errors } = lists;
    const { ttlSeconds } = this.settings;
    const ttl = String(ttlSeconds);
    const from = enc.count;
    let asBytes = false;
    if (ids.length > 0) {
      // The agent's decoded lines: their bytes copied from where they are (no Buffer a line).
      const places = batch.linePlaces;
      if (places !== undefined) asBytes = linesAsBytes(enc, ids, ends, order, places, ttlSeconds > 0 ? ttl : undefined);
      else if (batch.buffers !== undefined) asBytes = linesAsBytes(enc, ids, ends, order, batch.buffers, ttlSeconds > 0 ? ttl : undefined);
    }
    // linesAsBytes: trace k's LPUSH is command from + k (× 2 with EXPIREs).
    const pushes: Pushes = { ids, ends, at: asBytes ? null : new Array<number>(ids.length), from, step: ttlSeconds > 0 ? 2 : 1 };
    if (!asBytes) {
      const lines = (batch.buffers as readonly Uint8Array[] | undefined) ?? batch.lines;
      for (let k = 0; k < ids.length; k++) {
        const baseId = ids[k];
        const first = k === 0 ? 0 : ends[k - 1];
        const last = ends[k];
        pushes.at![k] = enc.count;
        for (let i = first; i < last; i += LPUSH_MAX) lpush(enc, baseId, lines, order, i, Math.min(last, i + LPUSH_MAX));
        if (ttlSeconds > 0) enc.command(3).str('EXPIRE').str(NAMESPACE_OPT + baseId).str(ttl);
      }
    }
    // Only with filterErrorTrace (linesPerTrace): one SET per trace, its last error.
    for (const [baseId, timestamp] of errors) {
      const key = NAMESPACE_ERROR + baseId;
      const value = pyDumps({ base_id: baseId, timestamp });
      if (ttlSeconds > 0) enc.command(5).str('SET').str(key).str(value).str('EX').str(ttl);
      else enc.command(3).str('SET').str(key).str(value);
    }
    return pushes;
  }

  /**
   * Two writes on the one connection: the lines and error index (encodeLines), sent at
   * once, then the search index's batch (./index-write.ts), made while Redis stores the
   * lines and sent behind them (Redis answers in order, so the index never runs ahead of
   * its lines). One Buffer with both kept the client idle while Redis stored the lines and
   * Redis idle while the client made the index. The points are stored once the lines'
   * write answers; the index's refusals are counted and contained. Then, the index taken,
   * the traces an earlier batch had pushed lines of are marked `split` (their records are partial: a
   * search reads them from their lines). A failed mark (counted, contained) leaves each
   * part of such a trace found on its own until the trace is written again.
   */
  private write(batch: LineBatch): Promise<void> {
    const points = batch.baseIds.length;
    const index = this.settings.index;
    let pushes: Pushes | undefined;
    const lines = this.encode((enc) => {
      pushes = this.encodeLines(enc, batch, linesPerTrace(batch, this.settings.filterErrorTrace));
    });
    return this.inflight.track(this.keep.run(async () => {
      // Both writes leave before the first await (an async function runs to it at once):
      // the deltas and the index are made while Redis stores the lines.
      const stored = this.exec(lines, points, index);
      // Its outcome as a value (never a rejection that waits, unhandled, while the lines do).
      const indexed = index ? this.writeIndex(batch).then((deltas) => ({ deltas, failure: undefined as unknown }), (failure: unknown) => ({ deltas: undefined, failure })) : undefined;
      let replies: unknown[] | undefined;
      let deltas: Map<string, TraceDelta> | undefined;
      try {
        replies = await stored;
      } finally {
        // Settled either way before the write does: flush() and close() wait for it. When
        // the lines failed too (the connection), theirs is the failure that counts.
        if (indexed !== undefined) {
          const outcome = await indexed;
          deltas = outcome.deltas;
          if (outcome.failure !== undefined && replies !== undefined) contained('redis.index', outcome.failure);
        }
      }
      if (deltas === undefined || replies === undefined || pushes === undefined) return;
      const split: string[] = [];
      splitTraces(replies as Reply[], pushes, 0, split);
      if (split.length === 0) return;
      try {
        const scores = await this.splitScores(split, [deltas]);
        await this.writer.exec(this.encode((enc) => this.indexWriter.encodeSplit(enc, split, scores)), false);
      } catch (err) {
        contained('redis.index', err);
      }
    }));
  }

  /**
   * Makes and sends a batch's search index; resolves with its deltas once Redis took it,
   * rejects with what failed (a refusal: a key of another type, a script error; or the
   * connection). The points are stored whatever becomes of their index.
   */
  private async writeIndex(batch: LineBatch): Promise<Map<string, TraceDelta>> {
    const deltas = searchIndex.deltasOfBatch(batch);
    const index = this.encode((enc) => this.indexWriter.addToBatch(enc, deltas));
    if (index.commands === 0) return deltas;
    const replies = await this.writer.exec(index, true, 0);
    const refused = replies?.find((r) => r instanceof RedisReplyError);
    if (refused !== undefined) throw refused;
    return deltas;
  }

  /** Split traces' scores: their starts (./split-mark.ts), their oldest lines read on the write connection. */
  private async splitScores(ids: readonly string[], deltas: readonly Map<string, TraceDelta>[]): Promise<string[]> {
    const replies = await this.writer.execReplies(this.encode((enc) => encodeOldest(enc, ids)));
    return splitScores(replies, ids, deltas);
  }

  /** The commands `fill` encodes, as one batch; nothing of it is kept when `fill` throws. */
  private encode(fill: (enc: RespEncoder) => void): EncodedBatch {
    const enc = this.writer.encoder;
    try {
      fill(enc);
    } catch (err) {
      enc.reset();
      throw err;
    }
    return enc.take();
  }

  /** Sends a batch of `points` points; resolves with its replies when `keep`, rejects when a command failed. */
  private async exec(batch: EncodedBatch, points: number, keep: boolean): Promise<unknown[] | undefined> {
    let results: unknown[] | undefined;
    try {
      results = await this.writer.exec(batch, keep);
    } catch (err) {
      // Some lists may have been written; we cannot tell which events were lost.
      this.counters.failed += points;
      throw err;
    }
    this.counters.written += points;
    this.counters.batches++;
    return results;
  }

  getReport(baseId: string): Promise<Report> {
    return this.keep.run(() => this.readReport(baseId));
  }

  private async readReport(baseId: string): Promise<Report> {
    const events: Record<string, unknown>[] = [];
    const add = (text: string | null): void => {
      const ev = text === null ? undefined : parseStoredEvent(text);
      if (ev !== undefined) events.push(ev);
    };
    // As Python: legacy per-event keys first (SCAN order), then the list, newest first.
    const legacy = await this.scanAll(NAMESPACE_LEGACY + globEscape(baseId) + '*');
    for (let i = 0; i < legacy.length; i += READ_CHUNK) {
      const values = await this.client.mget(legacy.slice(i, i + READ_CHUNK));
      values.forEach(add);
    }
    (await this.client.lrange(NAMESPACE_OPT + baseId, 0, -1)).forEach(add);
    return buildReport(events);
  }

  /**
   * Every trace, newest first. As Python: a legacy trace shows its earliest event; a list
   * shows its SECOND-newest event (`LINDEX key 1`), and a list with one event is skipped
   * (as Python 4.x; 3.4.3 crashes on it).
   */
  listTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return this.keep.run(() => this.readTraces(options));
  }

  private async readTraces(options: ListOptions): Promise<TraceSummary[]> {
    const out = await this.listLegacy();
    const keys = await this.scanAll(NAMESPACE_OPT + '*');
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      const p = this.client.pipeline();
      for (const key of keys.slice(i, i + READ_CHUNK)) p.lindex(key, 1);
      for (const [err, value] of (await p.exec()) ?? []) {
        if (err !== null) throw err;
        const s = summaryOf(typeof value === 'string' ? parseStoredEvent(value) : undefined);
        if (s !== undefined) out.push(s);
      }
    }
    return newestFirst(out, options.limit);
  }

  private async listLegacy(): Promise<TraceSummary[]> {
    const keys = await this.scanAll(NAMESPACE_LEGACY + '*');
    const earliest = new Map<string, TraceSummary>();
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      for (const text of await this.client.mget(keys.slice(i, i + READ_CHUNK))) {
        const s = summaryOf(text === null ? undefined : parseStoredEvent(text));
        if (s === undefined) continue;
        const seen = earliest.get(s.base_id);
        if (seen === undefined || s.timestamp < seen.timestamp) earliest.set(s.base_id, s);
      }
    }
    return [...earliest.values()];
  }

  /** Traces indexed with an error (written only while filterErrorTrace is on), newest first. */
  listErrorTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return this.keep.run(() => this.readErrorTraces(options));
  }

  private async readErrorTraces(options: ListOptions): Promise<TraceSummary[]> {
    const keys = await this.scanAll(NAMESPACE_ERROR + '*');
    const byId = new Map<string, TraceSummary>();
    for (let i = 0; i < keys.length; i += READ_CHUNK) {
      for (const text of await this.client.mget(keys.slice(i, i + READ_CHUNK))) {
        const s = summaryOf(text === null ? undefined : parseStoredEvent(text));
        if (s === undefined) continue;
        // Python sorts by timestamp and keeps the first of each base_id.
        const seen = byId.get(s.base_id);
        if (seen === undefined || s.timestamp < seen.timestamp) byId.set(s.base_id, s);
      }
    }
    return newestFirst([...byId.values()], options.limit);
  }

  /** Trace search over the `osprofiler_idx:` index, plus traces only Python wrote (marked `indexed: false`). */
  searchTraces(options: SearchOptions = {}): Promise<SearchPage> {
    return this.keep.run(() => this.index.search(options));
  }

  private async scanAll(match: string): Promise<string[]> {
    const keys = new Set<string>(); // SCAN may return a key twice
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== '0');
    return [...keys];
  }

  /** Resolves once every batch handed to notify() so far was written (or failed), or after `timeoutMs`. */
  flush(timeoutMs = 5000): Promise<void> {
    return this.inflight.settle(timeoutMs);
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    // Held open until both connections are closed (idle sockets are unref'd).
    await this.keep.run(() => this.writer.close(timeoutMs));
    try {
      await this.keep.run(() => Promise.race([
        this.client.quit(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), timeoutMs).unref()),
      ]));
    } catch (err) {
      contained('redis.quit', err); // the connection is cut instead
      this.client.disconnect();
    }
  }
}

/** A batch's lines per trace: trace k's base_id and its lines; each trace's error key value. */
/** Where a batch's LPUSHes are: trace k's first at `at[k]`, or (one LPUSH a trace) at `from + k × step`; `ends` as TraceLists'. */
interface Pushes {
  ids: readonly string[];
  ends: readonly number[];
  at: number[] | null;
  from: number;
  step: number;
}

/**
 * Adds to `out` the traces whose first LPUSH answered a list longer than it pushed: lines of
 * theirs were there before (an earlier batch's, another writer's, or Python's). `replies`
 * holds the commands' answers from command `first` on.
 */
function splitTraces(replies: readonly Reply[], p: Pushes, first: number, out: string[]): void {
  if (!Array.isArray(replies)) return;
  const { ids, ends, at } = p;
  for (let k = 0; k < ids.length; k++) {
    const r = replies[(at === null ? p.from + k * p.step : at[k]) - first];
    if (typeof r === 'number' && r > Math.min(ends[k] - (k === 0 ? 0 : ends[k - 1]), LPUSH_MAX)) out.push(ids[k]);
  }
}

/**
 * A batch's points per trace: trace k (base_id `ids[k]`) has the batch's lines at positions
 * [ends[k - 1] (0 for the first), ends[k]) of `order`, or of the batch itself when `order` is
 * null (every trace's lines came together); `errors` each trace's error key value.
 */
interface TraceLists {
  ids: string[];
  ends: number[];
  order: number[] | null;
  errors: Map<string, string>;
}

/**
 * A batch's lines per trace, in batch order, and with `withErrors` each trace's error key
 * value: the timestamp of its LAST error point, as Python's SET per event leaves it. Lines
 * are taken in runs of one base_id, as positions (no array a trace: a 1-point trace's list
 * grown by its second line was ~180 bytes of V8's heap). Only when a trace came in two
 * runs (a Set of the runs' ids says whether) are they joined by a Map of line lists (its
 * hashing, lookups and lists were ~1.3k instructions a 1-point trace, callgrind).
 */
function linesPerTrace(batch: LineBatch, withErrors: boolean): TraceLists {
  const { baseIds, timestamps, errors: isError } = batch;
  const n = baseIds.length;
  const ids: string[] = [];
  const ends: number[] = [];
  const errors = new Map<string, string>();
  const flagged = withErrors ? isError : null;
  let lastId = '';
  let runs = 0;
  for (let i = 0; i < n; i++) {
    const baseId = baseIds[i];
    // Points of one trace tend to come together (the agent's decode gives a run one string).
    if (baseId !== lastId || i === 0) {
      if (runs > 0) ends[runs - 1] = i;
      ids[runs++] = baseId;
      lastId = baseId;
    }
    if (flagged !== null && flagged[i] === 1) errors.set(baseId, timestamps[i]);
  }
  if (runs > 0) ends[runs - 1] = n;
  if (new Set(ids).size === runs) return { ids, ends, order: null, errors };
  // Maybe a trace in several runs: joined, in the order of their first line.
  const byId = new Map<string, number[]>();
  for (let k = 0; k < runs; k++) {
    let l = byId.get(ids[k]);
    if (l === undefined) byId.set(ids[k], (l = []));
    for (let i = k === 0 ? 0 : ends[k - 1]; i < ends[k]; i++) l.push(i);
  }
  const order: number[] = [];
  const joined: number[] = [];
  for (const l of byId.values()) {
    for (const i of l) order.push(i);
    joined.push(order.length);
  }
  return { ids: [...byId.keys()], ends: joined, order, errors };
}

/** `*<argc>\r\n` and LPUSH's name, for the usual argument counts (made up front, as search.ts HEADS). */
const LPUSH_HEADS: string[] = Array.from({ length: 64 }, (_, argc) => `*${argc}\r\n$5\r\nLPUSH\r\n`);
/** The last `$<length>\r\nosprofiler_opt:` made, for ids of its length. */
let keyHead = { idLength: -1, text: '' };

/**
 * Per trace its LPUSH (and, with `ttl`, its EXPIRE) of byte lines (`lines`: a Buffer a line,
 * or where the agent's decoded lines are), the commands' texts (names, keys) framed here and
 * written with one utf8Write (RespEncoder.interleaved) instead of one a key; false (nothing
 * written) when a trace has more than LPUSH_MAX lines or an id is not ASCII (encodeLines then
 * writes them command by command).
 */
function linesAsBytes(enc: RespEncoder, ids: readonly string[], ends: readonly number[], order: readonly number[] | null, lines: readonly Uint8Array[] | LinePlaces, ttl: string | undefined): boolean {
  let text = '';
  const at: number[] = new Array<number>(ids.length);
  const expire = ttl === undefined ? '' : '\r\n$' + ttl.length + '\r\n' + ttl + '\r\n';
  for (let k = 0; k < ids.length; k++) {
    const n = ends[k] - (k === 0 ? 0 : ends[k - 1]);
    if (n > LPUSH_MAX) return false;
    // The previous trace's EXPIRE ends where this one's LPUSH starts.
    if (k > 0 && ttl !== undefined) text += '*3\r\n$6\r\nEXPIRE\r\n' + keyHead.text + ids[k - 1] + expire;
    const id = ids[k];
    if (keyHead.idLength !== id.length) keyHead = { idLength: id.length, text: '$' + (NAMESPACE_OPT.length + id.length) + '\r\n' + NAMESPACE_OPT };
    text += (n + 2 < LPUSH_HEADS.length ? LPUSH_HEADS[n + 2] : '*' + (n + 2) + '\r\n$5\r\nLPUSH\r\n') + keyHead.text + id + '\r\n';
    at[k] = text.length;
  }
  if (ttl !== undefined) text += '*3\r\n$6\r\nEXPIRE\r\n' + keyHead.text + ids[ids.length - 1] + expire;
  const commands = ttl === undefined ? ids.length : 2 * ids.length;
  return Array.isArray(lines) ? enc.interleaved(text, at, lines as readonly Uint8Array[], order, ends, commands) : enc.interleavedPlaces(text, at, lines as LinePlaces, order, ends, commands);
}

/** `LPUSH osprofiler_opt:<baseId>` of the lines at positions [from, to) of `order` (or of `lines` when null). */
function lpush(enc: RespEncoder, baseId: string, lines: readonly (string | Uint8Array)[], order: readonly number[] | null, from: number, to: number): void {
  enc.command(2 + to - from).str('LPUSH').str(NAMESPACE_OPT + baseId);
  for (let i = from; i < to; i++) enc.arg(lines[order === null ? i : order[i]]);
}

function summaryOf(ev: Record<string, unknown> | undefined): TraceSummary | undefined {
  if (ev === undefined || typeof ev.base_id !== 'string' || typeof ev.timestamp !== 'string') return undefined;
  return { base_id: ev.base_id, timestamp: ev.timestamp };
}

function newestFirst(all: TraceSummary[], limit?: number): TraceSummary[] {
  all.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
  return limit === undefined ? all : all.slice(0, Math.max(0, limit));
}

/**
 * Connects (bounded by `connect_timeout`) and checks the server answers, so a wrong host,
 * port, password or db fails at start-up with a message naming scheme and host.
 */
export async function createRedisDriver(url: URL, options: Partial<DriverOptions> = {}): Promise<RedisDriver> {
  const settings = redisSettings(url, options);
  const endpoint = `${settings.host}:${settings.port}`;
  const { Redis } = requirePeer<IORedis>('ioredis', 'redis');
  let started = false;
  const counters = newCounters();
  const client = new Redis({
    host: settings.host,
    port: settings.port,
    db: settings.db,
    username: settings.username,
    password: settings.password,
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    // After start-up: reconnect by itself, and let a command wait for at most one retry,
    // so a write to a down server fails (and is counted) instead of queueing forever.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (started ? Math.min(times * 200, 2000) : null),
    enableReadyCheck: true,
  });
  // Without a listener ioredis prints every connection error; count them instead.
  let firstError: unknown;
  client.on('error', (err: unknown) => {
    firstError ??= err;
    counters.connectionErrors++;
  });
  try {
    await withTimeout(client.connect(), settings.connectTimeoutMs + 1000, 'connect');
    await withTimeout(client.ping(), settings.connectTimeoutMs, 'PING');
  } catch (err) {
    client.disconnect();
    // ioredis rejects connect() with "Connection is closed."; the socket error says why.
    throw connectError('redis', `${endpoint}/${settings.db}`, firstError ?? err);
  }
  const keep = new IdleUnref();
  const writer = new RedisWriter(settings, counters, keep, [TRIM]);
  try {
    await withTimeout(keep.run(() => writer.start()), settings.connectTimeoutMs, 'connect (write connection)');
  } catch (err) {
    client.disconnect();
    await writer.close(0);
    throw connectError('redis', `${endpoint}/${settings.db}`, err);
  }
  started = true;
  keep.add(client.stream);
  // A reconnect makes a new socket.
  client.on('connect', () => keep.add(client.stream));
  return new RedisDriver(settings, client, writer, counters, keep);
}

export const redisDriverFactory: DriverFactory = (url, options) => createRedisDriver(url, options);
