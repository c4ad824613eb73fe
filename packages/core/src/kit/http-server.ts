/**
 * The HTTP server request lifecycle every framework adapter shares: decide (verified
 * header, or sampling), open the `wsgi` point with Python's start info, learn the route
 * template and the error as the framework goes, stop the point once when the response
 * closes (or the client went away). An adapter supplies only how it hooks its framework
 * and what it learns there (see the Express, Nest and Fastify adapters).
 *
 * One marker per request for all adapters (`Symbol.for('osprofiler.http.request')`): the
 * first adapter to see a request owns it — under Nest that is Nest's, which wraps the
 * platform's entry point — and any other (Express's or Fastify's automatic mode) stands
 * aside. The marker is a state for a traced request, `null` for one checked and untraced.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TraceOptions } from '../api';
import { ENV_NAMES } from '../config';
import { debug, debugEnabled, warnOnce } from '../diagnostics';
import { openRootPoint, type Point } from '../point';
import { responseTraceHeader } from '../response-header';
import { splitTarget, wsgiRequestInfo } from '../wsgi-info';
import { requestStartInfo } from './start-infos';
import { responseStopInfo } from './stop-infos';
import type { Contain } from './contained';
import { resolveHttpOptions, type HttpServerOptions, type ResolvedHttpOptions } from './http-options';
import { hostProperty, responseFinished } from './host-object';
import { incomingTraceFor } from './incoming';

export const HTTP_REQUEST = Symbol.for('osprofiler.http.request');

export interface HttpRequestState {
  readonly point: Point;
  /** The route template, once the framework matched one (`/users/:id`). */
  route: string | undefined;
  error: unknown;
  hasError: boolean;
  /** Extra stop info the adapter adds (Nest: `nest: {controller, handler}`). */
  extra: Record<string, unknown> | undefined;
  /**
   * For the adapter: a value it keeps per traced request without adding a property to the
   * request (Express: what the app assigned to `req.route`). Kept here rather than in a
   * WeakMap keyed by the request: a WeakMap entry per request is an ephemeron the
   * scavenger visits until a full GC.
   */
  held: unknown;
}

type Marked = Record<symbol, unknown>;

/** The state of a traced request: Node's request, or a framework request wrapping it in `raw` (Fastify). */
export function httpState(req: unknown): HttpRequestState | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  let s = (req as Marked)[HTTP_REQUEST];
  if (s === undefined) {
    const raw = (req as { raw?: unknown }).raw;
    if (raw !== null && typeof raw === 'object') s = (raw as Marked)[HTTP_REQUEST];
  }
  return s === null ? undefined : (s as HttpRequestState | undefined);
}

/** Notes the error that escaped a handler; the first one wins. */
export function noteHttpError(state: HttpRequestState, err: unknown): void {
  if (state.hasError) return;
  state.hasError = true;
  state.error = err;
}

/** How one framework adapter plugs into the lifecycle. */
export interface HttpServerAdapter {
  /** Short name: failures are counted as `<name>.<place>`, debug lines start with it. */
  readonly name: string;
  /** The npm package, for messages (`@osprofiler/express`). */
  readonly packageName: string;
  readonly contained: Contain;
  /** The request target recorded and matched by `ignorePaths` (default `req.originalUrl ?? req.url`). */
  target?(req: IncomingMessage): string;
  /** The route template, asked at the end when the framework did not report one earlier. */
  routeAtFinish?(req: IncomingMessage): string | undefined;
  /** Called once the point is open (`ctx` is what the adapter passed to `begin`). */
  opened?(state: HttpRequestState, req: IncomingMessage, ctx: unknown): void;
}

export interface HttpTracer {
  /** Sampling is on: every request needs `begin`, not only those carrying `X-Trace-HMAC`. */
  readonly sampling: boolean;
  /**
   * Opens the request's `wsgi` point and returns it (run the framework's handling inside
   * it: `point.run(...)`), or undefined to serve it untraced. Never throws.
   */
  begin(req: IncomingMessage, res: ServerResponse, ctx?: unknown): Point | undefined;
}

