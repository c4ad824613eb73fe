import type { IncomingMessage } from 'node:http';
import type { ConfigureOptions, Sampling } from '@osprofiler/core';
import type { IgnorePath } from '@osprofiler/core/instrument';

export type { IgnorePath };

/**
 * Options of `ProfilerModule.forRoot()`. The core fields (`connectionString`, `project`,
 * `service`, `driver`, …) are passed to core's `configure()` when any is given; otherwise
 * the process keeps its configuration (`configure()` called earlier, or `OSPROFILER_*`).
 */
export interface NestProfilerOptions extends ConfigureOptions {
  /** Requests never traced, e.g. health checks: exact paths (no query), RegExps tested on the path, or predicates. */
  ignorePaths?: readonly IgnorePath[];
  /** Extra start info for the `wsgi` point (cannot replace `request`); failures are contained. */
  addInfo?: (req: IncomingMessage) => object | undefined;
  /** Trace headers longer than this (characters) are ignored. */
  maxHeaderBytes?: number;
  /** Guards, pipes, interceptors and exception filters each get a nested point. Default false. */
  traceInternals?: boolean;
}

/** The fields of `NestProfilerOptions` that belong to this adapter, not to core's configuration. */
export const ADAPTER_FIELDS = ['ignorePaths', 'addInfo', 'maxHeaderBytes', 'traceInternals'] as const;

export const DEFAULT_OPTIONS = Object.freeze({
  ignorePaths: Object.freeze([]) as readonly IgnorePath[],
  addInfo: undefined as NestProfilerOptions['addInfo'],
  maxHeaderBytes: 8192,
  traceInternals: false,
});

export type { Sampling };
