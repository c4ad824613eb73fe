/**
 * How the adapter attaches to Express: the `profiler()` middleware (the official extension
 * point, also what bundled apps use), and `instrumentExpress()` for automatic mode.
 */
import type { ServerResponse } from 'node:http';
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

const INSTRUMENTED = Symbol.for('osprofiler.express.instrumented');

type Handle = (this: unknown, req: ExpressRequest, res: ServerResponse, callback?: unknown) => unknown;

/**
 * Automatic mode: makes every app created from this `express` module trace requests as if
 * `profiler(options)` were its first middleware. It wraps `express.application.handle`,
 * the one method both Express 4 and 5 call for every request an app serves (apps copy it
 * from `express.application` when `express()` creates them). Wrapping `handle` rather than
 * inserting a router layer leaves router creation alone: Express 4 builds its router from
 * settings at first use, and an early layer would freeze settings the app sets later.
 * The options are resolved at the first request, so a `configure()` call in the app counts.
 * Returns false when `express` is not an Express module or is already instrumented.
 */
export function instrumentExpress(express: unknown, options: ExpressProfilerOptions = {}): boolean {
  const proto = (express as { application?: Record<string | symbol, unknown> } | null)?.application;
  if (typeof express !== 'function' || proto === undefined || proto === null || typeof proto.handle !== 'function') return false;
  if (proto[INSTRUMENTED] === true) return false;
  const original = proto.handle as Handle;
  let tracer: Tracer | null | undefined;
  proto.handle = function handle(this: unknown, req: ExpressRequest, res: ServerResponse, callback?: unknown) {
    if (tracer === undefined) {
      try {
        tracer = createTracer(options) ?? null;
      } catch (err) {
        contained('instrumentExpress.options', err);
        tracer = null;
      }
    }
    if (tracer === null || (!tracer.sampling && req.headers['x-trace-hmac'] === undefined)) return original.call(this, req, res, callback);
    const point = tracer.begin(req, res, this);
    if (point === undefined) return original.call(this, req, res, callback);
    return point.run(() => original.call(this, req, res, callback));
  };
  Object.defineProperty(proto, INSTRUMENTED, { value: true, enumerable: false });
  return true;
}

/** True when apps of this `express` module are traced by `instrumentExpress`. */
export function isExpressInstrumented(express: unknown): boolean {
  const proto = (express as { application?: Record<string | symbol, unknown> } | null)?.application;
  return proto?.[INSTRUMENTED] === true;
}
