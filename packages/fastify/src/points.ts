/**
 * What the `wsgi` point of a Fastify route records is the kit's HTTP lifecycle (DESIGN.md
 * "Info fields per kind"): start `request: {path, query, method, scheme}` from Node's
 * request before Fastify rewrites anything; stop `response: {status_code}` (or `aborted`),
 * `request: {route}` (Fastify's route template, `/users/:id`), `etype`/`message` for an
 * error a handler or hook raised.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpServerAdapter } from '@osprofiler/core/instrument';
import { contained } from './contained';

export const FASTIFY: HttpServerAdapter = {
  name: 'fastify',
  packageName: '@osprofiler/fastify',
  contained,
  target: (req: IncomingMessage) => req.url ?? '',
};

interface FastifyRequestLike {
  routeOptions?: { url?: unknown };
  routerPath?: unknown;
}

/** The route template Fastify matched (`routeOptions.url`; `routerPath` before 4.10), or undefined (404). */
export function fastifyRoute(request: unknown): string | undefined {
  const r = request as FastifyRequestLike | null;
  const u = r?.routeOptions?.url ?? r?.routerPath;
  return typeof u === 'string' ? u : undefined;
}
