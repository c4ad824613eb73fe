import type { IncomingMessage } from 'node:http';
import type { ProfilerConfig, Sampling } from '@osprofiler/core';

/** A path that is never traced: exact path, pattern, or a predicate on the request. */
export type IgnorePath = string | RegExp | ((req: IncomingMessage) => boolean);

/** Options of `profiler()`. Unset fields come from the core configuration (`configure()` or `OSPROFILER_*`). */
export interface ExpressProfilerOptions {
  /** Trace at all; `false` makes the middleware a plain `next()` (decided once, at setup). Default: config `enabled`. */
  enabled?: boolean;
  /** Keys accepted on `X-Trace-HMAC`, tried in order. Default: config `hmacKeys`. */
  hmacKeys?: readonly string[];
  /** Start traces without a header: `"1/N"`, a rate, `{everyNth}` or `{rate}`; `null` turns it off. Default: config `sampling`. */
  sampling?: Sampling | string | number | null;
  /** Requests never traced, e.g. health checks: exact paths (no query), RegExps tested on the path, or predicates. */
  ignorePaths?: readonly IgnorePath[];
  /** Extra start info for the `wsgi` point (cannot replace `request`); failures are contained. */
  addInfo?: (req: IncomingMessage) => object | undefined;
  /** Trace headers longer than this (characters) are ignored. Core's own limit (8192) still applies. */
  maxHeaderBytes?: number;
}

export const DEFAULT_OPTIONS = Object.freeze({
  ignorePaths: Object.freeze([]) as readonly IgnorePath[],
  addInfo: undefined as ExpressProfilerOptions['addInfo'],
  maxHeaderBytes: 8192,
});

/** Options merged with the configuration, computed once at setup. */
export interface ResolvedOptions {
  enabled: boolean;
  /** A config object for core's `incomingTrace` with the overridden keys/sampling. */
  config: Readonly<ProfilerConfig>;
  ignoreExact: ReadonlySet<string>;
  ignorePatterns: readonly RegExp[];
  ignorePredicates: readonly ((req: IncomingMessage) => boolean)[];
  addInfo: ((req: IncomingMessage) => object | undefined) | undefined;
  maxHeaderBytes: number;
}

export function splitIgnorePaths(list: readonly IgnorePath[]): Pick<ResolvedOptions, 'ignoreExact' | 'ignorePatterns' | 'ignorePredicates'> {
  const ignoreExact = new Set<string>();
  const ignorePatterns: RegExp[] = [];
  const ignorePredicates: ((req: IncomingMessage) => boolean)[] = [];
  for (const p of list) {
    if (typeof p === 'string') ignoreExact.add(p);
    else if (p instanceof RegExp) ignorePatterns.push(p);
    else if (typeof p === 'function') ignorePredicates.push(p);
    else throw new TypeError(`@osprofiler/express: ignorePaths entries must be strings, RegExps or functions, got ${typeof p}`);
  }
  return { ignoreExact, ignorePatterns, ignorePredicates };
}
