/**
 * Error and route capture for traced requests.
 *
 * Why patching: Express (4 and 5) has no event or hook for "a handler threw / called
 * next(err)". The error only travels through the router's private `next` closure, from
 * layer to layer, to an error-handling middleware or out to Express's final handler. The
 * one method every pending error passes is the Layer's error entry (`handle_error` in
 * Express 4, `handleError` in router 2 / Express 5): the router calls it for each layer it
 * visits while an error is pending, before any user error middleware runs. We wrap it to
 * note the error on traced requests, then call the original with the same arguments, so
 * the error reaches the user's error middleware unchanged (untraced requests pay one
 * property lookup, on error paths only). For an app with no error middleware after the
 * failing handler, a pass-through error layer (`next(err)`, nothing else) is appended to
 * the app's router, so the error still passes one layer before the final handler.
 * The prototypes are found from the app being served, so the explicit middleware works
 * for bundled apps too; each prototype is patched once per process, each router once.
 */
import { contained } from './contained';
import { routeTemplate } from './points';
import { STATE, type RequestState } from './state';

const HOOKED = Symbol.for('osprofiler.express.hooked');

type AnyFn = (...args: any[]) => any;

function ownerOf(obj: object, name: string): Record<string | symbol, unknown> | undefined {
  let o: object | null = obj;
  while (o !== null && o !== Function.prototype && o !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(o, name)) return o as Record<string | symbol, unknown>;
    o = Object.getPrototypeOf(o) as object | null;
  }
  return undefined;
}

function markHooked(owner: Record<string | symbol, unknown>, name: string): boolean {
  const marks = (owner[HOOKED] as Set<string> | undefined) ?? new Set<string>();
  if (marks.has(name)) return false;
  marks.add(name);
  if (owner[HOOKED] === undefined) Object.defineProperty(owner, HOOKED, { value: marks, enumerable: false });
  return true;
}

function recordError(state: RequestState, err: unknown): void {
  if (state.hasError) return; // the first error is the one that escaped a handler
  state.hasError = true;
  state.error = err;
}

function isRealError(err: unknown): boolean {
  // Express: a falsy value is "no error"; 'route' and 'router' are control signals.
  return Boolean(err) && err !== 'route' && err !== 'router';
}

function stateOf(req: unknown): RequestState | undefined {
  const s = req !== null && typeof req === 'object' ? (req as Record<symbol, unknown>)[STATE] : undefined;
  return s === null ? undefined : (s as RequestState | undefined);
}

/**
 * The route template: the Layer's request entry (`handle_request` / `handleRequest`) runs
 * for every layer; a route's layer carries `route`, and `req.baseUrl` then still holds the
 * mount prefix of its router. Recorded on traced requests only (untraced ones pay one
 * property check per route layer). An accessor on each traced `req` did the same without
 * a patch, but cost ~25 µs a request: it changed the shape of the object Express reads
 * all along the request (measured with tools/bench/express.cjs).
 */
function noteRoute(state: RequestState, req: { baseUrl?: unknown }, route: { path?: unknown }): void {
  try {
    if (route.path !== undefined) state.route = routeTemplate(req.baseUrl, route.path);
  } catch (err) {
    contained('route', err);
  }
}

/** Replaces method `name` (Express 4 or 5 spelling) where the layer's prototype chain owns it, once per owner. */
function patchLayerMethod(layer: object, names: readonly string[], wrap: (original: AnyFn) => AnyFn): void {
  for (const name of names) {
    const owner = ownerOf(layer, name);
    if (owner === undefined || typeof owner[name] !== 'function' || !markHooked(owner, name)) continue;
    owner[name] = wrap(owner[name] as AnyFn);
  }
}

function hookLayer(layer: object): void {
  patchLayerMethod(layer, ['handle_request', 'handleRequest'], (original) =>
    function osprofilerLayerRequest(this: { route?: unknown }, req: unknown, res: unknown, next: unknown) {
      const route = this.route;
      if (route !== undefined && route !== null && typeof route === 'object') {
        const s = stateOf(req);
        if (s !== undefined) noteRoute(s, req as { baseUrl?: unknown }, route as { path?: unknown });
      }
      return original.call(this, req, res, next);
    },
  );
  patchLayerMethod(layer, ['handle_error', 'handleError'], (original) =>
    function osprofilerLayerError(this: unknown, error: unknown, req: unknown, res: unknown, next: unknown) {
      const s = stateOf(req);
      if (s !== undefined && isRealError(error)) recordError(s, error);
      return original.call(this, error, req, res, next);
    },
  );
}

const RECORDER = Symbol.for('osprofiler.express.errorRecorder');

/** Appends a pass-through error layer so a pending error always passes a Layer error entry. */
function appendErrorLayer(router: Record<string | symbol, unknown>): void {
  if (router[RECORDER] === true || typeof router.use !== 'function') return;
  Object.defineProperty(router, RECORDER, { value: true, enumerable: false });
  (router.use as AnyFn).call(router, function osprofilerErrorPassThrough(err: unknown, _req: unknown, _res: unknown, next: (e: unknown) => void) {
    next(err);
  });
}

let lastApp: unknown;

/**
 * Installs the error hooks for the Express copy that `app` comes from (once per app;
 * cheap to call per traced request). Returns without effect while the app has no router.
 */
export function ensureRouterHooks(app: unknown): void {
  if (app === lastApp || (typeof app !== 'function' && (typeof app !== 'object' || app === null))) return;
  try {
    const a = app as { lazyrouter?: unknown; _router?: unknown; router?: unknown };
    // Express 4 keeps its router in `_router` (its `router` getter throws); Express 5 in `router`.
    const router = typeof a.lazyrouter === 'function' ? a._router : a.router;
    if (router === null || router === undefined || typeof router !== 'function') return;
    const stack = (router as { stack?: unknown }).stack;
    if (Array.isArray(stack) && stack.length > 0 && typeof stack[0] === 'object' && stack[0] !== null) {
      hookLayer(stack[0] as object);
      appendErrorLayer(router as unknown as Record<string | symbol, unknown>);
      lastApp = app;
    }
  } catch (err) {
    contained('routerHooks', err);
  }
}
