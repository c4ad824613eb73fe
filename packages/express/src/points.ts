/**
 * What the `wsgi` point records (DESIGN.md "Info fields per kind"; wire spec §3):
 * start `request: {path, query, method, scheme}`, stop `response: {status_code}` and
 * `request: {route}`, plus `etype`/`message` when an error was forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { wsgiRequestInfo, type RequestStartInfo } from '@osprofiler/core';

export { pythonPath, splitTarget } from '@osprofiler/core';
export type { RequestStartInfo } from '@osprofiler/core';

/** Start info of a request: the original URL (before any router trimmed it), as Python records it. */
export function requestInfo(req: IncomingMessage & { originalUrl?: string }): RequestStartInfo {
  return wsgiRequestInfo(req, req.originalUrl ?? req.url ?? '');
}

/** The matched route template, including router mount prefixes: `/api` + `/users/:id`. */
export function routeTemplate(baseUrl: unknown, routePath: unknown): string {
  const base = typeof baseUrl === 'string' ? baseUrl : '';
  let p: string;
  if (typeof routePath === 'string') p = routePath;
  else if (Array.isArray(routePath)) p = routePath.map(String).join(',');
  else p = String(routePath);
  if (base !== '' && p === '/') return base;
  return base + p;
}

export interface StopState {
  route: string | undefined;
  error: unknown;
  hasError: boolean;
}

/** Stop info: `response: {status_code}` (or `aborted`), `request: {route}` once routing matched one. */
export function stopInfo(res: ServerResponse, state: StopState, aborted: boolean): object {
  const response: { status_code?: number; aborted?: true } = {};
  if (!aborted || res.headersSent) response.status_code = res.statusCode;
  if (aborted) response.aborted = true;
  const info: { response: object; request?: { route: string } } = { response };
  if (state.route !== undefined) info.request = { route: state.route };
  return info;
}
