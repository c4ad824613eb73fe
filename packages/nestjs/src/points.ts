/**
 * What the `wsgi` point of a Nest route records (DESIGN.md "Info fields per kind"; wire spec
 * §3): start `request: {path, query, method, scheme}`; stop `response: {status_code}`,
 * `request: {route}`, `nest: {controller, handler}`, and `etype`/`message` for an exception.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { wsgiRequestInfo, type RequestStartInfo } from '@osprofiler/core';

export { splitTarget } from '@osprofiler/core';
import type { RequestState } from './state';

/** Start info, as Python's WSGI middleware records it (path quoted the webob way). */
export function requestInfo(req: IncomingMessage): RequestStartInfo {
  return wsgiRequestInfo(req);
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
