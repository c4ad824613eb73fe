/**
 * The per-request decision and lifecycle: verify the header (or sample), open the `wsgi`
 * point before Nest's middleware, guards and pipes run, stop it once when the response
 * finishes or the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getConfig, incomingTrace, openPoint, responseTraceHeader, run, type Point } from '@osprofiler/core';
import { contained } from './contained';
import { DEFAULT_OPTIONS, type NestProfilerOptions } from './options';
import { platformRoute, requestInfo, splitTarget, stopInfo } from './points';
import { EXPRESS_STATE, STATE, type Marked, type RequestState } from './state';

export interface Tracer {
  /** Sampling is on: every request needs `begin`, not only those carrying a header. */
  readonly sampling: boolean;
  /** Opens the request's `wsgi` point, or returns undefined to serve it untraced. Never throws. */
  begin(req: IncomingMessage, res: ServerResponse): Point | undefined;
}

/** Merges adapter options with the (already configured) core configuration. Undefined when tracing is off. */
export function createTracer(options: NestProfilerOptions): Tracer | undefined {
  // hmacKeys/sampling are core fields: forRoot passed them to configure() already.
  const config = getConfig();
  if (!config.enabled) return undefined;
  const max = options.maxHeaderBytes ?? DEFAULT_OPTIONS.maxHeaderBytes;
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`@osprofiler/nestjs: maxHeaderBytes must be a positive integer, got ${String(max)}`);
  const ignoreExact = new Set<string>();
  const ignorePatterns: RegExp[] = [];
  for (const p of options.ignorePaths ?? DEFAULT_OPTIONS.ignorePaths) {
    if (typeof p === 'string') ignoreExact.add(p);
    else if (p instanceof RegExp) ignorePatterns.push(p);
    else throw new TypeError(`@osprofiler/nestjs: ignorePaths entries must be strings or RegExps, got ${typeof p}`);
  }
  const hasIgnores = ignoreExact.size > 0 || ignorePatterns.length > 0;
  return {
    sampling: config.sampling !== null,
    begin(req, res) {
      try {
        const r = req as unknown as Marked;
        if (r[STATE] !== undefined) return undefined;
        r[STATE] = null;
        r[EXPRESS_STATE] = null;
        if (hasIgnores) {
          const { path } = splitTarget(req.url ?? '');
          if (ignoreExact.has(path) || ignorePatterns.some((re) => ((re.lastIndex = 0), re.test(path)))) return undefined;
        }
        if (tooLong(req.headers['x-trace-info'], max) || tooLong(req.headers['x-trace-hmac'], max)) return undefined;
        const trace = incomingTrace(req.headers, config);
        if (trace === undefined) return undefined;
        const point = open(trace, req, res);
        // issue 16: the trace's base_id back to the caller (core decides; off by default).
        const header = point && responseTraceHeader(config, point.profiler);
        if (header) res.setHeader(header.name, header.value);
        return point;
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

function open(trace: Parameters<typeof run>[0], req: IncomingMessage, res: ServerResponse): Point | undefined {
  const point = run(trace, () => openPoint('wsgi', { request: requestInfo(req) }));
  if (point === undefined) return undefined;
  const state: RequestState = { point, route: undefined, nest: undefined, error: undefined, hasError: false };
  (req as unknown as Marked)[STATE] = state;
  try {
    res.once('finish', () => finish(req, res, state, false));
    res.once('close', () => finish(req, res, state, !res.writableFinished));
  } catch (err) {
    contained('open', err);
    finish(req, res, state, false);
  }
  return point;
}

function finish(req: IncomingMessage, res: ServerResponse, state: RequestState, aborted: boolean): void {
  if (state.point.isStopped) return;
  try {
    if (state.route === undefined) state.route = platformRoute(req);
    const info = stopInfo(res, state, aborted);
    if (state.hasError) state.point.fail(state.error, info);
    else state.point.stop(info);
  } catch (err) {
    contained('finish', err);
    state.point.stop();
  }
}
