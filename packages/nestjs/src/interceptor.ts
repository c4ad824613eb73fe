/**
 * The global interceptor `ProfilerModule` registers.
 *
 * HTTP: adds what only Nest knows to a traced request's `wsgi` point — the controller class
 * and handler name (`nest: {controller, handler}`) and the route template. Untraced
 * requests pay one property lookup.
 *
 * Microservices: a `@MessagePattern`/`@EventPattern` handler whose message carries valid
 * trace info (NATS/RabbitMQ headers, or the TCP packet field the deserializer verified)
 * runs inside an `rpc` point, child of the client's `rpc` point. The point ends when the
 * handler's result completes or errors. Messages without valid info run untraced.
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { extract, get, getConfig, openPoint, run, type Point } from '@osprofiler/core';
import { Observable } from 'rxjs';
import { incomingCarrier } from './carry';
import { contained } from './contained';
import { platformRoute } from './points';
import { patternString, rpcInfo, transportOf } from './rpc-points';
import { stateOf } from './state';

export class ProfilerInterceptor implements NestInterceptor {
  constructor(private readonly enabled = true) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    if (type === 'http') {
      const s = stateOf(context.getArgByIndex(0));
      if (s !== undefined) {
        try {
          s.nest = { controller: context.getClass().name, handler: context.getHandler().name };
          s.route = platformRoute(context.getArgByIndex(0));
        } catch (err) {
          contained('interceptor', err);
        }
      }
      return next.handle();
    }
    if (type === 'rpc' && this.enabled) {
      const point = this.openHandlerPoint(context);
      if (point !== undefined) {
        return new Observable<unknown>((subscriber) => {
          const sub = point.run(() =>
            next.handle().subscribe({
              next: (v) => subscriber.next(v),
              error: (e: unknown) => {
                point.fail(e);
                subscriber.error(e);
              },
              complete: () => {
                point.stop();
                subscriber.complete();
              },
            }),
          );
          return () => {
            sub.unsubscribe();
            point.stop();
          };
        });
      }
    }
    return next.handle();
  }

  private openHandlerPoint(context: ExecutionContext): Point | undefined {
    try {
      const ctx = context.switchToRpc().getContext<{ getPattern?(): unknown; getSubject?(): unknown }>();
      const transport = transportOf(ctx);
      const pattern = patternString(typeof ctx?.getPattern === 'function' ? ctx.getPattern() : typeof ctx?.getSubject === 'function' ? ctx.getSubject() : '');
      const info = { ...rpcInfo(transport, pattern), nest: { controller: context.getClass().name, handler: context.getHandler().name } };
      if (transport === 'nats' || transport === 'rmq') {
        const t = extract(incomingCarrier(transport, ctx), getConfig().hmacKeys);
        return t === undefined ? undefined : run(t, () => openPoint('rpc', info));
      }
      // Transports without headers (TCP): the deserializer verified the info and set the trace.
      return get() === undefined ? undefined : openPoint('rpc', info);
    } catch (err) {
      contained('interceptor.rpc', err);
      return undefined;
    }
  }
}
