/**
 * What the `wsgi` point of a Nest route records (DESIGN.md "Info fields per kind"; wire spec
 * §3) is the kit's HTTP lifecycle: start `request: {path, query, method, scheme}`; stop
 * `response: {status_code}`, `request: {route}`, plus `nest: {controller, handler}` (set
 * here as the state's extra stop info) and `etype`/`message` for an exception.
 */
import { routeTemplate } from '@osprofiler/core/instrument';

/** The route template the platform matched: Express's `req.route.path`, Fastify's `routeOptions.url`. */
export function platformRoute(req: unknown): string | undefined {
  const r = req as { route?: { path?: unknown }; baseUrl?: unknown; routeOptions?: { url?: unknown } } | null;
  if (r === null || typeof r !== 'object') return undefined;
  const p = r.route?.path;
  if (typeof p === 'string') return routeTemplate(r.baseUrl, p);
  const u = r.routeOptions?.url;
  return typeof u === 'string' ? u : undefined;
}
