/**
 * What the `wsgi` point of a Nest route records (DESIGN.md "Info fields per kind"; wire spec
 * §3): start `request: {path, query, method, scheme}`; stop `response: {status_code}`,
 * `request: {route}`, `nest: {controller, handler}`, and `etype`/`message` for an exception.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pythonPath } from '@osprofiler/express';
import type { RequestState } from './state';

export interface RequestStartInfo {
  path: string;
  query: string;
  method: string;
  scheme: string;
}

/** Splits a request target into path and raw query (without `?`), absolute-form included. */
export function splitTarget(url: string): { path: string; query: string } {
  let target = url;
  if (target.length > 0 && target.charCodeAt(0) !== 47 /* / */) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (m !== null) target = target.slice(m[0].length);
  }
  const q = target.indexOf('?');
  return { path: q === -1 ? target : target.slice(0, q), query: q === -1 ? '' : target.slice(q + 1) };
}

/** Start info, as Python's WSGI middleware records it (path quoted the webob way). */
export function requestInfo(req: IncomingMessage): RequestStartInfo {
  const { path, query } = splitTarget(req.url ?? '');
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  return { path: pythonPath(path), query, method: req.method ?? '', scheme: encrypted ? 'https' : 'http' };
}

/** The route template the platform matched: Express's `req.route.path`, Fastify's `routeOptions.url`. */
export function platformRoute(req: unknown): string | undefined {
  const r = req as { route?: { path?: unknown }; baseUrl?: unknown; routeOptions?: { url?: unknown } } | null;
  if (r === null || typeof r !== 'object') return undefined;
  const p = r.route?.path;
  if (typeof p === 'string') {
    const base = typeof r.baseUrl === 'string' ? r.baseUrl : '';
    return base !== '' && p === '/' ? base : base + p;
  }
  const u = r.routeOptions?.url;
  return typeof u === 'string' ? u : undefined;
}

export function stopInfo(res: ServerResponse, state: RequestState, aborted: boolean): object {
  const response: { status_code?: number; aborted?: true } = {};
  if (!aborted || res.headersSent) response.status_code = res.statusCode;
  if (aborted) response.aborted = true;
  const info: { response: object; request?: { route: string }; nest?: object } = { response };
  if (state.route !== undefined) info.request = { route: state.route };
  if (state.nest !== undefined) info.nest = state.nest;
  return info;
}
