/**
 * `memory://` driver, for tests and demos. It stores each notification as the JSON text
 * Python would store (like a Redis list element), so a report read back is built from
 * parsed copies in Redis order (newest first) and matches Python's output.
 *
 * `memory://` gives a private store; `memory://<name>` shares one store per name within
 * the process, so a test's writer and reader can be created separately.
 */
import type { Driver, DriverFactory, DriverOptions, ListOptions, SearchOptions, SearchPage, TraceSummary } from '../driver';
import { deltasOfBatch, mergeDelta, searchRecords, type TraceRecord } from '../search';
import type { Notification } from '../notification';
import { pyDumps } from '../pyjson';
import { linesOfNotifications, type LineBatch } from '../line';
import { buildReport } from '../report';
import type { Report } from '../report-types';
import { recordFailure } from '../failures';
import { parseStoredEvent } from './stored-event';

interface MemoryStore {
  /** Per base_id, the stored JSON lines in write order (oldest first). */
  events: Map<string, string[]>;
  /** Per base_id, the first event's timestamp: what listTraces shows. */
  firstSeen: Map<string, string>;
  /** Per base_id, the latest error event's timestamp (Python SETs, so the last one wins). */
  errors: Map<string, string>;
  /** Per base_id, the search summary (deltas of every batch merged). */
  summaries: Map<string, TraceRecord>;
}

const namedStores = new Map<string, MemoryStore>();

function newStore(): MemoryStore {
  return { events: new Map(), firstSeen: new Map(), errors: new Map(), summaries: new Map() };
}

export class MemoryDriver implements Driver {
  readonly scheme = 'memory';
  private readonly store: MemoryStore;
  private readonly filterErrorTrace: boolean;

  constructor(options: Partial<DriverOptions> = {}, storeName?: string) {
    this.filterErrorTrace = options.filterErrorTrace === true;
    if (storeName === undefined || storeName === '') this.store = newStore();
    else {
      let s = namedStores.get(storeName);
      if (s === undefined) namedStores.set(storeName, (s = newStore()));
      this.store = s;
    }
  }

  notify(batch: readonly Notification[]): void {
    this.notifyLines(linesOfNotifications(batch, pyDumps, (err) => recordFailure('driver.memory.notify', err)));
  }

  notifyLines(batch: LineBatch): void {
    const { events, firstSeen, errors } = this.store;
    const { baseIds, timestamps, lines } = batch;
    for (let i = 0; i < lines.length; i++) {
      const baseId = baseIds[i];
      let list = events.get(baseId);
      if (list === undefined) {
        events.set(baseId, (list = []));
        firstSeen.set(baseId, timestamps[i]);
      }
      list.push(lines[i]);
      if (this.filterErrorTrace && batch.errors !== null && batch.errors[i] === 1) errors.set(baseId, timestamps[i]);
    }
    const summaries = this.store.summaries;
    for (const [baseId, d] of deltasOfBatch(batch)) summaries.set(baseId, mergeDelta(summaries.get(baseId), d));
  }

  async searchTraces(options: SearchOptions = {}): Promise<SearchPage> {
    return searchRecords(this.store.summaries.values(), options);
  }

  async getReport(baseId: string): Promise<Report> {
    const lines = this.store.events.get(baseId) ?? [];
    // Redis LRANGE order: newest first.
    const events: Record<string, unknown>[] = [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const ev = parseStoredEvent(lines[i]);
      if (ev !== undefined) events.push(ev);
    }
    return buildReport(events);
  }

  async listTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return newestFirst(this.store.firstSeen, options.limit);
  }

  async listErrorTraces(options: ListOptions = {}): Promise<TraceSummary[]> {
    return newestFirst(this.store.errors, options.limit);
  }

  /** The stored JSON lines of one trace, oldest first (what Python would have LPUSHed). */
  rawEvents(baseId: string): string[] {
    return [...(this.store.events.get(baseId) ?? [])];
  }

  /** Forgets everything in this driver's store (shared by all users of a named store). */
  clear(): void {
    this.store.events.clear();
    this.store.firstSeen.clear();
    this.store.errors.clear();
    this.store.summaries.clear();
  }

  async flush(_timeoutMs?: number): Promise<void> {
    // Everything is stored synchronously in notify.
  }

  async close(): Promise<void> {
    // Nothing to release; a named store lives on for other users in the process.
  }
}

function newestFirst(index: Map<string, string>, limit?: number): TraceSummary[] {
  const all = [...index].map(([base_id, timestamp]) => ({ base_id, timestamp }));
  all.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
  return limit === undefined ? all : all.slice(0, Math.max(0, limit));
}

export const memoryDriverFactory: DriverFactory = (url: URL, options: DriverOptions) => {
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new Error(`memory:// connection string: unexpected path "${url.pathname}"; use memory:// or memory://<store-name>`);
  }
  return new MemoryDriver(options, url.hostname);
};
