/**
 * The end of a point around one call, whatever the call returns: a value, a thenable, a
 * stream (an EventEmitter that ends, closes or errors) or an Observable (the point stays
 * open until it completes, errors or is unsubscribed). A throw or rejection fails the point
 * (`etype`/`message`) and reaches the caller untouched.
 */
import { openPoint, type Point } from '../point';
import type { Profiler } from '../profiler';
import { recordFailure } from '../failures';
import type { Contain } from './contained';
import { isThenable } from '../thenable';

/** What core needs of an Observable class (RxJS's): core itself does not depend on RxJS. */
export interface ObservableClass {
  new (subscribe: (subscriber: ObservableSubscriber) => (() => void) | void): object;
}
interface ObservableSubscriber {
  next(v: unknown): void;
  error(e: unknown): void;
  complete(): void;
}
interface Subscribable {
  subscribe(observer: Partial<ObservableSubscriber>): { unsubscribe(): void };
}

export interface Follow<V = unknown> {
  /** Stop info from the call's value (for a thenable: its resolved value). Failures are contained. */
  stopInfo?: (value: V) => object | undefined;
  /** The value (or resolved value) is a stream: stop at its 'end'/'close', fail at 'error'. */
  stream?: boolean;
  /** How an error stops the point (default `point.fail(err)`). */
  fail?: (point: Point, err: unknown) => void;
  /**
   * Follow Observables (RxJS's class): a result that is one, or a thenable resolving to
   * one, is returned as an Observable that runs the source inside the point. With it a
   * thenable result is chained (a new promise is returned); without it, followed on a side
   * branch (the caller keeps the very promise it would get untraced).
   */
  Observable?: ObservableClass;
  /** Where failures of `stopInfo` are counted (default core's `kit.stopInfo`). */
  contained?: Contain;
}

function failWith(how: Follow<any> | undefined, point: Point, err: unknown): void {
  if (how?.fail !== undefined) how.fail(point, err);
  else point.fail(err);
}

function stopWith(point: Point, value: unknown, how: Follow<any> | undefined): void {
  let info: object | undefined;
  if (how?.stopInfo !== undefined) {
    try {
      info = how.stopInfo(value);
    } catch (err) {
      if (how.contained !== undefined) how.contained('stopInfo', err);
      else recordFailure('kit.stopInfo', err);
    }
  }
  point.stop(info);
}

function isObservable(v: unknown, how: Follow<any> | undefined): v is Subscribable {
  if (how?.Observable === undefined || v === null || typeof v !== 'object') return false;
  // RxJS's own isObservable: an instance, or anything with `lift` and `subscribe`.
  return v instanceof how.Observable || (typeof (v as { lift?: unknown }).lift === 'function' && typeof (v as { subscribe?: unknown }).subscribe === 'function');
}

/** Stops `point` at the end of stream `s`: 'error' fails it, 'end' or 'close' stops it (the first wins). */
export function watchStream(point: Point, s: unknown, how?: Follow<any>): void {
  const ee = s as { once?: (event: string, fn: (...a: unknown[]) => void) => unknown } | null;
  if (typeof ee?.once !== 'function') {
    stopWith(point, s, how);
    return;
  }
  ee.once('error', (err: unknown) => failWith(how, point, err));
  ee.once('end', () => stopWith(point, s, how));
  ee.once('close', () => point.stop());
}

/** An Observable that subscribes `source` inside `point` and ends the point with it. */
export function observe<T extends Subscribable>(point: Point, source: T, Observable: ObservableClass, how?: Follow<any>): T {
  return new Observable((subscriber) => {
    let last: unknown;
    const sub = point.run(() =>
      source.subscribe({
        next: (v) => {
          last = v;
          subscriber.next(v);
        },
        error: (e: unknown) => {
          failWith(how, point, e);
          subscriber.error(e);
        },
        complete: () => {
          stopWith(point, last, how);
          subscriber.complete();
        },
      }),
    );
    return () => {
      sub.unsubscribe();
      point.stop();
    };
  }) as T;
}

function settled(point: Point, value: unknown, how: Follow<any> | undefined): unknown {
  if (how?.stream === true) watchStream(point, value, how);
  else if (isObservable(value, how)) return observe(point, value, how!.Observable!, how);
  else stopWith(point, value, how);
  return value;
}

/**
 * Follows `result` (of a call made inside `point`) to its end and stops the point then.
 * Returns what the caller should get: `result` itself, or (with `how.Observable`) an
 * Observable / chained promise that ends the point.
 */
export function settle<R>(point: Point, result: R, how?: Follow<any>): R {
  if (isThenable(result)) {
    if (how?.Observable !== undefined) {
      return result.then(
        (v) => settled(point, v, how),
        (err: unknown) => {
          failWith(how, point, err);
          throw err;
        },
      ) as R;
    }
    // A side branch: the caller keeps the very promise (and its rejection) it would get untraced.
    result.then(
      (v) => void settled(point, v, how),
      (err: unknown) => failWith(how, point, err),
    );
    return result;
  }
  return settled(point, result, how) as R;
}

/**
 * Runs `fn` inside `point` and follows its result to the end (see `settle`). A synchronous
 * throw fails the point and is rethrown untouched.
 */
export function callInPoint<R>(point: Point, fn: () => R, how?: Follow<any>): R {
  let r: R;
  try {
    r = point.run(fn);
  } catch (err) {
    failWith(how, point, err);
    throw err;
  }
  return settle(point, r, how);
}

/**
 * Like `callInPoint`, but `fn` runs in the caller's context (the point is only its
 * parent for the record: e.g. a statement sent on a connection made outside the point).
 */
export function callBeside<R>(point: Point, fn: () => R, how?: Follow<any>): R {
  let r: R;
  try {
    r = fn();
  } catch (err) {
    failWith(how, point, err);
    throw err;
  }
  return settle(point, r, how);
}

/**
 * Opens a point under `parent`, or returns undefined with the failure counted by `contain`
 * at `where` when its info cannot be built: the call goes on untraced, never broken.
 */
export function openPointContained(contain: Contain, where: string, name: string, info: () => object, parent: Profiler): Point | undefined {
  try {
    return openPoint(name, info(), parent);
  } catch (err) {
    contain(where, err);
    return undefined;
  }
}
