/**
 * Where an HTTP framework adapter hooks in: the function that receives every request
 * (Express's `app.handle`, the HTTP server's `request` listener under Fastify). The wrapper
 * runs the framework's whole handling inside the request's `wsgi` point; a request without
 * `X-Trace-HMAC` (sampling off) costs one header lookup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runCall } from '../runtime';
import type { HttpTracer } from './http-server';
import { isWrapped, markWrapped } from './wrap';

type Entry = (this: unknown, req: IncomingMessage, res: ServerResponse, next?: unknown) => unknown;

/**
 * `original` traced: `tracer()` is asked at each request (return the same object; undefined
 * means pass through), so an adapter may resolve its options lazily. `ctx` is handed to
 * `begin` (Express passes the app).
 */
export function tracedEntry<F extends Entry>(original: F, tracer: () => HttpTracer | undefined): F {
  return function osprofilerEntry(this: unknown, req: IncomingMessage, res: ServerResponse, next?: unknown) {
    const t = tracer();
    if (t === undefined || (!t.sampling && req.headers['x-trace-hmac'] === undefined)) return original.call(this, req, res, next);
    const point = t.begin(req, res, this);
    if (point === undefined) return original.call(this, req, res, next);
    // point.run(() => original.call(this, req, res, next)) without the closure.
    return runCall(point.profiler, original, this, req, res, next);
  } as F;
}

interface ServerLike {
  listeners(event: string): unknown[];
  removeListener(event: string, listener: (...a: any[]) => void): unknown;
  on(event: string, listener: (...a: any[]) => void): unknown;
}

/**
 * Wraps the `request` listeners of an HTTP server (a Fastify instance's `server`, Nest's
 * Fastify platform), marked as `by`'s. Returns false when there is none to wrap or `by`
 * wrapped them already.
 */
export function traceRequestListeners(server: unknown, tracer: HttpTracer, by: string): boolean {
  const s = server as Partial<ServerLike> | null | undefined;
  if (s == null || typeof s.listeners !== 'function' || typeof s.on !== 'function' || typeof s.removeListener !== 'function') return false;
  const listeners = s.listeners('request') as Entry[];
  if (listeners.length === 0 || listeners.some((l) => isWrapped(l, by))) return false;
  for (const original of listeners) {
    const wrapped = markWrapped(tracedEntry(original, () => tracer), original, by);
    s.removeListener('request', original);
    s.on('request', wrapped);
  }
  return true;
}
