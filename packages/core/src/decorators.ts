import { frozenInfo } from './kit/frozen-info';
import { traced } from './point';
import { repr } from './repr';
import { currentTrace } from './runtime';

export interface TraceFunctionOptions {
  /** Extra start info; `function: {name, args?}` is added after it (Python's order). */
  info?: Record<string, unknown>;
  /** Leave the arguments out of the start info. Default true: arguments may hold secrets. */
  hideArgs?: boolean;
  /** Leave the result out of the stop info. Default true (as Python). */
  hideResult?: boolean;
  /** The `function.name` to record; defaults to `Class.method` or the function's name. */
  functionName?: string;
}

export interface TraceClassOptions extends Omit<TraceFunctionOptions, 'functionName'> {
  /** Also trace methods whose name starts with `_`. Default false. */
  tracePrivate?: boolean;
  /** Method names to leave untraced. */
  exclude?: readonly string[];
}

const TRACED = Symbol.for('osprofiler.traced');
type AnyFn = (this: unknown, ...args: any[]) => any;

/** Wraps `fn` so each call, inside a trace, is a `pointName` point. Untraced: one lookup. */
function wrapFunction<F extends AnyFn>(fn: F, pointName: string, options: TraceFunctionOptions, nameOf: (self: unknown) => string): F {
  if ((fn as unknown as Record<symbol, unknown>)[TRACED]) return fn;
  const hideArgs = options.hideArgs !== false;
  const stopInfo = options.hideResult === false ? (r: unknown) => ({ function: { result: repr(r) } }) : undefined;
  // With the arguments hidden and no extra info (the defaults) the start info is only the
  // function's name: one frozen object once a name repeats, whose text the formatter makes
  // once (line.ts, "frozen info"), as kit/frozen-info.ts's adapters do. Names alternating
  // (a base method on two subclasses) get fresh objects, as before.
  const shareInfo = hideArgs && options.info === undefined;
  let lastName: string | undefined;
  let lastInfo: object | undefined;
  const wrapped = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    if (currentTrace() === undefined) return fn.apply(this, args as unknown as unknown[]);
    const name = nameOf(this);
    let info: object;
    if (shareInfo) {
      if (name === lastName) info = lastInfo ??= frozenInfo({ function: { name } });
      else {
        lastName = name;
        lastInfo = undefined;
        info = { function: { name } };
      }
    } else {
      const fnInfo: Record<string, unknown> = { name };
      if (!hideArgs) fnInfo.args = repr(Array.prototype.slice.call(args));
      info = options.info === undefined ? { function: fnInfo } : { ...options.info, function: fnInfo };
    }
    return traced(pointName, info, () => fn.apply(this, args as unknown as unknown[]), stopInfo);
  };
  copyIdentity(fn, wrapped);
  return wrapped as unknown as F;
}

/**
 * Keeps what frameworks read off a method: its name, length, own properties and Reflect
 * metadata; marks `to` as traced (`Symbol.for('osprofiler.traced')`) so it is not wrapped twice.
 * For adapters that wrap methods themselves.
 */
export function copyIdentity(from: AnyFn, to: AnyFn): void {
  Object.defineProperty(to, 'name', { value: from.name, configurable: true });
  Object.defineProperty(to, 'length', { value: from.length, configurable: true });
  for (const key of Reflect.ownKeys(from)) {
    if (key === 'name' || key === 'length' || key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const d = Object.getOwnPropertyDescriptor(from, key);
    if (d) Object.defineProperty(to, key, d);
  }
  const R = Reflect as unknown as {
    getOwnMetadataKeys?: (t: object) => unknown[];
    getOwnMetadata?: (k: unknown, t: object) => unknown;
    defineMetadata?: (k: unknown, v: unknown, t: object) => void;
  };
  if (typeof R.getOwnMetadataKeys === 'function' && R.getOwnMetadata && R.defineMetadata) {
    for (const k of R.getOwnMetadataKeys(from)) R.defineMetadata(k, R.getOwnMetadata(k, from), to);
  }
  Object.defineProperty(to, TRACED, { value: true });
}

function className(self: unknown): string {
  if (typeof self === 'function') return self.name; // static method
  const ctor = (self as { constructor?: { name?: string } } | null | undefined)?.constructor;
  return ctor?.name ?? '';
}

function qualified(method: string, explicit?: string): (self: unknown) => string {
  if (explicit) return () => explicit;
  return (self) => {
    const c = className(self);
    return c ? `${c}.${method}` : method;
  };
}

type StandardMethodContext = { kind: 'method'; name: string | symbol; static?: boolean; private?: boolean };
type StandardClassContext = { kind: 'class'; name: string | undefined };

/**
 * Python's `@profiler.trace(name, ...)`. Use it three ways:
 * `trace('driver')(fn)` returns a traced function; `@trace('rpc')` on a method works with
 * both standard (TS 5+) and legacy (`experimentalDecorators`) decorators.
 */
export function trace(pointName: string, options: TraceFunctionOptions = {}) {
  return function traceDecorator(target: any, key?: any, descriptor?: PropertyDescriptor): any {
    // trace(name)(fn)
    if (key === undefined && typeof target === 'function') {
      return wrapFunction(target, pointName, options, () => options.functionName ?? (target.name || 'anonymous'));
    }
    // Standard decorator: (method, context)
    if (key !== null && typeof key === 'object' && (key as StandardMethodContext).kind === 'method') {
      const ctx = key as StandardMethodContext;
      return wrapFunction(target, pointName, options, qualified(String(ctx.name), options.functionName));
    }
    // Legacy decorator: (prototype, key, descriptor)
    if (descriptor !== undefined && typeof descriptor.value === 'function') {
      descriptor.value = wrapFunction(descriptor.value, pointName, options, qualified(String(key), options.functionName));
      return descriptor;
    }
    return descriptor;
  };
}

/**
 * Python's `trace_cls`: every public method of the class (inherited ones too) becomes a
 * `pointName` point — `driver` for vendor drivers, `db` for a DB-API layer, `rpc` for an
 * RPC API. Works as a standard and as a legacy class decorator.
 */
export function traceClass(pointName: string, options: TraceClassOptions = {}) {
  return function traceClassDecorator<C extends abstract new (...args: any[]) => any>(cls: C, _ctx?: StandardClassContext): C {
    const exclude = new Set(options.exclude ?? []);
    const proto = cls.prototype as Record<string, unknown>;
    const done = new Set<string>(['constructor']);
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const name of Object.getOwnPropertyNames(p)) {
        if (done.has(name)) continue;
        done.add(name);
        if (exclude.has(name) || (!options.tracePrivate && name.startsWith('_'))) continue;
        const d = Object.getOwnPropertyDescriptor(p, name);
        if (!d || typeof d.value !== 'function' || d.get || d.set) continue;
        Object.defineProperty(proto, name, {
          ...d,
          value: wrapFunction(d.value, pointName, options, qualified(name)),
        });
      }
    }
    return cls;
  };
}
