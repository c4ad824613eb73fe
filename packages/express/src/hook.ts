/**
 * How the adapter attaches to Express: the `profiler()` middleware (the official extension
 * point, also what bundled apps use), and `instrumentExpress()` for automatic mode.
 */
import type { ServerResponse } from 'node:http';
import { isWrapped, tracedEntry, wrap } from '@osprofiler/core/instrument';
import { contained } from './contained';
import type { ExpressProfilerOptions } from './options';
import { createTracer, type ExpressRequest, type Tracer } from './tracer';

export type Next = (err?: unknown) => void;
export type ExpressMiddleware = (req: ExpressRequest, res: ServerResponse, next: Next) => void;

/**
 * Express middleware: a request carrying a valid `X-Trace-Info`/`X-Trace-HMAC` pair (or a
 * sampled one) runs the rest of its handling inside a `wsgi` point. Anything else goes
 * straight to `next()`. Put it first: `app.use(profiler())`.
 */
export function profiler(options: ExpressProfilerOptions = {}): ExpressMiddleware {
  const tracer = createTracer(options);
  if (tracer === undefined) {
    return function osprofilerDisabled(_req, _res, next) {
      next();
    };
  }
  if (!tracer.sampling) {
    return function osprofiler(req, res, next) {
      // Fast path: no header, no work beyond this lookup.
      if (req.headers['x-trace-hmac'] === undefined) return next();
      const point = tracer.begin(req, res);
      if (point === undefined) return next();
      point.run(next);
    };
  }
  return function osprofilerSampled(req, res, next) {
    const point = tracer.begin(req, res);
    if (point === undefined) return next();
    point.run(next);
  };
}

type Handle = (this: unknown, req: ExpressRequest, res: ServerResponse, callback?: unknown) => unknown;

/**
 * Wraps an Express `handle(req, res, callback)`: the request is traced (or not) before
 * Express dispatches it, with no router layer of its own. The options are resolved at the
 * first request, so a `configure()` call made after setup still counts.
 */
function wrapHandle(original: Handle, options: ExpressProfilerOptions): Handle {
  let tracer: Tracer | null | undefined;
  return tracedEntry(original, () => {
    if (tracer === undefined) {
      try {
        tracer = createTracer(options) ?? null;
      } catch (err) {
        contained('handle.options', err);
        tracer = null;
      }
    }
    return tracer ?? undefined;
  });
}

/**
 * Automatic mode: makes every app created from this `express` module trace requests as if
 * `profiler(options)` were its first middleware. It wraps `express.application.handle`,
 * the one method both Express 4 and 5 call for every request an app serves (apps copy it
 * from `express.application` when `express()` creates them). Wrapping `handle` rather than
 * inserting a router layer leaves router creation alone: Express 4 builds its router from
 * settings at first use, and an early layer would freeze settings the app sets later.
 * Returns false when `express` is not an Express module or is already instrumented.
 */
export function instrumentExpress(express: unknown, options: ExpressProfilerOptions = {}): boolean {
  const proto = (express as { application?: Record<string | symbol, unknown> } | null)?.application;
  if (typeof express !== 'function' || proto === undefined || proto === null || typeof proto.handle !== 'function') return false;
  return wrap(proto, 'handle', 'express', (original) => wrapHandle(original as Handle, options));
}

/**
 * The same for one app, instead of `app.use(profiler())`: wraps this app's `handle`, so the
 * request is traced before Express dispatches it and untraced requests skip the cost of
 * one more router layer. Works for bundled apps. Returns false if `app` is not an Express
 * app or is already instrumented.
 */
export function instrumentApp(app: unknown, options: ExpressProfilerOptions = {}): boolean {
  const a = app as Record<string | symbol, unknown> | null;
  if (typeof app !== 'function' || a === null || typeof a.handle !== 'function') return false;
  return wrap(a, 'handle', 'express', (original) => wrapHandle(original as Handle, options));
}

/** True when apps of this `express` module are traced by `instrumentExpress`. */
export function isExpressInstrumented(express: unknown): boolean {
  const proto = (express as { application?: Record<string | symbol, unknown> } | null)?.application;
  return proto !== undefined && proto !== null && isWrapped(proto.handle, 'express');
}
