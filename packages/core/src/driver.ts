import type { LineBatch } from './line';
import type { Notification } from './notification';
import type { Report } from './report-types';

/** One entry of `listTraces` / `listErrorTraces`. */
export interface TraceSummary {
  base_id: string;
  timestamp: string;
}

export interface ListOptions {
  /** Return at most this many, newest first. */
  limit?: number;
}

/**
 * A storage backend. `notify` receives batches already formatted as wire notifications
 * (project/service included). Readers return Python-compatible structures.
 * A driver may throw or reject: the notifier contains and counts every failure.
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
  /** Resolves once everything handed to `notify` so far is stored, or the timeout passed. */
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
