import type { LineBatch } from './line';
import type { Notification } from './notification';
import type { Report } from './report-types';

/** One entry of `listTraces` / `listErrorTraces` / `searchTraces` (search fills the optional fields). */
export interface TraceSummary {
  base_id: string;
  timestamp: string;
  /** The trace's earliest event (Python's timestamp format). */
  started?: string;
  /** Latest event minus earliest, in ms. */
  duration_ms?: number;
  /** The root point: the earliest started point whose parent is the base_id (else the earliest). */
  root_name?: string | null;
  root_service?: string | null;
  /** The root's request (`METHOD route`, else `METHOD path`) or function name. */
  root_detail?: string | null;
  services?: string[];
  projects?: string[];
  hosts?: string[];
  /** Points (start events) stored. */
  points?: number;
  /** Some point stopped with an error (`info.etype`). */
  error?: boolean;
  /** False for a trace no index covers (e.g. stored by Python alone), found by a bounded scan. */
  indexed?: boolean;
}

export interface ListOptions {
  /** Return at most this many, newest first. */
  limit?: number;
}

/** Filters of `searchTraces`; every one given must match. */
export interface SearchOptions extends ListOptions {
  project?: string;
  service?: string;
  /** Root point name (exact), e.g. `wsgi`. */
  root?: string;
  host?: string;
  /** Trace start, epoch ms (or Date), inclusive. */
  since?: number | Date;
  until?: number | Date;
  minDurationMs?: number;
  maxDurationMs?: number;
  errorsOnly?: boolean;
  /** Case-insensitive substring of a point's route, path, SQL, command, function or error. */
  text?: string;
  /** From the previous page's `cursor`. */
  cursor?: string;
}

/** One page of `searchTraces`: newest first; `cursor` fetches the next page (null at the end). */
export interface SearchPage {
  traces: TraceSummary[];
  cursor: string | null;
}

/**
 * A storage backend. `notify` receives batches already formatted as wire notifications
 * (project/service included). Readers return Python-compatible structures.
 *
 * Failure contract (every driver follows it; core's notifier and the agent rely on it):
 * - A driver reports, it does not contain: `notify`/`notifyLines` throw or reject when the
 *   batch was not stored (or cannot be queued, e.g. after `close`); `flush` rejects with a
 *   `DriverWriteError` (its `lost` says how many points) when writes it had accepted and
 *   buffered were lost since the previous `flush`. A driver may also count what it lost
 *   for its own statistics, but never swallows a failure silently.
 * - Callers contain: core's notifier counts every rejection (`failureCounts()`,
 *   `notifierStats().lost`) and never lets it reach the application; the agent treats a
 *   rejection of notify + flush as "not stored" and spools the batch.
 * - Readers (`getReport`, `list*`) reject on failure, with messages that hold no password.
 */
export interface Driver {
  readonly scheme: string;
  notify(batch: readonly Notification[]): Promise<void> | void;
  /**
   * Optional raw path, preferred by core's notifier when present: the same points already
   * serialised as Python stores them (one `json.dumps` text each). Drivers that store text
   * (memory, file, redis, agent) take it and skip building and re-serialising objects.
   */
  notifyLines?(batch: LineBatch): Promise<void> | void;
  getReport(baseId: string): Promise<Report>;
  listTraces(options?: ListOptions): Promise<TraceSummary[]>;
  listErrorTraces(options?: ListOptions): Promise<TraceSummary[]>;
  /** Trace search over the store's summary index (readable drivers); see SearchOptions. */
  searchTraces?(options?: SearchOptions): Promise<SearchPage>;
  /**
   * Resolves once everything handed to `notify` so far is stored, or the timeout passed;
   * rejects with `DriverWriteError` when accepted writes were lost since the last flush.
   */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** What every driver factory receives besides the parsed connection string. */
export interface DriverOptions {
  project: string | null;
  service: string | null;
  host: string;
  filterErrorTrace: boolean;
  /** Driver-specific settings (e.g. file driver retention); keys are driver-defined. */
  [key: string]: unknown;
}

export type DriverFactory = (url: URL, options: DriverOptions) => Driver | Promise<Driver>;

/**
 * What a driver's `flush()` rejects with when writes it had accepted were lost: a typed
 * result, so callers (the agent) need not read driver-specific counters.
 */
export class DriverWriteError extends Error {
  constructor(
    readonly scheme: string,
    /** Points accepted by `notify` and then lost. */
    readonly lost: number,
    readonly reason?: unknown,
  ) {
    super(`${scheme}:// lost ${lost} point(s) it had accepted${reason instanceof Error ? `: ${reason.message}` : ''}`);
    this.name = 'DriverWriteError';
  }
}
