/**
 * What the SQL drivers share: batching, the report, listing, retention. Each dialect
 * (postgres.ts, mysql.ts) supplies the statements.
 *
 * Schema (ours; Python's SQL driver schema is not required), created on first use:
 *   <prefix>osprofiler_points: id (insert order), base_id, trace_id, name, ts (µs since
 *     1970, UTC), event (the stored notification, the JSON text Python's Redis driver
 *     stores), project, service, created_at; UNIQUE (trace_id, name) so a point written
 *     twice is stored once; INDEX (base_id, id) for getReport; INDEX (created_at) for prune.
 *   <prefix>osprofiler_errors: base_id (primary key), ts of its latest error, created_at.
 *   <prefix>osprofiler_traces (and for mysql <prefix>osprofiler_tags): the search index (./summary.ts).
 */
import { buildReport } from '@osprofiler/core';
import { linesOfNotifications, parseStoredEvent, searchIndex } from '@osprofiler/core/instrument';
import type { Driver, ListOptions, Notification, Report, SearchOptions, SearchPage, TraceSummary } from '@osprofiler/core';
import type { LineBatch, NormalisedSearch } from '@osprofiler/core/instrument';
import { summaryOfRow, summaryRows, TEXT_SEARCH_BOUND, type SummaryPage, type SummaryRow } from './summary';
import { IdleUnref } from '../idle-unref';
import { InFlight, newCounters, type DriverCounters } from '../inflight';
import { microsToTimestamp } from '../timestamp';
import type { SqlSettings } from './options';
import { rowsOfLines, type PointRow } from './rows';

export interface TableNames {
  points: string;
  errors: string;
  traces: string;
  tags: string;
}

export function tableNames(prefix: string): TableNames {
  return { points: `${prefix}osprofiler_points`, errors: `${prefix}osprofiler_errors`, traces: `${prefix}osprofiler_traces`, tags: `${prefix}osprofiler_tags` };
}

/** A pooled connection as openTransaction uses it. */
export interface TxConnection {
  query(sql: string): Promise<unknown>;
  /** Back to the pool. */
  release(): void;
  /** Closed, not reused. */
  drop(err: unknown): void;
}

/** What prune() deleted. */
export interface SqlPruneResult {
  points: number;
  errors: number;
  /** Search summaries (and their tags) of traces pruned. */
  traces: number;
}

/** Rows deleted per statement while pruning, so no delete holds locks for long. */
export const PRUNE_CHUNK = 10_000;

export abstract class SqlDriver implements Driver {
  abstract readonly scheme: string;
  readonly counters: DriverCounters = newCounters();
  readonly tables: TableNames;
  private readonly inflight = new InFlight();
  /** Client sockets a dialect hands over, unref'd while nothing is in flight. */
  protected readonly keep = new IdleUnref();
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<SqlPruneResult> | undefined;
  protected closed = false;

  constructor(
    readonly settings: Readonly<SqlSettings>,
    /** `host:port/database`, for messages. */
    readonly endpoint: string,
  ) {
    this.tables = tableNames(settings.tablePrefix);
  }

  protected abstract insertPoints(rows: readonly PointRow[]): Promise<void>;
  protected abstract upsertErrors(errors: ReadonlyMap<string, string>): Promise<void>;
  /** The stored events of one trace, newest first (the order Redis' LRANGE gives). */
  protected abstract selectEvents(baseId: string): Promise<string[]>;
  /** [base_id, earliest ts µs] newest first. */
  protected abstract selectTraces(limit: number | undefined): Promise<[string, bigint][]>;
  protected abstract selectErrorTraces(limit: number | undefined): Promise<[string, bigint][]>;
  /** Deletes up to `chunk` rows of `table` created more than `maxAgeMs` ago (by the server's clock); returns how many. */
  protected abstract deleteOlder(table: string, maxAgeMs: number, chunk: number): Promise<number>;
  protected abstract closeClient(): Promise<void>;
  /** The tags' own table (pruned with the summaries), or none when a summary row holds its tags. */
  protected abstract readonly tagTable: string | undefined;
  /** Merges the batch's summaries into the search index (rows sorted by base_id). */
  protected abstract upsertSummaries(rows: readonly SummaryRow[]): Promise<void>;
  /**
   * The same merge in a transaction on a connection of its own, left open: resolves with
   * its end (`true` commits, `false` rolls back; either releases the connection). Rejects,
   * rolled back and released, when the merge failed.
   */
  protected abstract openSummaries(rows: readonly SummaryRow[]): Promise<(commit: boolean) => Promise<void>>;
  /**
   * Up to `limit` summary rows matching, newest first, after the cursor. With text, only the
   * newest `textBound` traces matching the other filters are examined; when that window was
   * full, `edge` is its oldest trace (the next call goes on from there).
   */
  protected abstract selectSummaries(s: NormalisedSearch, limit: number): Promise<SummaryPage>;
  /** The tags of these traces. */
  protected abstract selectTags(baseIds: string[]): Promise<{ base_id: string; kind: string; value: string }[]>;

