/**
 * Error and route capture for traced requests, without a frame of ours in the request path.
 *
 * Route: both Express 4's and router 2's (Express 5) `Route.prototype.dispatch` start with
 * `req.route = this`, while `req.baseUrl` still holds the route's mount prefix. A `route`
 * accessor on Express's request prototype (shared by every app of that Express copy) sees
 * that assignment: on a traced request it notes `baseUrl + route.path`, then keeps the
 * value. The setter returns before the handler runs, so application error stacks are the
 * same traced or not (wrapping the Layer's request entry, as before, put an osprofiler
 * frame under every handler). Untraced requests pay one setter call per matched route.
 *
 * Errors: Express (4 and 5) has no event or hook for "a handler threw / called next(err)".
 * The error only travels through the router's private `next` closure, from layer to layer,
 * to an error-handling middleware or out to Express's final handler. The one method every
 * pending error passes is the Layer's error entry (`handle_error` in Express 4,
 * `handleError` in router 2 / Express 5): the router calls it for each layer it visits
 * while an error is pending, before any user error middleware runs. It is wrapped to note
 * the error on traced requests, then call the original with the same arguments, so the
 * error reaches the user's error middleware unchanged (untraced requests pay one property
 * lookup, on error paths only). For an app with no error middleware after the failing
 * handler, a pass-through error layer (`next(err)`, nothing else) is appended to the app's
 * router, so the error still passes one layer before the final handler. The prototypes
 * are found from the app being served, so the explicit middleware works for bundled apps
 * too; each prototype is patched once per process, each router once.
 */
import { IncomingMessage } from 'node:http';
import { hostProperty, httpState, noteHttpError, ownerOf, routeTemplate, wrap } from '@osprofiler/core/instrument';
import { contained } from './contained';

type AnyFn = (...args: any[]) => any;

function isRealError(err: unknown): boolean {
  // Express: a falsy value is "no error"; 'route' and 'router' are control signals.
  return Boolean(err) && err !== 'route' && err !== 'router';
}

function hookLayerErrors(layer: object): void {
  for (const name of ['handle_error', 'handleError']) {
    const owner = ownerOf(layer, name);
    if (owner === undefined) continue;
    wrap(owner, name, 'express', (original: AnyFn) =>
      function osprofilerLayerError(this: unknown, error: unknown, req: unknown, res: unknown, next: unknown) {
        const s = httpState(req);
        if (s !== undefined && isRealError(error)) noteHttpError(s, error);
        return original.call(this, error, req, res, next);
      },
    );
  }
}

const ROUTE_HOOKED = Symbol.for('osprofiler.express.routeAccessor');

/**
 * Installs the `route` accessor on Express's request prototype (the one right above
 * IncomingMessage's). An untraced request gets `route` as the plain own data property
 * Express would have made, so it looks exactly as without the profiler.
 */
function hookRouteAssignment(appRequest: unknown): void {
  // app.request → express.request → http.IncomingMessage.prototype: take express.request,
  // shared by every app (and mounted sub-app) of this Express copy.
  let proto = appRequest as Record<string | symbol, unknown>;
  for (let p: Record<string | symbol, unknown> | null = proto; p !== null; p = Object.getPrototypeOf(p) as Record<string | symbol, unknown> | null) {
    if (Object.getPrototypeOf(p) === IncomingMessage.prototype) {
      proto = p;
      break;
    }
  }
  if (proto[ROUTE_HOOKED] === true || Object.prototype.hasOwnProperty.call(proto, 'route')) return;
  Object.defineProperty(proto, ROUTE_HOOKED, { value: true });
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: false,
    get(this: object) {
      // A traced request's `req.route` is kept in its state (its own property would change its shape).
      return httpState(this)?.held;
    },
    set(this: object, route: unknown) {
      const s = httpState(this);
      if (s === undefined) {
        Object.defineProperty(this, 'route', { value: route, writable: true, enumerable: true, configurable: true });
        return;
      }
      s.held = route;
      if (route === null || typeof route !== 'object') return;
      try {
        const path = (route as { path?: unknown }).path;
        // Keyed (kit host-object.ts): this request's hidden class is new, a named load misses (~1.4k instructions).
        if (path !== undefined) s.route = routeTemplate(hostProperty(this, 'baseUrl'), path);
      } catch (err) {
        contained('route', err);
      }
    },
  });
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
 * Installs the hooks for the Express copy that `app` comes from (once per app; cheap to
 * call per traced request). Returns without effect while the app has no router.
 */
export function ensureRouterHooks(app: unknown): void {
  if (app === lastApp || (typeof app !== 'function' && (typeof app !== 'object' || app === null))) return;
  try {
    const a = app as { lazyrouter?: unknown; _router?: unknown; router?: unknown; request?: unknown };
    // Express 4 keeps its router in `_router` (its `router` getter throws); Express 5 in `router`.
    const router = typeof a.lazyrouter === 'function' ? a._router : a.router;
    if (router === null || router === undefined || typeof router !== 'function') return;
    const stack = (router as { stack?: unknown }).stack;
    if (Array.isArray(stack) && stack.length > 0 && typeof stack[0] === 'object' && stack[0] !== null) {
      hookLayerErrors(stack[0] as object);
      if (a.request !== null && typeof a.request === 'object') hookRouteAssignment(a.request);
      appendErrorLayer(router as unknown as Record<string | symbol, unknown>);
      lastApp = app;
    }
  } catch (err) {
    contained('routerHooks', err);
  }
}
