import type { ConfigureOptions, Sampling } from '@osprofiler/core';

/** A path that is never traced: exact path (no query) or a pattern tested on the path. */
export type IgnorePath = string | RegExp;

/**
 * Options of `ProfilerModule.forRoot()`. The core fields (`connectionString`, `project`,
 * `service`, `driver`, …) are passed to core's `configure()` when any is given; otherwise
 * the process keeps its configuration (`configure()` called earlier, or `OSPROFILER_*`).
 */
export interface NestProfilerOptions extends ConfigureOptions {
  /** Requests never traced, e.g. health checks. */
  ignorePaths?: readonly IgnorePath[];
  /** Trace headers longer than this (characters) are ignored. */
  maxHeaderBytes?: number;
  /** Guards, pipes, interceptors and exception filters each get a nested point. Default false. */
  traceInternals?: boolean;
}

/** The fields of `NestProfilerOptions` that belong to this adapter, not to core's configuration. */
export const ADAPTER_FIELDS = ['ignorePaths', 'maxHeaderBytes', 'traceInternals'] as const;

export const DEFAULT_OPTIONS = Object.freeze({
  ignorePaths: Object.freeze([]) as readonly IgnorePath[],
  maxHeaderBytes: 8192,
  traceInternals: false,
});

export type { Sampling };
