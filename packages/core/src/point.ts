import { uuid4 } from './uuid';
import { errorInfo } from './errors-info';
import { markDropped, newBudget, Profiler, type TraceBudget } from './profiler';
import { currentTrace, runIn, runOn, runtime, storage, storeOf, storeResource, traceOf } from './runtime';
import { isThenable } from './thenable';

/**
 * A point opened by `openPoint`: independent of the profiler's stack, so it can be
 * stopped from any callback (an HTTP response's `finish`, a child's `exit`) and run
 * concurrently with sibling points without either popping the other.
 */
export class Point {
  /** Profiler for work inside this point: points made there get this point as parent. */
  readonly profiler: Profiler;
  private stopped = false;

  /**
   * A point past the trace's budget (`recorded` false) takes its parent's ids: it emits
   * nothing, and work inside it hangs under the last recorded point.
   */
  constructor(
    readonly name: string,
    readonly traceId: string,
    readonly parentId: string,
    parent: Profiler,
    private readonly recorded = true,
    /** @internal A trace's root point (openRootPoint): its trace's budget, key and base id; `parent` unused. */
    rootBudget?: TraceBudget,
    rootKey?: string,
    rootBase?: string,
  ) {
    this.profiler =
      rootBudget === undefined
        ? new Profiler(parent.hmacKey, parent.baseId, parentId, traceId, parent.budget)
        : new Profiler(rootKey as string, rootBase as string, parentId, traceId, rootBudget);
  }

  /** Runs `fn` with this point as the current one (its async continuations too). */
  run<R>(fn: () => R): R {
    return runIn(this.profiler, fn);
  }

  /** Emits `<name>-stop`; later calls are ignored, so a point stops exactly once. */
  stop(info?: object): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.recorded) emitStop(this.profiler.budget, this.name, this.profiler.baseId, this.traceId, this.parentId, info);
  }

  /** Stops with Python's error info (`etype`, `message`) merged into `info`. */
  fail(err: unknown, info?: object): void {
    this.stop(info === undefined ? errorInfo(err) : { ...info, ...errorInfo(err) });
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/**
 * Emits `<name>-start` under the current point and returns its handle, or undefined (at
 * the cost of one lookup) when the current async context is not traced.
 */
export function openPoint(name: string, info?: object, parent: Profiler | undefined = currentTrace()): Point | undefined {
  if (parent === undefined) return undefined;
  const b = parent.budget as TraceBudget | undefined; // undefined: a profiler made by an older copy of core
  if (b !== undefined) {
    if (b.left <= 0) {
      b.dropped++;
      return new Point(name, parent.currentId, parent.parentId, parent, false);
    }
    b.left--;
  }
  const traceId = uuid4();
  const parentId = parent.currentId;
  runtime.sink.point(0, name, parent.baseId, traceId, parentId, info);
  return new Point(name, traceId, parentId, parent);
}

/**
 * `openPoint(name, info, newProfiler(hmacKey, baseId, parentId))` — a trace's first point in
 * this process (an HTTP server's `wsgi`) — without the root profiler, which would only lend
 * the point its ids and budget: one profiler (40 bytes) fewer a traced request.
 * The same ids in the same order (the base id, when drawn, right before the point's).
 */
export function openRootPoint(name: string, info: object | undefined, hmacKey: string, baseId?: string | null, parentId?: string | null): Point {
  const base = baseId || uuid4();
  const top = parentId || base;
  const budget = newBudget();
  if (budget.left <= 0) return openPoint(name, info, new Profiler(hmacKey, base, base, top, budget)) as Point;
  budget.left--;
  const traceId = uuid4();
  runtime.sink.point(0, name, base, traceId, top, info);
  return new Point(name, traceId, top, undefined as unknown as Profiler, true, budget, hmacKey, base);
}

export type StopInfoFn<R> = (result: R) => object | undefined;

/**
 * Runs a sync or async `fn` inside a point. A throw or rejection records `etype`/`message`
 * on the stop and is rethrown untouched; `stopInfo` may add info from the result.
 */
export function traced<R>(name: string, fn: () => R): R;
export function traced<R>(name: string, info: object | undefined, fn: () => R, stopInfo?: StopInfoFn<Awaited<R>>): R;
export function traced<R>(name: string, a: object | undefined | (() => R), b?: () => R, stopInfo?: StopInfoFn<Awaited<R>>): R {
  const fn = (typeof a === 'function' ? a : b) as () => R;
  const info = typeof a === 'function' ? undefined : a;
  // The current async resource read once, for the parent and for running fn (runtime.ts runOn).
  const resource = storeResource();
  const store = resource === undefined ? storage.getStore() : storeOf(resource);
  const parent = traceOf(store);
  if (parent === undefined) return fn();
  const budget = parent.budget as TraceBudget | undefined; // undefined: a profiler made by an older copy of core
  if (budget === undefined || budget.left <= 0) return tracedPoint(openPoint(name, info, parent) as Point, fn, stopInfo);
  // A Point's work without a Point: the point's profiler alone, and its stop written here
  // (one object and a constructor call fewer per traced call; callgrind, trace-lines nested).
  budget.left--;
  const baseId = parent.baseId;
  const traceId = uuid4();
  const parentId = parent.currentId;
  runtime.sink.point(0, name, baseId, traceId, parentId, info);
  const profiler = new Profiler(parent.hmacKey, baseId, parentId, traceId, budget);
  let result: R;
  try {
    result = resource === undefined ? runIn(profiler, fn) : runOn(resource, store, profiler, fn);
  } catch (err) {
    emitStop(budget, name, baseId, traceId, parentId, errorInfo(err));
    throw err;
  }
  if (isThenable(result)) {
    return (result as PromiseLike<Awaited<R>>).then(
      (value) => {
        emitStop(budget, name, baseId, traceId, parentId, safeStopInfo(stopInfo, value));
        return value;
      },
      (err: unknown) => {
        emitStop(budget, name, baseId, traceId, parentId, errorInfo(err));
        throw err;
      },
    ) as R;
  }
  emitStop(budget, name, baseId, traceId, parentId, safeStopInfo(stopInfo, result as Awaited<R>));
  return result;
}

/** A recorded point's stop (Point.stop, and traced() once a point without a Point). */
function emitStop(b: TraceBudget, name: string, baseId: string, traceId: string, parentId: string, info: object | undefined): void {
  if (b.dropped !== b.marked) markDropped(baseId, b);
  runtime.sink.point(1, name, baseId, traceId, parentId, info);
}

/** traced() around a Point (past the budget, or a profiler from an older copy of core). */
function tracedPoint<R>(point: Point, fn: () => R, stopInfo: StopInfoFn<Awaited<R>> | undefined): R {
  let result: R;
  try {
    result = point.run(fn);
  } catch (err) {
    point.fail(err);
    throw err;
  }
  if (isThenable(result)) {
    return (result as PromiseLike<Awaited<R>>).then(
      (value) => {
        point.stop(safeStopInfo(stopInfo, value));
        return value;
      },
      (err: unknown) => {
        point.fail(err);
        throw err;
      },
    ) as R;
  }
  point.stop(safeStopInfo(stopInfo, result as Awaited<R>));
  return result;
}

function safeStopInfo<R>(fn: StopInfoFn<R> | undefined, value: R): object | undefined {
  if (fn === undefined) return undefined;
  try {
    return fn(value);
  } catch {
    return undefined;
  }
}