function defaultTarget(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

function tooLong(v: unknown, max: number): boolean {
  return typeof v === 'string' ? v.length > max : Array.isArray(v) ? v.some((x) => typeof x === 'string' && x.length > max) : false;
}

/**
 * The lifecycle for one adapter set-up, or undefined when tracing is off (then, unless
 * `options.enabled` is `false`, one process warning names `enabled` and its variable).
 * Bad options throw at set-up.
 */
export function createHttpTracer(adapter: HttpServerAdapter, options: HttpServerOptions = {}): HttpTracer | undefined {
  const o = resolveHttpOptions(adapter.packageName, options);
  if (o === undefined) {
    if (options.enabled !== false) {
      warnOnce(
        'adapter.disabled',
        `${adapter.packageName} is set up but tracing is off, so no request will be traced: ` +
          `set \`enabled: true\` (configure()) or ${ENV_NAMES.enabled}=true`,
        'OSPROFILER_DISABLED',
      );
    }
    debug(`${adapter.name}: set up with tracing off: requests pass through untraced`);
    return undefined;
  }
  if (debugEnabled()) {
    const s = o.config.sampling;
    debug(
      `${adapter.name}: tracing requests with a valid X-Trace-HMAC (${o.config.hmacKeys.length} key(s))` +
        `${s === null ? '' : `, sampling ${JSON.stringify(s)}`}; ignorePaths: ${o.ignoreExact.size + o.ignorePatterns.length + o.ignorePredicates.length}` +
        `${o.addInfo !== undefined ? '; addInfo' : ''}`,
    );
  }
  const target = adapter.target ?? defaultTarget;
  const hasIgnores = o.ignoreExact.size > 0 || o.ignorePatterns.length > 0 || o.ignorePredicates.length > 0;
  const { contained } = adapter;

  function isIgnored(req: IncomingMessage): boolean {
    const { path } = splitTarget(target(req));
    if (o!.ignoreExact.has(path)) return true;
    for (const re of o!.ignorePatterns) {
      re.lastIndex = 0;
      if (re.test(path)) return true;
    }
    for (const p of o!.ignorePredicates) {
      try {
        if (p(req)) return true;
      } catch (err) {
        contained('ignorePaths', err);
      }
    }
    return false;
  }

  return {
    sampling: o.config.sampling !== null,
    begin(req, res, ctx) {
      try {
        const r = req as unknown as Marked;
        if (r[HTTP_REQUEST] !== undefined) return undefined; // owned by an outer adapter or app
        r[HTTP_REQUEST] = null;
        if (hasIgnores && isIgnored(req)) return undefined;
        // `req.headers` is a getter (Node builds the object at its first read): read once, not three times.
        const headers = req.headers;
        if (tooLong(headers['x-trace-info'], o.maxHeaderBytes) || tooLong(headers['x-trace-hmac'], o.maxHeaderBytes)) {
          if (debugEnabled()) debug(`${adapter.name}: trace header rejected, served untraced: longer than maxHeaderBytes (${o.maxHeaderBytes})`);
          return undefined;
        }
        const trace = incomingTraceFor(adapter.name, headers, o.config, o.sampler, o.maxHeaderBytes);
        if (trace === undefined) return undefined;
        return open(adapter, o, target, trace, req, res, ctx);
      } catch (err) {
        contained('begin', err);
        return undefined;
      }
    },
  };
}

function startInfo(adapter: HttpServerAdapter, o: ResolvedHttpOptions, target: (req: IncomingMessage) => string, req: IncomingMessage): object {
  // Without addInfo the info is the request's alone: shared for a target seen again (start-infos.ts).
  if (o.addInfo === undefined) return requestStartInfo(req, target(req));
  const info: Record<string, unknown> = { request: wsgiRequestInfo(req, target(req)) };
  try {
    const extra = o.addInfo(req);
    if (extra !== null && typeof extra === 'object') {
      for (const k of Object.keys(extra)) if (k !== 'request' && k !== 'host') info[k] = (extra as Record<string, unknown>)[k];
    }
  } catch (err) {
    adapter.contained('addInfo', err);
  }
  return info;
}

function open(
  adapter: HttpServerAdapter,
  o: ResolvedHttpOptions,
  target: (req: IncomingMessage) => string,
  trace: TraceOptions,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: unknown,
): Point | undefined {
  const info = startInfo(adapter, o, target, req);
  // The point is the trace's root, not taken from the context: no AsyncLocalStorage run for
  // a root profiler (the framework runs once, inside the point's), and no root profiler.
  const point = openRootPoint('wsgi', info, trace.hmacKey, trace.baseId, trace.parentId);
  const state: HttpRequestState = { point, route: undefined, error: undefined, hasError: false, extra: undefined, held: undefined };
  (req as unknown as Marked)[HTTP_REQUEST] = state;
  try {
    // The trace's base_id back to the caller (off by default; core's responseTraceHeader decides).
    const header = responseTraceHeader(o.config, point.profiler);
    if (header !== undefined) res.setHeader(header.name, header.value);
    adapter.opened?.(state, req, ctx);
    // One listener: a ServerResponse always emits 'close' (right after 'finish', or when
    // the client went away mid-response, then without writableFinished). A second
    // listener for 'finish' cost ~4 µs a request in the profile (Express, measured).
    res.on('close', () => finish(adapter, req, res, state, !responseFinished(res)));
  } catch (err) {
    adapter.contained('open', err);
    finish(adapter, req, res, state, false);
  }
  return point;
}

function finish(adapter: HttpServerAdapter, req: IncomingMessage, res: ServerResponse, state: HttpRequestState, aborted: boolean): void {
  if (state.point.isStopped) return;
  try {
    if (state.route === undefined && adapter.routeAtFinish !== undefined) state.route = adapter.routeAtFinish(req);
    if (!aborted && !state.hasError && state.extra === undefined) {
      const status = hostProperty(res, 'statusCode');
      if (typeof status === 'number') {
        state.point.stop(responseStopInfo(status, state.route));
        return;
      }
    }
    const response: { status_code?: number; aborted?: true } = {};
    if (!aborted || res.headersSent) response.status_code = hostProperty(res, 'statusCode') as number;
    if (aborted) response.aborted = true;
    const info: Record<string, unknown> = { response };
    if (state.route !== undefined) info.request = { route: state.route };
    if (state.extra !== undefined) for (const k of Object.keys(state.extra)) info[k] = state.extra[k];
    if (state.hasError) state.point.fail(state.error, info);
    else state.point.stop(info);
  } catch (err) {
    adapter.contained('finish', err);
    state.point.stop();
  }
}

/**
 * For adapters: the template `base` + `path` of a route mounted under `base`
 * (`/api` + `/users/:id`; `/api` + `/` is `/api`). Arrays of paths are joined with ','.
 */
export function routeTemplate(base: unknown, routePath: unknown): string {
  const b = typeof base === 'string' ? base : '';
  let p: string;
  if (typeof routePath === 'string') p = routePath;
  else if (Array.isArray(routePath)) p = routePath.map(String).join(',');
  else p = String(routePath);
  if (b !== '' && p === '/') return b;
  return b + p;
}