  /** Starts background pruning when max_age is set (a first prune runs at once). Factories call it once the tables exist. */
  startRetention(): void {
    if (this.pruneTimer !== undefined || this.closed) return;
    if (this.settings.maxAgeMs <= 0) return;
    void this.prune().catch(() => undefined);
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), this.settings.pruneIntervalMs);
    this.pruneTimer.unref();
  }

  notify(batch: readonly Notification[]): Promise<void> {
    // Serialise now (the caller may reuse its objects once we return): the same path as lines.
    return this.notifyLines(linesOfNotifications(batch));
  }

  /** The raw path: each line stored as it is (the agent's and the collector's batches). */
  notifyLines(batch: LineBatch): Promise<void> {
    if (this.closed) throw new Error(`${this.scheme}:// driver for ${this.endpoint} is closed`);
    const { points, errors, rejected, kept } = rowsOfLines(batch, this.settings.filterErrorTrace);
    this.counters.failed += rejected;
    if (points.length === 0) return Promise.resolve();
    const summaries = summaryRows(searchIndex.deltasOfBatch(kept)).sort((a, b) => (a.baseId < b.baseId ? -1 : 1));
    return this.inflight.track(this.keep.run(() => this.write(points, errors, summaries)));
  }

  private async write(points: PointRow[], errors: Map<string, string>, summaries: SummaryRow[]): Promise<void> {
    try {
      if (summaries.length > 0 && this.settings.poolSize > 1) await this.writeBeside(points, errors, summaries);
      else {
        await this.insertPoints(points);
        if (errors.size > 0) await this.upsertErrors(errors);
        if (summaries.length > 0) await this.upsertSummaries(summaries);
      }
    } catch (err) {
      this.counters.failed += points.length;
      throw err;
    }
    this.counters.written += points.length;
    this.counters.batches++;
  }

  /**
   * openSummaries' lifecycle, for every dialect: `begin` and `work` on a connection of its own,
   * left open; its end commits or rolls back and releases it. A connection that failed
   * anywhere is dropped, not reused: whatever state its transaction was left in goes with it.
   */
  protected async openTransaction(conn: TxConnection, begin: string, work: () => Promise<void>): Promise<(commit: boolean) => Promise<void>> {
    try {
      await conn.query(begin);
      await work();
    } catch (err) {
      conn.drop(err);
      throw err;
    }
    return async (commit) => {
      try {
        await conn.query(commit ? 'COMMIT' : 'ROLLBACK');
      } catch (err) {
        conn.drop(err);
        throw err;
      }
      conn.release();
    };
  }

  /** Batches written beside their summaries, one at a time (each holds two connections: see writeBeside). */
  private besides: Promise<unknown> = Promise.resolve();

  /**
   * The points and their summaries at once, on two connections: the server merges the
   * summaries (their rows and indexes, ~+50 % of its work for the points, tools/bench
   * search.cjs) while it stores the points, instead of after. The summaries' transaction
   * commits only once the points are stored, so a search never finds a trace whose points
   * failed. One batch at a time: two batches each holding one connection and waiting for a
   * second could otherwise take the whole pool.
   */
  private writeBeside(points: PointRow[], errors: Map<string, string>, summaries: SummaryRow[]): Promise<void> {
    const run = this.besides.then(async () => {
      const end = this.openSummaries(summaries);
      // Read below on every path; handled now, so a failure before then is no unhandled rejection.
      end.catch(() => undefined);
      try {
        await this.insertPoints(points);
        if (errors.size > 0) await this.upsertErrors(errors);
      } catch (err) {
        // Whatever became of the summaries (their own failure is this one's consequence or beside it).
        await end.then((close) => close(false), () => undefined);
        throw err;
      }
      await (await end)(true);
    });
    this.besides = run.then(() => undefined, () => undefined);
    return run;
  }

  async getReport(baseId: string): Promise<Report> {
    const events: Record<string, unknown>[] = [];
    for (const text of await this.keep.run(() => this.selectEvents(baseId))) {
      const ev = parseStoredEvent(text);
      if (ev !== undefined) events.push(ev);
    }
    return buildReport(events);
  }

  /** Every trace with its earliest event's timestamp, newest first. */
  async listTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return summaries(await this.keep.run(() => this.selectTraces(limitOf(options))));
  }

  /** Traces indexed with an error (only while filterErrorTrace is on), with that error's time, newest first. */
  async listErrorTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return summaries(await this.keep.run(() => this.selectErrorTraces(limitOf(options))));
  }

  /** Traces whose text a search examines at most per call (tests lower it to reach the cursor). */
  textBound = TEXT_SEARCH_BOUND;

  /**
   * Trace search over the summary table, newest first. A text search examines at most
   * `textBound` traces per call (newest first, after the cursor): a page may come back
   * short, with a cursor to go on.
   */
  async searchTraces(options: SearchOptions = {}): Promise<SearchPage> {
    const s = searchIndex.normaliseSearch(options);
    return this.keep.run(async () => {
      const { rows, edge } = await this.selectSummaries(s, s.limit + 1);
      const page = rows.slice(0, s.limit);
      const tags = new Map<string, { s: string[]; p: string[]; h: string[] }>();
      if (page.length > 0) {
        for (const t of await this.selectTags(page.map((r) => r.base_id))) {
          let e = tags.get(t.base_id);
          if (e === undefined) tags.set(t.base_id, (e = { s: [], p: [], h: [] }));
          if (t.kind === 's' || t.kind === 'p' || t.kind === 'h') e[t.kind].push(t.value);
        }
      }
      const traces: TraceSummary[] = page.map((r) => summaryOfRow(r, tags));
      // A full page goes on after its last trace; a short one after the text window's edge.
      const last = rows.length > s.limit ? page[page.length - 1] : edge;
      const cursor = last !== undefined ? searchIndex.encodeCursor({ startUs: Number(last.first_us), baseId: last.base_id }) : null;
      return { traces, cursor };
    });
  }

  /** Deletes points (and error entries, summaries) stored more than max_age ago. Without max_age it does nothing. */
  prune(maxAgeMs = this.settings.maxAgeMs): Promise<SqlPruneResult> {
    if (maxAgeMs <= 0) return Promise.resolve({ points: 0, errors: 0, traces: 0 });
    this.pruning ??= this.keep.run(async () => {
      try {
        const deleteAll = async (table: string): Promise<number> => {
          let total = 0;
          let n: number;
          do {
            n = await this.deleteOlder(table, maxAgeMs, PRUNE_CHUNK);
            total += n;
          } while (n === PRUNE_CHUNK && !this.closed);
          return total;
        };
        const points = await deleteAll(this.tables.points);
        const errors = await deleteAll(this.tables.errors);
        const traces = await deleteAll(this.tables.traces);
        if (this.tagTable !== undefined) await deleteAll(this.tagTable);
        return { points, errors, traces };
      } finally {
        this.pruning = undefined;
      }
    });
    return this.pruning;
  }

  flush(timeoutMs = 5000): Promise<void> {
    return this.inflight.settle(timeoutMs);
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    if (this.pruneTimer !== undefined) clearInterval(this.pruneTimer);
    await this.pruning?.catch(() => undefined);
    await this.closeClient();
  }
}

function limitOf(options: ListOptions): number | undefined {
  return options.limit === undefined ? undefined : Math.max(0, Math.floor(options.limit));
}

function summaries(rows: [string, bigint][]): TraceSummary[] {
  return rows.map(([base_id, ts]) => ({ base_id, timestamp: microsToTimestamp(ts) }));
}
