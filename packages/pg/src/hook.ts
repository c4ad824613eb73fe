/**
 * How the pg adapter attaches: `Client.prototype.query` (every statement, a pool's too),
 * `Pool.prototype.query` (the pool's one-shot query: checkout, statement, release) and
 * `Pool.prototype.connect` (the pool wait) are wrapped on the shared prototypes (core's
 * `wrap`, once per copy of pg). A `db` point is opened per `pool.query`/`client.query`
 * made in a trace, unless the call runs inside another adapter's `db` operation (Knex or
 * TypeORM on pg: the kit's `inDbOperation`), which records it already. With trace_db a
 * `sql` point per statement goes inside. The profiler's own postgresql:// writes run in the
 * notifier outside any trace, so they are never recorded. Submittables (`query(new
 * Cursor(...))`, `QueryStream`) pass through untraced.
 */
import { AsyncResource } from 'node:async_hooks';
import { get, openPoint, type Point, type Profiler } from '@osprofiler/core';
import { callInPoint, debug, inDbOperation, isThenable, markDbOperation, sqlInfo, traceDbOn, wrap } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { resolveOptions, type PgInstrumentationOptions, type ResolvedPgOptions } from './options';
import { dbInfo, dbStopInfo, statementOf } from './points';

type AnyFn = (this: unknown, ...args: any[]) => any;

interface OpState {
  poolWaitMs: number | undefined;
  waitReported: boolean;
}

/** Open `db` points of this adapter, by the profiler their work runs in. */
const ops = new WeakMap<Profiler, OpState>();
let options: ResolvedPgOptions | undefined;
const BY = 'pg';

function tryOpen(where: string, name: string, info: () => object, parent: Profiler): Point | undefined {
  try {
    return openPoint(name, info(), parent);
  } catch (err) {
    contained(where, err);
    return undefined;
  }
}

/** Runs `fn(...args)` inside `point`, stopping it when the promise settles or the callback (last argument) is called. */
function runIn(point: Point, fn: AnyFn, self: unknown, args: unknown[], stopInfo: (v: unknown) => object | undefined): unknown {
  const i = args.length - 1;
  if (i < 0 || typeof args[i] !== 'function') return callInPoint(point, () => fn.apply(self, args), { contained, stopInfo });
  const cb = args[i] as AnyFn;
  args[i] = function (this: unknown, err: unknown, ...rest: unknown[]) {
    if (err) point.fail(err);
    else {
      let info: object | undefined;
      try {
        info = stopInfo(rest[0]);
      } catch (e) {
        contained('stopInfo', e);
      }
      point.stop(info);
    }
    return cb.call(this, err, ...rest);
  };
  try {
    return point.run(() => fn.apply(self, args));
  } catch (err) {
    point.fail(err);
    throw err;
  }
}

const isSubmittable = (q: unknown): boolean => typeof (q as { submit?: unknown } | null)?.submit === 'function';

function wrapClientQuery(orig: AnyFn): AnyFn {
  return function query(this: unknown, ...args: unknown[]) {
    const parent = get();
    const o = options;
    if (parent === undefined || o === undefined || isSubmittable(args[0])) return orig.apply(this, args);
    const own = ops.get(parent);
    if (own !== undefined) {
      // A statement of our own `db` operation: its `sql` point with trace_db.
      if (!traceDbOn(o.traceDb)) return orig.apply(this, args);
      const sp = tryOpen('statement', 'sql', () => {
        const { sql, values } = statementOf(args);
        const wait = own.waitReported ? undefined : own.poolWaitMs;
        own.waitReported = true;
        return sqlInfo(sql, values, o.showParams, o.maxStatementLength, wait);
      }, parent);
      return sp === undefined ? orig.apply(this, args) : runIn(sp, orig, this, args, () => undefined);
    }
    if (inDbOperation(parent)) return orig.apply(this, args); // Knex's or TypeORM's operation records it
    const point = tryOpen('query', 'db', () => dbInfo('pg.Client.query', this, args), parent);
    if (point === undefined) return orig.apply(this, args);
    const state: OpState = { poolWaitMs: undefined, waitReported: false };
    ops.set(point.profiler, state);
    markDbOperation(point);
    // Re-entered inside the point: the statement branch above adds the `sql` point.
    return runIn(point, query, this, args, (v) => dbStopInfo(v, undefined));
  };
}

function wrapPoolQuery(orig: AnyFn): AnyFn {
  return function query(this: unknown, ...args: unknown[]) {
    const parent = get();
    if (parent === undefined || options === undefined || isSubmittable(args[0]) || inDbOperation(parent)) return orig.apply(this, args);
    const point = tryOpen('pool.query', 'db', () => dbInfo('pg.Pool.query', this, args), parent);
    if (point === undefined) return orig.apply(this, args);
    const state: OpState = { poolWaitMs: undefined, waitReported: false };
    ops.set(point.profiler, state);
    markDbOperation(point);
    return runIn(point, orig, this, args, (v) => dbStopInfo(v, state.poolWaitMs));
  };
}

/** Times the checkout of `pool.query`'s client; the callback keeps the query's context (a waiting checkout is resumed from another request's release). */
function wrapPoolConnect(orig: AnyFn): AnyFn {
  return function connect(this: unknown, ...args: unknown[]) {
    const p = get();
    const st = p === undefined ? undefined : ops.get(p);
    if (st === undefined || st.poolWaitMs !== undefined) return orig.apply(this, args);
    const t0 = performance.now();
    const cb = args[0];
    if (typeof cb === 'function') {
      return orig.call(
        this,
        AsyncResource.bind(function (this: unknown, ...a: unknown[]) {
          st.poolWaitMs = performance.now() - t0;
          return (cb as AnyFn).apply(this, a);
        }),
      );
    }
    const r = orig.apply(this, args);
    if (isThenable(r)) r.then(() => void (st.poolWaitMs = performance.now() - t0), () => undefined);
    return r;
  };
}

/** The prototype in `proto`'s chain that defines `name` itself (pg.Pool's `query` is pg-pool's). */
function owner(proto: object | null, name: string): Record<string, unknown> | undefined {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return p as Record<string, unknown>;
  }
  return undefined;
}

interface PgModuleLike {
  Client?: { prototype: object };
  Pool?: { prototype: object };
}

/**
 * Traces every Client and Pool of one pg module (`require('pg')`): the options apply to
 * all (the last call's win). Returns whether it patched anything. Never throws.
 */
export function instrumentPg(pg: unknown, opts: PgInstrumentationOptions = {}): boolean {
  try {
    options = resolveOptions(opts);
    const m = pg as PgModuleLike;
    let any = false;
    const client = owner(m.Client?.prototype ?? null, 'query');
    if (client !== undefined) any = wrap(client, 'query', BY, wrapClientQuery) || any;
    const poolQuery = owner(m.Pool?.prototype ?? null, 'query');
    if (poolQuery !== undefined) any = wrap(poolQuery, 'query', BY, wrapPoolQuery) || any;
    const poolConnect = owner(m.Pool?.prototype ?? null, 'connect');
    if (poolConnect !== undefined) any = wrap(poolConnect, 'connect', BY, wrapPoolConnect) || any;
    debug(`pg: ${any ? 'instrumented Client.query, Pool.query, Pool.connect' : 'nothing to patch (already done, or not pg)'}`);
    return any;
  } catch (err) {
    contained('instrument', err);
    return false;
  }
}

/** Stops tracing (the wrappers stay, passing through). */
export function uninstrumentPg(): void {
  options = undefined;
}
