/**
 * The per-request decision and lifecycle shared by the middleware and the automatic hook:
 * verify the header (or sample), open the `wsgi` point, learn the route and the error,
 * stop the point once when the response finishes or the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSampler, getConfig, incomingTrace, openPoint, resolveConfig, responseTraceHeader, run, type Point, type ProfilerConfig, type Sampler } from '@osprofiler/core';
import { contained } from './contained';
import { DEFAULT_OPTIONS, splitIgnorePaths, type ExpressProfilerOptions, type ResolvedOptions } from './options';
import { requestInfo, splitTarget, stopInfo } from './points';
import { ensureRouterHooks } from './router-hooks';
import { STATE, type RequestState } from './state';

export type ExpressRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string; app?: unknown; route?: unknown };

export interface Tracer {
  /** Sampling is on: every request needs `begin`, not only those carrying a header. */
  readonly sampling: boolean;
  /** Opens the request's `wsgi` point and returns it, or undefined to serve it untraced. Never throws. */
  begin(req: ExpressRequest, res: ServerResponse, app?: unknown): Point | undefined;
}

/** Merges options with the core configuration, once. `undefined` when tracing is off. */
export function resolveOptions(options: ExpressProfilerOptions): ResolvedOptions | undefined {
  if (options.enabled === false) return undefined;
  const base = getConfig();
  const enabled = options.enabled ?? base.enabled;
  if (!enabled) return undefined;
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
  const max = options.maxHeaderBytes ?? DEFAULT_OPTIONS.maxHeaderBytes;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`@osprofiler/express: maxHeaderBytes must be a positive integer, got ${String(max)}`);
  return {
    enabled: true,
    config,
    ...splitIgnorePaths(options.ignorePaths ?? DEFAULT_OPTIONS.ignorePaths),
    addInfo: options.addInfo ?? DEFAULT_OPTIONS.addInfo,
    maxHeaderBytes: max,
  };
}

export function createTracer(options: ExpressProfilerOptions = {}): Tracer | undefined {
  const o = resolveOptions(options);
  if (o === undefined) return undefined;
  // Overridden sampling gets its own counter; otherwise core's process-wide sampler decides.
  const sampler: Sampler | undefined = options.sampling !== undefined ? createSampler(o.config.sampling) : undefined;
  const hasIgnores = o.ignoreExact.size > 0 || o.ignorePatterns.length > 0 || o.ignorePredicates.length > 0;
  return {
    sampling: o.config.sampling !== null,
    begin(req, res, app) {
      try {
        const r = req as unknown as Record<symbol, unknown>;
        if (r[STATE] !== undefined) return undefined; // already handled by an outer app or hook
        r[STATE] = null;
        if (hasIgnores && isIgnored(o, req)) return undefined;
        if (tooLong(req.headers['x-trace-info'], o.maxHeaderBytes) || tooLong(req.headers['x-trace-hmac'], o.maxHeaderBytes)) return undefined;
        const trace = incomingTrace(req.headers, o.config, sampler);
        if (trace === undefined) return undefined;
        return open(o, trace, req, res, app ?? req.app);
      } catch (err) {
        contained('begin', err);
        return undefined;
      }
    },
  };
}

function tooLong(v: unknown, max: number): boolean {
  return typeof v === 'string' ? v.length > max : Array.isArray(v) ? v.some((x) => typeof x === 'string' && x.length > max) : false;
}

function isIgnored(o: ResolvedOptions, req: ExpressRequest): boolean {
  const { path } = splitTarget(req.originalUrl ?? req.url ?? '');
  if (o.ignoreExact.has(path)) return true;
  for (const re of o.ignorePatterns) {
    re.lastIndex = 0;
    if (re.test(path)) return true;
  }
  for (const p of o.ignorePredicates) {
    try {
      if (p(req)) return true;
    } catch (err) {
      contained('ignorePaths', err);
    }
  }
  return false;
}

function startInfo(o: ResolvedOptions, req: ExpressRequest): object {
  const info: Record<string, unknown> = { request: requestInfo(req) };
  if (o.addInfo !== undefined) {
    try {
      const extra = o.addInfo(req);
      if (extra !== null && typeof extra === 'object') {
        for (const k of Object.keys(extra)) if (k !== 'request' && k !== 'host') info[k] = (extra as Record<string, unknown>)[k];
      }
    } catch (err) {
      contained('addInfo', err);
    }
  }
  return info;
}

function open(o: ResolvedOptions, trace: Parameters<typeof run>[0], req: ExpressRequest, res: ServerResponse, app: unknown): Point | undefined {
  const info = startInfo(o, req);
  const point = run(trace, () => openPoint('wsgi', info));
  if (point === undefined) return undefined;
  const state: RequestState = { point, route: undefined, error: undefined, hasError: false };
  (req as unknown as Record<symbol, unknown>)[STATE] = state;
  try {
    // issue 16: the trace's base_id back to the caller (core decides; off by default).
    const header = responseTraceHeader(o.config, point.profiler);
    if (header !== undefined) res.setHeader(header.name, header.value);
    ensureRouterHooks(app);
    // One listener: a ServerResponse always emits 'close' (right after 'finish', or when
    // the client went away mid-response, then without writableFinished). A second
    // listener for 'finish' cost ~4 µs a request in the profile.
    res.on('close', () => finish(res, state, !res.writableFinished));
  } catch (err) {
    contained('open', err);
    finish(res, state, false);
  }
  return point;
}

function finish(res: ServerResponse, state: RequestState, aborted: boolean): void {
  if (state.point.isStopped) return;
  try {
    const info = stopInfo(res, state, aborted);
    if (state.hasError) state.point.fail(state.error, info);
    else state.point.stop(info);
  } catch (err) {
    contained('finish', err);
    state.point.stop();
  }
}
