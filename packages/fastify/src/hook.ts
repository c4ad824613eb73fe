/**
 * How the adapter attaches to a Fastify instance.
 *
 * The `wsgi` point must be open before Fastify's own handling (routing, `onRequest` hooks,
 * body parsing), so it starts where Fastify receives the request: the HTTP server's
 * `request` listener is wrapped (the kit's `traceRequestListeners`); untraced requests pay
 * one header lookup. Two root hooks add what only Fastify knows: `onRequest` notes the
 * matched route template on a traced request, `onError` the error a handler or hook raised
 * (Fastify's error handler turns it into a response afterwards, so the point still stops
 * with the status code sent). Under Nest's Fastify platform, Nest's module wraps the
 * listener outside this one and owns the request; this adapter then stands aside (one point).
 */
import { createHttpTracer, httpState, noteHttpError, traceRequestListeners } from '@osprofiler/core/instrument';
import { contained } from './contained';
import type { FastifyProfilerOptions } from './options';
import { FASTIFY, fastifyRoute } from './points';

type Done = (err?: Error) => void;

/** The part of a Fastify instance the adapter uses (Fastify 4.10+ and 5). */
export interface FastifyLike {
  server: unknown;
  addHook(name: string, hook: (...args: any[]) => unknown): unknown;
}

const INSTRUMENTED = Symbol.for('osprofiler.fastify.instrumented');

function onRequest(request: unknown, _reply: unknown, done: Done): void {
  try {
    const s = httpState(request);
    if (s !== undefined && s.route === undefined) s.route = fastifyRoute(request);
  } catch (err) {
    contained('onRequest', err);
  }
  done();
}

function onError(request: unknown, _reply: unknown, error: unknown, done: Done): void {
  try {
    const s = httpState(request);
    if (s !== undefined) {
      noteHttpError(s, error);
      if (s.route === undefined) s.route = fastifyRoute(request);
    }
  } catch (err) {
    contained('onError', err);
  }
  done();
}

/**
 * Traces a Fastify instance's requests: call it right after `fastify()`, before routes and
 * plugins are added (hooks apply to what is registered after them). Returns whether it
 * attached: false when tracing is off, the instance has no HTTP server yet, or it is
 * instrumented already. Never throws.
 */
export function instrumentFastify(app: FastifyLike, options: FastifyProfilerOptions = {}): boolean {
  try {
    const a = app as unknown as Record<symbol, unknown>;
    if (a[INSTRUMENTED] === true) return false;
    const tracer = createHttpTracer(FASTIFY, options);
    if (tracer === undefined) return false;
    if (!traceRequestListeners(app.server, tracer, 'fastify')) return false;
    a[INSTRUMENTED] = true;
    app.addHook('onRequest', onRequest);
    app.addHook('onError', onError);
    return true;
  } catch (err) {
    contained('instrument', err);
    return false;
  }
}

/** Whether `instrumentFastify` attached to this instance. */
export function isFastifyInstrumented(app: unknown): boolean {
  return (app as Record<symbol, unknown> | null)?.[INSTRUMENTED] === true;
}

/**
 * The same as a Fastify plugin: `app.register(fastifyProfiler, options)` (not encapsulated,
 * so its hooks apply to the whole instance). Register it first.
 */
export function fastifyProfiler(app: FastifyLike, options: FastifyProfilerOptions, done: Done): void {
  instrumentFastify(app, options);
  done();
}
// Fastify's (and fastify-plugin's) marker for a plugin that shares its parent's context.
(fastifyProfiler as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
