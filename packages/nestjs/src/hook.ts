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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contained } from './contained';
import { get } from '@osprofiler/core';
import { internalsEnabled, pointAround } from './internals';
import { platformRoute } from './points';
import { stateOf } from './state';
import type { Tracer } from './tracer';

const WRAPPED = Symbol.for('osprofiler.nestjs.wrapped');

type Handle = ((this: unknown, req: IncomingMessage, res: ServerResponse, callback?: unknown) => unknown) & { [WRAPPED]?: true };

/** Wraps an Express app's `handle`. Returns false when it is not an Express app or is already wrapped. */
export function attachExpress(app: unknown, tracer: Tracer): boolean {
  const a = app as Record<string | symbol, unknown> | null;
  if (typeof app !== 'function' || a === null || typeof a.handle !== 'function' || (a.handle as Handle)[WRAPPED] === true) return false;
  const original = a.handle as Handle;
  const handle: Handle = function handle(this: unknown, req, res, callback) {
    if (!tracer.sampling && req.headers['x-trace-hmac'] === undefined) return original.call(this, req, res, callback);
    const point = tracer.begin(req, res);
    if (point === undefined) return original.call(this, req, res, callback);
    return point.run(() => original.call(this, req, res, callback));
  };
  Object.defineProperty(handle, WRAPPED, { value: true, enumerable: false });
  a.handle = handle;
  return true;
}

type Listener = ((this: unknown, req: IncomingMessage, res: ServerResponse) => unknown) & { [WRAPPED]?: true };

/** Wraps the `request` listeners of a Fastify instance's HTTP server. Returns false when there is none to wrap. */
export function attachFastify(instance: unknown, tracer: Tracer): boolean {
  const server = (instance as { server?: { listeners?(e: string): unknown[]; removeListener?(e: string, l: unknown): void; on?(e: string, l: unknown): void } } | null)?.server;
  if (server === undefined || typeof server.listeners !== 'function' || typeof server.on !== 'function' || typeof server.removeListener !== 'function') return false;
  const listeners = server.listeners('request') as Listener[];
  if (listeners.length === 0 || listeners.some((l) => l[WRAPPED] === true)) return false;
  for (const original of listeners) {
    const wrapped: Listener = function request(this: unknown, req, res) {
      if (!tracer.sampling && req.headers['x-trace-hmac'] === undefined) return original.call(this, req, res);
      const point = tracer.begin(req, res);
      if (point === undefined) return original.call(this, req, res);
      return point.run(() => original.call(this, req, res));
    };
    Object.defineProperty(wrapped, WRAPPED, { value: true, enumerable: false });
    server.removeListener('request', original);
    server.on('request', wrapped);
  }
  return true;
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
    if (proto === undefined || typeof proto.next !== 'function' || (proto.next as Handle)[WRAPPED] === true) return;
    const original = proto.next as (this: unknown, exception: unknown, host: ArgsHost) => unknown;
    const next = function next(this: unknown, exception: unknown, host: ArgsHost) {
      try {
        const req = host?.getArgByIndex?.(0);
        const s = stateOf(req);
        if (s !== undefined && !s.hasError) {
          s.hasError = true;
          s.error = exception;
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
    };
    Object.defineProperty(next, WRAPPED, { value: true, enumerable: false });
    proto.next = next;
  } catch (err) {
    contained('exceptions.hook', err);
  }
}

function nameOf(err: unknown): string {
  return (err as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof err;
}
