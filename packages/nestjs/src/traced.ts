/**
 * `@Traced(options?)`: every public method of a provider becomes a point (the spec's
 * `driver` layer by default; `name: 'db'` for a DB-API service, …).
 *
 * Sync and async methods go through core's `trace()` (same `function: {name, args}` start
 * info, same error info). A method that returns an RxJS Observable is different: its work
 * happens when it is subscribed, so the point stays open until the first subscription
 * completes, errors or is unsubscribed, and the source is subscribed inside the point (work
 * it does then nests under it). To keep core's info and error handling, the method is still
 * wrapped by core's `trace()`, whose inner function hands core a promise that settles with
 * that subscription; the caller gets an Observable, never that promise.
 *
 * The wrapped method keeps its name, length, own properties and Reflect metadata, so
 * `@MessagePattern`, `@Get` and other method decorators keep working; constructor
 * metadata (DI) is untouched, the class is modified in place.
 */
import { AsyncResource } from 'node:async_hooks';
import { get, trace } from '@osprofiler/core';
import { copyIdentity } from '@osprofiler/core/instrument';
import { isObservable, Observable } from 'rxjs';

export interface TracedOptions {
  /** The point name. Default `driver`. */
  name?: string;
  /** Extra start info; `function: {name, args?}` is added after it. */
  info?: Record<string, unknown>;
  /** Leave arguments out of the start info. Default true (they may hold secrets). */
  hideArgs?: boolean;
  /** Leave results out of the stop info. Default true. */
  hideResult?: boolean;
  /** Method names left untraced. */
  exclude?: readonly string[];
  /** Also trace methods whose name starts with `_`. Default false. */
  tracePrivate?: boolean;
}

const TRACED = Symbol.for('osprofiler.traced');
const NEST_TRACED = Symbol.for('osprofiler.nestjs.traced');

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

interface Slot {
  observable: Observable<unknown> | undefined;
}
let currentSlot: Slot | undefined;

function wrapMethod(original: AnyFn, pointName: string, functionName: string, options: TracedOptions): AnyFn {
  const inner = function (this: unknown, ...args: unknown[]): unknown {
    const slot = currentSlot;
    const result = original.apply(this, args);
    if (slot === undefined || !isObservable(result)) return result;
    // Runs later subscriptions in this (the point's) async context.
    const inPoint = AsyncResource.bind(<R>(f: () => R): R => f());
    let settle!: { ok: (v: unknown) => void; fail: (e: unknown) => void };
    const settled = new Promise<unknown>((ok, fail) => (settle = { ok, fail }));
    slot.observable = new Observable<unknown>((subscriber) => {
      let last: unknown;
      const sub = inPoint(() =>
        result.subscribe({
          next: (v) => {
            last = v;
            subscriber.next(v);
          },
          error: (e: unknown) => {
            settle.fail(e);
            subscriber.error(e);
          },
          complete: () => {
            settle.ok(last); // `function.result` (hideResult: false) is the last value
            subscriber.complete();
          },
        }),
      );
      return () => {
        sub.unsubscribe();
        settle.ok(undefined);
      };
    });
    return settled;
  };
  const coreWrapped = trace(pointName, {
    info: options.info,
    hideArgs: options.hideArgs,
    hideResult: options.hideResult,
    functionName,
  })(inner) as AnyFn;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (get() === undefined) return original.apply(this, args);
    const slot: Slot = { observable: undefined };
    const prev = currentSlot;
    currentSlot = slot;
    let ret: unknown;
    try {
      ret = coreWrapped.apply(this, args);
    } finally {
      currentSlot = prev;
    }
    if (slot.observable === undefined) return ret;
    (ret as Promise<unknown>).catch(() => undefined); // the error reaches the subscriber instead
    return slot.observable;
  };
  keepIdentity(original, wrapped);
  return wrapped;
}

/** Core's identity copy (name, length, properties, Reflect metadata, traced mark), plus Nest's own mark. */
function keepIdentity(from: AnyFn, to: AnyFn): void {
  copyIdentity(from, to);
  Object.defineProperty(to, NEST_TRACED, { value: true });
}

/**
 * Class decorator (legacy `experimentalDecorators`, as Nest uses, and standard): every
 * public method of the class, inherited ones too, becomes a `name` point inside a trace.
 * Outside a trace a call costs one context lookup.
 */
export function Traced(options: TracedOptions = {}) {
  const pointName = options.name ?? 'driver';
  return function tracedDecorator<C extends abstract new (...args: any[]) => any>(cls: C, _ctx?: unknown): C {
    const exclude = new Set(options.exclude ?? []);
    const proto = cls.prototype as Record<string, unknown>;
    const done = new Set<string>(['constructor']);
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const name of Object.getOwnPropertyNames(p)) {
        if (done.has(name)) continue;
        done.add(name);
        if (exclude.has(name) || (options.tracePrivate !== true && name.startsWith('_'))) continue;
        const d = Object.getOwnPropertyDescriptor(p, name);
        if (!d || typeof d.value !== 'function' || d.get || d.set) continue;
        if ((d.value as Record<symbol, unknown>)[TRACED] === true) continue;
        Object.defineProperty(proto, name, { ...d, value: wrapMethod(d.value as AnyFn, pointName, `${cls.name}.${name}`, options) });
      }
    }
    return cls;
  };
}
