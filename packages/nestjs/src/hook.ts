/**
 * How the module attaches to a Nest application.
 *
 * HTTP: the `wsgi` point must be open before Nest's middleware, guards and pipes run
 * (guards run before interceptors), so it starts where the platform receives the request:
 * on Express, the app's `handle` is wrapped (what @osprofiler/express's `instrumentApp`
 * does; no extra middleware layer, untraced requests pay one header lookup). On Fastify,
 * the HTTP server's `request` listener (Fastify's whole request handling, its `onRequest`
 * hooks and Nest's middleware included) is wrapped the same way.
 *
 * Exceptions: Nest catches every exception of a route (guards, pipes, interceptors,
 * handler) in its router proxy and passes it to the route's `ExceptionsHandler.next`,
 * which runs the exception filters. Nest has no public hook for "a route threw" that also
 * sees guard exceptions, so `ExceptionsHandler.prototype.next` is wrapped (once per copy
 * of @nestjs/core): on a traced request it notes the exception, then calls the original
 * with the same arguments. Untraced requests pay one property lookup, on error paths only.
 */
import { get } from '@osprofiler/core';
import { httpState, noteHttpError, traceRequestListeners, tracedEntry, wrap } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { internalsEnabled, pointAround } from './internals';
import { platformRoute } from './points';
import type { Tracer } from './tracer';

/**
 * Wraps an Express app's `handle` (an own wrapper on the app, outside any wrapper of
 * @osprofiler/express's automatic mode, which then finds the request owned and stands
 * aside). Returns false when it is not an Express app or Nest wrapped it already.
 */
export function attachExpress(app: unknown, tracer: Tracer): boolean {
  const a = app as Record<string | symbol, unknown> | null;
  if (typeof app !== 'function' || a === null || typeof a.handle !== 'function') return false;
  return wrap(a, 'handle', 'nestjs', (original) => tracedEntry(original, () => tracer));
}

/** Wraps the `request` listeners of a Fastify instance's HTTP server. Returns false when there is none to wrap. */
export function attachFastify(instance: unknown, tracer: Tracer): boolean {
  return traceRequestListeners((instance as { server?: unknown } | null)?.server, tracer, 'nestjs');
}

interface ArgsHost {
  getArgByIndex?(i: number): unknown;
  getType?(): string;
}

/** Wraps `ExceptionsHandler.prototype.next` of the @nestjs/core copy the app uses (once). */
export function hookExceptions(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@nestjs/core/exceptions/exceptions-handler') as { ExceptionsHandler?: { prototype: Record<string | symbol, unknown> } };
    const proto = mod.ExceptionsHandler?.prototype;
    if (proto === undefined) return;
    wrap(proto, 'next', 'nestjs', (original) =>
      function next(this: unknown, exception: unknown, host: ArgsHost) {
        try {
          const req = host?.getArgByIndex?.(0);
          const s = httpState(req);
          if (s !== undefined && !s.hasError) {
            noteHttpError(s, exception);
            // On Fastify the route is known from its request object, not from Node's.
            if (s.route === undefined) s.route = platformRoute(req);
          }
        } catch (err) {
          contained('exceptions', err);
        }
        if (internalsEnabled() && get() !== undefined) {
          return pointAround('filter', { function: { name: 'ExceptionsHandler.next' }, nest: { exception: nameOf(exception) } }, () => original.call(this, exception, host));
        }
        return original.call(this, exception, host);
      },
    );
  } catch (err) {
    contained('exceptions.hook', err);
  }
}

function nameOf(err: unknown): string {
  return (err as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof err;
}
