/**
 * Options every HTTP server adapter takes (Express, Nest, Fastify…), resolved once at
 * set-up against core's configuration.
 */
import type { IncomingMessage } from 'node:http';
import { resolveConfig, type ProfilerConfig, type Sampling } from '../config';
import { createSampler, type Sampler } from '../sampling';
import { getConfig } from '../setup';

/** A path that is never traced: exact path (no query), a RegExp tested on the path, or a predicate on the request. */
export type IgnorePath = string | RegExp | ((req: IncomingMessage) => boolean);

export interface HttpServerOptions {
  /** Trace at all; `false` turns the adapter into a pass-through (decided once, at set-up). Default: config `enabled`. */
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

export const DEFAULT_HTTP_OPTIONS = Object.freeze({
  ignorePaths: Object.freeze([]) as readonly IgnorePath[],
  addInfo: undefined as HttpServerOptions['addInfo'],
  maxHeaderBytes: 8192,
});

export interface ResolvedHttpOptions {
  /** A config object for `incomingTrace` with the overridden keys/sampling. */
  config: Readonly<ProfilerConfig>;
  /** Its own counter when `sampling` was overridden; otherwise core's process-wide sampler decides. */
  sampler: Sampler | undefined;
  ignoreExact: ReadonlySet<string>;
  ignorePatterns: readonly RegExp[];
  ignorePredicates: readonly ((req: IncomingMessage) => boolean)[];
  addInfo: ((req: IncomingMessage) => object | undefined) | undefined;
  maxHeaderBytes: number;
}

/**
 * Merges options with the core configuration. Undefined when tracing is off; a bad option
 * throws a TypeError (or core's ConfigError) naming the field and the package.
 */
export function resolveHttpOptions(packageName: string, options: HttpServerOptions): ResolvedHttpOptions | undefined {
  if (options.enabled === false) return undefined;
  const base = getConfig();
  if (!(options.enabled ?? base.enabled)) return undefined;
  let config: Readonly<ProfilerConfig> = base;
  if (options.hmacKeys !== undefined || options.sampling !== undefined) {
    // Validated by core's own rules (ConfigError names the bad field); no env involved.
    const over = resolveConfig(
      {
        hmacKeys: options.hmacKeys !== undefined ? [...options.hmacKeys] : base.hmacKeys,
        sampling: (options.sampling !== undefined ? options.sampling : base.sampling) as ProfilerConfig['sampling'] | string,
      },
      {},
    );
    config = Object.freeze({ ...base, hmacKeys: over.hmacKeys, sampling: over.sampling });
  }
  const max = options.maxHeaderBytes ?? DEFAULT_HTTP_OPTIONS.maxHeaderBytes;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`${packageName}: maxHeaderBytes must be a positive integer, got ${String(max)}`);
  const ignoreExact = new Set<string>();
  const ignorePatterns: RegExp[] = [];
  const ignorePredicates: ((req: IncomingMessage) => boolean)[] = [];
  for (const p of options.ignorePaths ?? DEFAULT_HTTP_OPTIONS.ignorePaths) {
    if (typeof p === 'string') ignoreExact.add(p);
    else if (p instanceof RegExp) ignorePatterns.push(p);
    else if (typeof p === 'function') ignorePredicates.push(p);
    else throw new TypeError(`${packageName}: ignorePaths entries must be strings, RegExps or functions, got ${typeof p}`);
  }
  return {
    config,
    sampler: options.sampling !== undefined ? createSampler(config.sampling) : undefined,
    ignoreExact,
    ignorePatterns,
    ignorePredicates,
    addInfo: options.addInfo ?? DEFAULT_HTTP_OPTIONS.addInfo,
    maxHeaderBytes: max,
  };
}
