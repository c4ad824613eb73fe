/**
 * Where the module learns what only Nest knows, at no cost to untraced requests.
 *
 * A global interceptor would be the public way, but any interceptor puts every request of
 * the app through Nest's RxJS interceptor pipeline: measured at about +150 µs of CPU per
 * request on a "hello" route (1.6× plain, tools/bench/nestjs.cjs), traced or not. Instead,
 * the two factories that build each handler's request function once at start-up are
 * wrapped (once per copy of Nest):
 *
 * - `RouterExecutionContext.create` (HTTP): the function it returns runs guards, pipes,
 *   interceptors and the handler of one route; the wrapper notes controller, handler and
 *   route template on a traced request's state first (so a request a guard rejects has
 *   them too). Untraced requests pay one call and one property lookup.
 * - `RpcContextCreator.create` (microservices): the wrapper opens the handler's `rpc` point
 *   when the message carries valid trace info (NATS/RabbitMQ headers; for TCP the trace the
 *   deserializer entered) and runs the handler, guards included, inside it; the point ends
 *   when the handler's result completes or errors. Other messages pay the header check.
 */
import { get, getConfig, openPoint, run, type Point } from '@osprofiler/core';
import { httpState, incomingTraceFor, settle, wrap } from '@osprofiler/core/instrument';
import { incomingCarrier } from './carry';
import { contained } from './contained';
import { NEST_FOLLOW } from './internals';
import { platformRoute } from './points';
import { patternString, rpcInfo, transportOf } from './rpc-points';

type AnyFn = (this: unknown, ...args: any[]) => any;

function wrapFactory(modulePath: string, className: string, make: (original: AnyFn) => AnyFn): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as Record<string, { prototype: Record<string, unknown> } | undefined>;
    const proto = mod[className]?.prototype;
    if (proto === undefined || typeof proto.create !== 'function') return false;
    wrap(proto, 'create', 'nestjs', make);
    return true;
  } catch (err) {
    // @nestjs/microservices is optional: a missing module is not a failure.
    if ((err as { code?: string } | null)?.code !== 'MODULE_NOT_FOUND') contained(`hook.${className}`, err);
    return false;
  }
}

function nameOf(instance: unknown): string {
  return (instance as { constructor?: { name?: string } } | null)?.constructor?.name ?? '';
}

/** HTTP: `create(instance, callback, methodName, ...)` returns `(req, res, next) => Promise`. */
export function hookRoutes(): boolean {
  return wrapFactory('@nestjs/core/router/router-execution-context', 'RouterExecutionContext', (original) =>
    function create(this: unknown, instance: unknown, callback: unknown, methodName: unknown, ...rest: unknown[]) {
      const handler = original.call(this, instance, callback, methodName, ...rest) as AnyFn;
      if (typeof handler !== 'function') return handler;
      const extra = { nest: { controller: nameOf(instance), handler: String(methodName) } };
      return function osprofilerRoute(this: unknown, req: unknown, res: unknown, next: unknown) {
        const s = httpState(req);
        if (s !== undefined) {
          s.extra = extra;
          try {
            s.route = platformRoute(req);
          } catch (err) {
            contained('route', err);
          }
        }
        return handler.call(this, req, res, next);
      };
    },
  );
}

function handlerPoint(args: unknown[], nest: { controller: string; handler: string }): Point | undefined {
  try {
    const ctx = args[1] as { getPattern?(): unknown; getSubject?(): unknown } | undefined;
    const transport = transportOf(ctx);
    const pattern = patternString(typeof ctx?.getPattern === 'function' ? ctx.getPattern() : typeof ctx?.getSubject === 'function' ? ctx.getSubject() : '');
    const info = { ...rpcInfo(transport, pattern), nest };
    if (transport === 'nats' || transport === 'rmq') {
      const config = getConfig();
      const t = config.hmacKeys.length === 0 ? undefined : incomingTraceFor(`nestjs.${transport}`, incomingCarrier(transport, ctx), { ...config, sampling: null });
      return t === undefined ? undefined : run(t, () => openPoint('rpc', info));
    }
    // Transports without headers (TCP): the deserializer verified the info and entered the trace.
    return get() === undefined ? undefined : openPoint('rpc', info);
  } catch (err) {
    contained('rpc.handler', err);
    return undefined;
  }
}

/** Microservices: `create(instance, callback, moduleKey, methodName, ...)` returns `(...args) => Promise<Observable | value>`. */
export function hookRpcHandlers(isEnabled: () => boolean): boolean {
  return wrapFactory('@nestjs/microservices/context/rpc-context-creator', 'RpcContextCreator', (original) =>
    function create(this: unknown, instance: unknown, callback: unknown, moduleKey: unknown, methodName: unknown, ...rest: unknown[]) {
      const handler = original.call(this, instance, callback, moduleKey, methodName, ...rest) as AnyFn;
      if (typeof handler !== 'function') return handler;
      const nest = { controller: nameOf(instance), handler: String(methodName) };
      return function osprofilerRpcHandler(this: unknown, ...args: unknown[]) {
        if (!isEnabled()) return handler.apply(this, args);
        const point = handlerPoint(args, nest);
        if (point === undefined) return handler.apply(this, args);
        let result: unknown;
        try {
          result = point.run(() => handler.apply(this, args));
        } catch (err) {
          point.fail(err);
          throw err;
        }
        // The handler's promise may resolve to an Observable: followed to its end.
        return settle(point, Promise.resolve(result), NEST_FOLLOW);
      };
    },
  );
}
