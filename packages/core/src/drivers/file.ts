/**
 * `file://` driver: the embedded default store, no server needed. Layout in
 * ./file-layout.ts. Several processes may share one directory: every write is one
 * `write(2)` of whole lines on a file opened with O_APPEND, so lines from different
 * processes never interleave, and a crash can only leave one partial last line, which
 * readers skip.
 *
 * notify() only serialises and queues; writes run in the background, one drain at a time
 * per driver (so flush() can await them). Failure contract (see `Driver`): a lost write is
 * counted when it happens (nobody awaits a background write) and reported to the next
 * `flush()`, which rejects with `DriverWriteError` (how many points were lost); notify after
 * close throws.
 */
import { access, mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriverWriteError, type Driver, type DriverFactory, type DriverOptions, type ListOptions, type SearchOptions, type SearchPage, type TraceSummary } from '../driver';
import { deltasOfBatch, mergeDelta, recordFromJson, recordToJson, searchRecords, type TraceDelta, type TraceRecord } from '../search';
import { recordFailure } from '../failures';
import { settledWithin } from '../kit/timeout';
import type { Notification } from '../notification';
import { pyDumps } from '../pyjson';
import { linesOfNotifications, type LineBatch } from '../line';
import { buildReport } from '../report';
import type { Report } from '../report-types';
import { mapLimit } from './concurrency';
import {
  ERRORS_DIR,
  INDEX_DIR,
  PRUNE_STAMP,
  SUMMARY_DIR,
  completeLines,
  dayFileName,
  dayOfFile,
  indexLine,
  parseIndexLine,
  parseTraceLines,
  traceFilePath,
} from './file-layout';
import { fileDriverSettings, type FileDriverSettings } from './file-options';
import { pruneStore, type PruneResult } from './file-retention';

export type { FileDriverSettings } from './file-options';
export type { PruneResult } from './file-retention';

/** What this driver instance did; failures are also counted by recordFailure. */
export interface FileDriverCounters {
  /** Notifications written to a trace file. */
  written: number;
  /** Notifications lost to a failed write (or handed over after close). */
  dropped: number;
  /** Damaged lines met while reading trace or index files. */
  badLines: number;
  /** Trace files deleted by prune(). */
  prunedTraces: number;
}

// A long-lived process sees many traces; remembering each one it indexed is only an
// optimisation (readers dedupe), so the memory is bounded by starting over.
const MAX_REMEMBERED = 100_000;
const OPEN_FILES = 16;

export class FileDriver implements Driver {
  readonly scheme = 'file';
  readonly settings: Readonly<FileDriverSettings>;
  readonly counters: FileDriverCounters = { written: 0, dropped: 0, badLines: 0, prunedTraces: 0 };

  /** Serialised lines waiting for the next drain, per base_id, in notify order. */
  private pending = new Map<string, string[]>();
  private pendingIndex: string[] = [];
  private pendingErrors: string[] = [];
  /** Search-summary deltas per trace, merged until the next drain writes them. */
  private pendingSummary = new Map<string, TraceDelta>();
  private draining: Promise<void> | undefined;
  private readonly indexed = new Set<string>();
  private pruning: Promise<PruneResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private rootReady = false;
  /** Points lost since the last flush(), and the last error: what flush() reports. */
  private lostSinceFlush = 0;
  private lastLoss: unknown;

  constructor(settings: FileDriverSettings) {
    this.settings = settings;
    if (settings.pruneIntervalMs > 0 && (settings.maxAgeMs > 0 || settings.maxBytes > 0)) {
      this.timer = setInterval(() => void this.backgroundPrune(), settings.pruneIntervalMs);
      this.timer.unref();
    }
  }

  notify(batch: readonly Notification[]): void {
    // Serialise now: the caller may reuse or mutate its objects after we return.
    this.notifyLines(
      linesOfNotifications(batch, pyDumps, (err) => {
        this.counters.dropped++;
        recordFailure('driver.file.notify', err);
      }),
    );
  }

  notifyLines(batch: LineBatch): void {
    const { baseIds, timestamps, lines, errors } = batch;
    if (this.closed) {
      this.counters.dropped += lines.length;
      throw new Error('file:// driver: notify after close');
    }
    for (let i = 0; i < lines.length; i++) this.queueLine(baseIds[i], timestamps[i], lines[i] + '\n', errors !== null && errors[i] === 1);
    for (const [baseId, d] of deltasOfBatch(batch)) {
      const seen = this.pendingSummary.get(baseId);
      this.pendingSummary.set(baseId, seen === undefined ? d : mergeDelta(seen, d));
    }
    this.draining ??= this.drain().catch((err: unknown) => recordFailure('driver.file.write', err));
  }

