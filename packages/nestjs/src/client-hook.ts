/**
 * Outgoing microservice messages. `ClientProxy.send`/`emit` are the one entry every Nest
 * client transport shares (NATS, RabbitMQ, TCP, Redis, MQTT, Kafka), and Nest has no
 * client-side interceptor, so both are wrapped on `ClientProxy.prototype` (once per copy of
 * @nestjs/microservices). Outside a trace the wrapper calls the original after one context
 * lookup. Inside a trace, each subscription of `send` (cold: one message per subscription)
 * opens an `rpc` point under the caller, carries its signed trace info with the message
 * (see carry.ts) and subscribes the original inside the point, which stops when the reply
 * completes or errors. `emit` publishes at once (hot): its point opens at the call and
 * stops when the event is published.
 */
import { failPoint } from './errors';
import { get, openPoint, traceHeaders, type Point, type Profiler } from '@osprofiler/core';
import { wrap } from '@osprofiler/core/instrument';
import { Observable, type Observer } from 'rxjs';
import { withTraceInfo, microservices } from './carry';
import { contained } from './contained';
import { patternString, rpcInfo, transportOf } from './rpc-points';

type Send = (this: unknown, pattern: unknown, data: unknown) => Observable<unknown>;

function open(client: unknown, pattern: unknown, data: unknown, parent?: Profiler): { point: Point; data: unknown } | undefined {
  try {
    const transport = transportOf(client);
    const point = openPoint('rpc', rpcInfo(transport, patternString(pattern)), parent ?? get());
    if (point === undefined) return undefined;
    const h = traceHeaders(point.profiler);
    return { point, data: h === undefined ? data : withTraceInfo(transport, data, h) };
  } catch (err) {
    contained('client.open', err);
    return undefined;
  }
}

function stopping(point: Point, subscriber?: Observer<unknown>): Partial<Observer<unknown>> {
  return {
    next: (v) => subscriber?.next(v),
    error: (e: unknown) => {
      failPoint(point, e);
      subscriber?.error(e);
    },
    complete: () => {
      point.stop();
      subscriber?.complete();
    },
  };
}

/** Wraps `ClientProxy.prototype.send` and `emit`. Returns false when @nestjs/microservices is absent. */
export function hookClients(): boolean {
  const m = microservices() as { ClientProxy?: { prototype: Record<string, unknown> } } | null;
  const proto = m?.ClientProxy?.prototype;
  if (proto === undefined || typeof proto.send !== 'function' || typeof proto.emit !== 'function') return false;
  wrap(proto, 'send', 'nestjs', (original) => {
    const send = original as Send;
    return function send_(this: unknown, pattern: unknown, data: unknown) {
      const parent = get();
      if (parent === undefined) return send.call(this, pattern, data);
      // `send` is cold: a message goes out per subscription, so each subscription (a retry
      // too) is one `rpc` point, opened under the caller's context of the `send()` call.
      return new Observable<unknown>((subscriber) => {
        const o = open(this, pattern, data, parent);
        if (o === undefined) return send.call(this, pattern, data).subscribe(subscriber);
        const sub = o.point.run(() => send.call(this, pattern, o.data).subscribe(stopping(o.point, subscriber)));
        return () => {
          sub.unsubscribe();
          o.point.stop();
        };
      });
    };
  });
  wrap(proto, 'emit', 'nestjs', (original) => {
    const emit = original as Send;
    return function emit_(this: unknown, pattern: unknown, data: unknown) {
      if (get() === undefined) return emit.call(this, pattern, data);
      const o = open(this, pattern, data);
      if (o === undefined) return emit.call(this, pattern, data);
      // Nest publishes an event at once (a connected, hot source); the point ends with it.
      const source = o.point.run(() => emit.call(this, pattern, o.data));
      try {
        source.subscribe(stopping(o.point));
      } catch (err) {
        contained('client.emit', err);
      }
      return source;
    };
  });
  return true;
}