  private queueLine(baseId: string, timestamp: string, line: string, isError: boolean): void {
    let lines = this.pending.get(baseId);
    if (lines === undefined) this.pending.set(baseId, (lines = []));
    lines.push(line);
    if (!this.indexed.has(baseId)) {
      if (this.indexed.size >= MAX_REMEMBERED) this.indexed.clear();
      this.indexed.add(baseId);
      this.pendingIndex.push(indexLine(baseId, timestamp));
    }
    // Python: filter_error_trace and data.get("info", {}).get("etype") is not None.
    if (isError && this.settings.filterErrorTrace) this.pendingErrors.push(indexLine(baseId, timestamp));
  }

  /** Writes whatever is queued, again and again until nothing is left. */
  private async drain(): Promise<void> {
    // Let the rest of the current tick queue more, so it goes out in the same writes.
    await Promise.resolve();
    try {
      while (this.pending.size > 0 || this.pendingIndex.length > 0 || this.pendingErrors.length > 0 || this.pendingSummary.size > 0) {
        const traces = [...this.pending];
        const index = this.pendingIndex;
        const errors = this.pendingErrors;
        const summary = this.pendingSummary;
        this.pendingSummary = new Map();
        this.pending = new Map();
        this.pendingIndex = [];
        this.pendingErrors = [];
        await this.ensureRoot();
        await mapLimit(traces, OPEN_FILES, ([baseId, lines]) => this.writeTrace(baseId, lines));
        // Index after the trace lines: a listed trace then always has a file to show.
        const day = dayFileName(Date.now());
        if (index.length > 0) await this.appendSafely(join(this.settings.dir, INDEX_DIR, day), index.join(''), 'driver.file.index');
        if (errors.length > 0) await this.appendSafely(join(this.settings.dir, ERRORS_DIR, day), errors.join(''), 'driver.file.index');
        if (summary.size > 0) {
          let text = '';
          for (const d of summary.values()) text += recordToJson(d) + '\n';
          await this.appendSafely(join(this.settings.dir, SUMMARY_DIR, day), text, 'driver.file.index');
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async writeTrace(baseId: string, lines: string[]): Promise<void> {
    try {
      await appendOnce(traceFilePath(this.settings.dir, baseId), lines.join(''));
      this.counters.written += lines.length;
    } catch (err) {
      this.counters.dropped += lines.length;
      this.lostSinceFlush += lines.length;
      this.lastLoss = err;
      this.indexed.delete(baseId); // index it again with the next event that gets through
      recordFailure('driver.file.write', err);
    }
  }

  private async appendSafely(path: string, data: string, where: string): Promise<void> {
    try {
      await appendOnce(path, data);
    } catch (err) {
      recordFailure(where, err);
    }
  }

  // The per-user default directory may hold SQL and request data: create it private.
  private async ensureRoot(): Promise<void> {
    if (this.rootReady) return;
    try {
      await mkdir(this.settings.dir, { recursive: true, mode: this.settings.isDefaultDir ? 0o700 : 0o777 });
      this.rootReady = true;
    } catch (err) {
      recordFailure('driver.file.mkdir', err); // each write below then fails and counts too
    }
  }

  async getReport(baseId: string): Promise<Report> {
    await this.drained(); // what this process handed over is part of the answer
    const text = await readIfExists(traceFilePath(this.settings.dir, baseId));
    const { events, bad } = parseTraceLines(completeLines(text).lines);
    if (bad > 0) {
      this.counters.badLines += bad;
      recordFailure('driver.file.read', new Error(`${bad} damaged line(s) in the trace file of ${baseId}`));
    }
    // Lines are in append order; Python reads Redis newest first, and the report's key
    // order depends on it.
    return buildReport(events.reverse());
  }

  async listTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    await this.drained();
    return this.listIndex(INDEX_DIR, 'earliest', options.limit);
  }

  /** Traces with an error event (only recorded while filterErrorTrace is on), newest first. */
  async listErrorTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    await this.drained();
    return this.listIndex(ERRORS_DIR, 'latest', options.limit);
  }

  /**
   * Trace search: merges every summary day file (one delta per trace per drain, from every
   * process writing here), filters and pages in memory. Hits whose trace file was pruned
   * are left out (the page may then come back short; the cursor still goes on).
   */
  async searchTraces(options: SearchOptions = {}): Promise<SearchPage> {
    await this.flush();
    const dir = join(this.settings.dir, SUMMARY_DIR);
    let days: string[];
    try {
      days = (await readdir(dir)).filter((f) => dayOfFile(f) !== undefined).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      days = [];
    }
    const records = new Map<string, TraceRecord>();
    for (const day of days) {
      for (const line of completeLines(await readIfExists(join(dir, day))).lines) {
        const d = recordFromJson(line);
        if (d === undefined) {
          this.counters.badLines++;
          continue;
        }
        records.set(d.baseId, mergeDelta(records.get(d.baseId), d));
      }
    }
    const page = searchRecords(records.values(), options);
    const exists = await Promise.all(page.traces.map((t) => fileExists(traceFilePath(this.settings.dir, t.base_id))));
    return { traces: page.traces.filter((_, i) => exists[i]), cursor: page.cursor };
  }

  /**
   * Reads index days newest first. Every process that wrote to a trace indexed it once,
   * so entries are deduped: a trace keeps its earliest timestamp (when it started), an
   * error entry its latest (like Python, where each error overwrites the last one).
   * Entries whose trace file was pruned are left out.
   */
  private async listIndex(sub: string, keep: 'earliest' | 'latest', limit?: number): Promise<TraceSummary[]> {
    const dir = join(this.settings.dir, sub);
    let days: string[];
    try {
      days = (await readdir(dir)).filter((f) => dayOfFile(f) !== undefined).sort().reverse();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found = new Map<string, string>();
    let extraDays = -1;
    for (const day of days) {
      // With a limit, one more (older) day than needed: a trace that ran over midnight
      // has its earliest entry there.
      if (limit !== undefined && found.size >= limit && ++extraDays >= 1) break;
      const { lines } = completeLines(await readIfExists(join(dir, day)));
      for (const line of lines) {
        const entry = parseIndexLine(line);
        if (entry === undefined) {
          this.counters.badLines++;
          continue;
        }
        const seen = found.get(entry.base_id);
        if (seen === undefined || (keep === 'earliest' ? entry.timestamp < seen : entry.timestamp > seen)) {
          found.set(entry.base_id, entry.timestamp);
        }
      }
    }
    const all = [...found].map(([base_id, timestamp]) => ({ base_id, timestamp }));
    all.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
    const out: TraceSummary[] = [];
    for (let i = 0; i < all.length && (limit === undefined || out.length < limit); i += OPEN_FILES) {
      const chunk = all.slice(i, i + OPEN_FILES);
      const exists = await Promise.all(chunk.map((t) => fileExists(traceFilePath(this.settings.dir, t.base_id))));
      chunk.forEach((t, j) => exists[j] && out.push(t));
    }
    return limit === undefined ? out : out.slice(0, Math.max(0, limit));
  }

  /** Applies the retention limits now. Concurrent calls share one run. */
  prune(now?: number): Promise<PruneResult> {
    this.pruning ??= pruneStore(this.settings.dir, this.settings, now)
      .then((r) => {
        this.counters.prunedTraces += r.deletedTraces;
        return r;
      })
      .finally(() => {
        this.pruning = undefined;
      });
    return this.pruning;
  }

  // The timer's run: skipped when any process sharing the directory pruned within the
  // last half period (the stamp file's mtime says when), so N processes do not all scan.
  private async backgroundPrune(): Promise<void> {
    try {
      const stamp = join(this.settings.dir, PRUNE_STAMP);
      const last = await stat(stamp).then((s) => s.mtimeMs, () => 0);
      const now = Date.now();
      if (now - last < this.settings.pruneIntervalMs / 2) return;
      await this.ensureRoot();
      await writeFile(stamp, '');
      await this.prune(now);
    } catch (err) {
      recordFailure('driver.file.prune', err);
    }
  }

  private async drained(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Waits for queued writes (at most `timeoutMs`); rejects with `DriverWriteError` when writes were lost since the last flush. */
  async flush(timeoutMs?: number): Promise<void> {
    await settledWithin(this.drained(), timeoutMs ?? Infinity);
    const lost = this.lostSinceFlush;
    if (lost > 0) {
      this.lostSinceFlush = 0;
      throw new DriverWriteError('file', lost, this.lastLoss);
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.drained();
    this.closed = true;
    await this.pruning?.catch(() => undefined);
  }
}

/**
 * Appends `data` with exactly one write(2) on an O_APPEND descriptor: whole lines land
 * together even with other processes appending to the same file.
 */
async function appendOnce(path: string, data: string): Promise<void> {
  const buf = Buffer.from(data, 'utf8');
  let fh;
  try {
    fh = await open(path, 'a');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    fh = await open(path, 'a');
  }
  try {
    const { bytesWritten } = await fh.write(buf, 0, buf.length, null);
    if (bytesWritten !== buf.length) {
      // Disk full or similar: end the torn line so later appends stay readable.
      await fh.write('\n');
      throw new Error(`short write to ${path}: ${bytesWritten} of ${buf.length} bytes`);
    }
  } finally {
    await fh.close();
  }
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A file driver from a connection string (default `file://`: the per-user state dir). */
export function createFileDriver(connection: string | URL = 'file://', options: Partial<DriverOptions> = {}): FileDriver {
  return new FileDriver(fileDriverSettings(new URL(connection), options));
}

/** Registry factory: `file:///abs/dir?max_age=7d&max_bytes=500MB` or `file://`. */
export const fileDriverFactory: DriverFactory = (url: URL, options: DriverOptions) => new FileDriver(fileDriverSettings(url, options));
