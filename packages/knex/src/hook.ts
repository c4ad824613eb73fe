/**
 * How the Knex adapter attaches. Knex has no per-operation hook (its `query` event fires
 * only once the pool has handed out a connection, and carries no end for streams), so
 * the operation is timed around `Runner.prototype.run`/`stream`, the pool wait around
 * `ensureConnection`, and each statement around `Client.prototype.query`/`stream` (the one
 * place every statement passes, transaction BEGIN/COMMIT included). The patches are on
 * the shared prototypes (core's `wrap`, once per Knex copy), and act only for clients
 * whose config was instrumented (a transaction's client shares its parent's config) or
 * for all in automatic mode. The points end through core's `callInPoint`/`callBeside`.
 */
import { get, untraced, type Profiler } from '@osprofiler/core';
import { callBeside, callInPoint, debug, markDbOperation, openPointContained, ownerOf, roundMs, sqlInfo, traceDbOn, wrap, type Follow } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { resolveOptions, type KnexInstrumentationOptions, type ResolvedKnexOptions } from './options';
import { dbInfo, dbStopInfo } from './points';

interface ClientLike {
  config?: object;
  positionBindings?: (sql: string) => string;
  runner?: (builder: unknown) => object;
}
interface RunnerLike {
  client: ClientLike;
  builder: unknown;
}
type AnyFn = (...args: any[]) => any;

/**
 * One open `db` operation: its point, pool wait, and (as the `Follow` given to
 * `callInPoint`) how it stops — one object per operation, where a state object, a
 * `Follow` and a stopInfo closure were three.
 */
class Op implements Follow {
  readonly contained = contained;
  poolWaitMs: number | undefined = undefined;
  waitReported = false;
  constructor(readonly stream: boolean) {}
  stopInfo(v: unknown): object | undefined {
    return this.stream ? undefined : dbStopInfo(v, this.poolWaitMs);
  }
}

/**
 * The open operation of the profiler its work runs in (also: "already inside an
 * operation"), a property under this symbol: cheaper than a WeakMap lookup per call.
 */
const OP = Symbol('osprofiler.knex.op');
type WithOp = Profiler & { [OP]?: Op };
const opOf = (p: Profiler): Op | undefined => (p as WithOp)[OP];

/**
 * Instrumented clients carry their options on their config object under this symbol:
 * transaction clients share the config, and clones (`withUserParams`, the migrator) copy
 * it with `Object.assign`, which copies enumerable symbol keys too.
 */
const OPTIONS = Symbol.for('osprofiler.knex.options');
/** Automatic mode: every client. */
let allClients: ResolvedKnexOptions | undefined;

const BY = 'knex';
const STATEMENT: Follow = { contained };
const STREAM: Follow = { stream: true, contained };

function optionsFor(client: ClientLike | undefined): ResolvedKnexOptions | undefined {
  const cfg = client?.config as { [OPTIONS]?: ResolvedKnexOptions } | undefined;
  return cfg?.[OPTIONS] ?? allClients;
}

function wrapRun(orig: AnyFn): AnyFn {
  return function run(this: RunnerLike) {
    const parent = get();
    if (parent === undefined || opOf(parent) !== undefined || optionsFor(this.client) === undefined) return orig.call(this);
    const point = openPointContained(contained, 'run', 'db', () => dbInfo(this.client, this.builder as object), parent);
    if (point === undefined) return orig.call(this);
    const op = new Op(false);
    (point.profiler as WithOp)[OP] = op;
    markDbOperation(point);
    return callInPoint(point, () => orig.call(this), op);
  };
}

function wrapStream(orig: AnyFn): AnyFn {
  return function stream(this: RunnerLike, ...args: unknown[]) {
    const parent = get();
    if (parent === undefined || opOf(parent) !== undefined || optionsFor(this.client) === undefined) return orig.apply(this, args);
    const pt = openPointContained(contained, 'stream', 'db', () => dbInfo(this.client, this.builder as object, true), parent);
    if (pt === undefined) return orig.apply(this, args);
    (pt.profiler as WithOp)[OP] = new Op(true);
    markDbOperation(pt);
    // stream(handler) or stream(options, handler): the handler gets the stream, and the
    // call returns a promise of the handler's end; otherwise the call returns the stream.
    const hi = args.length === 1 && typeof args[0] === 'function' ? 0 : typeof args[1] === 'function' ? 1 : -1;
    if (hi < 0) return callInPoint(pt, () => orig.apply(this, args), STREAM);
    const handler = args[hi] as AnyFn;
    args[hi] = function (this: unknown, s: unknown) {
      callBeside(pt, () => s, STREAM);
      return handler.call(this, s);
    };
    try {
      return pt.run(() => orig.apply(this, args));
    } catch (err) {
      pt.fail(err);
      throw err;
    }
  };
}

function wrapEnsureConnection(orig: AnyFn): AnyFn {
  return function ensureConnection(this: RunnerLike, cb: AnyFn, params: unknown) {
    const p = get();
    const st = p === undefined ? undefined : opOf(p);
    if (st === undefined || st.poolWaitMs !== undefined || typeof cb !== 'function') return orig.call(this, cb, params);
    const t0 = performance.now();
    return orig.call(
      this,
      function (runner: unknown, cbParams: unknown) {
        st.poolWaitMs = roundMs(performance.now() - t0);
        return cb(runner, cbParams);
      },
      params,
    );
  };
}

/**
 * Statements as the driver receives them (`$1` placeholders for pg), by the text Knex
 * compiled, per `positionBindings` implementation: pg's is a regex replace with a callback
 * per `?`, run again here for every statement before Knex runs it itself. Compiled texts
 * repeat (the same builders run again), so the result is remembered; at most
 * MAX_POSITIONED texts per client class, then computed each time.
 */
const positioned = new WeakMap<object, Map<string, string> | null>();
const MAX_POSITIONED = 512;

function positionedText(client: ClientLike, sql: string): string {
  const pb = client.positionBindings;
  if (typeof pb !== 'function') return sql;
  let byText = positioned.get(pb);
  if (byText === undefined) {
    // null: Knex's default, which leaves `?` as it is (SQLite, MySQL): nothing to remember.
    byText = pb.call(client, 'select ?') === 'select ?' ? null : new Map();
    positioned.set(pb, byText);
  }
  if (byText === null) return sql;
  let text = byText.get(sql);
  if (text === undefined) {
    text = pb.call(client, sql);
    if (typeof text !== 'string') return String(text);
    if (byText.size < MAX_POSITIONED) byText.set(sql, text);
  }
  return text;
}

function statementInfo(client: ClientLike, q: unknown, parent: Profiler, o: ResolvedKnexOptions): object {
  const o2 = (typeof q === 'string' ? { sql: q } : (q ?? {})) as { sql?: unknown; bindings?: unknown };
  const sql = positionedText(client, typeof o2.sql === 'string' ? o2.sql : String(o2.sql));
  const st = opOf(parent);
  let wait: number | undefined;
  if (st !== undefined && !st.waitReported) {
    st.waitReported = true;
    wait = st.poolWaitMs;
  }
  return sqlInfo(sql, o2.bindings, o.showParams, o.maxStatementLength, wait);
}

/**
 * `Client.prototype.query(connection, q)`: fixed arity (Knex passes two), no rest array
 * and spread per statement, traced or not.
 */
function wrapQuery(orig: AnyFn): AnyFn {
  return function query(this: ClientLike, connection: unknown, q: unknown) {
    // eslint-disable-next-line prefer-rest-params -- a rest array per statement is what this wrapper avoids
    if (arguments.length > 2) return orig.apply(this, arguments as unknown as unknown[]);
    const parent = get();
    if (parent === undefined) return orig.call(this, connection, q);
    const o = optionsFor(this);
    if (o === undefined || !traceDbOn(o.traceDb)) return orig.call(this, connection, q);
    const point = openPointContained(contained, 'statement', 'sql', () => statementInfo(this, q, parent, o), parent);
    if (point === undefined) return orig.call(this, connection, q);
    return callBeside(point, () => orig.call(this, connection, q), STATEMENT);
  };
}

/** `Client.prototype.stream(connection, q, stream, options)`. */
function wrapStatementStream(orig: AnyFn): AnyFn {
  return function statement(this: ClientLike, connection: unknown, q: unknown, ...rest: unknown[]) {
    const parent = get();
    if (parent === undefined) return orig.call(this, connection, q, ...rest);
    const o = optionsFor(this);
    if (o === undefined || !traceDbOn(o.traceDb)) return orig.call(this, connection, q, ...rest);
    const point = openPointContained(contained, 'statement', 'sql', () => statementInfo(this, q, parent, o), parent);
    if (point === undefined) return orig.call(this, connection, q, ...rest);
    return callBeside(point, () => orig.call(this, connection, q, ...rest), STATEMENT);
  };
}

interface PoolLike {
  numFree?: () => number;
  numPendingAcquires?: () => number;
  numPendingCreates?: () => number;
}

/** True when the pool call cannot create anything (a free connection to acquire, nobody waiting on a release). */
function poolIsQuiet(pool: PoolLike | undefined, acquire: boolean): boolean {
  try {
    return acquire ? (pool?.numFree?.() ?? 0) > 0 : pool?.numPendingAcquires?.() === 0;
  } catch (err) {
    contained('pool', err); // unknown pool: go outside
    return false;
  }
}

/**
 * Pool acquire/release run outside the trace when they may open a connection (or start
 * the pool's reaping timer): connections, their sockets and pool timers outlive the
 * request. When tarn has a free connection for an acquire, or nobody waiting on a
 * release, nothing is created and the call runs as is (the common, cheap case).
 */
function wrapOutside(orig: AnyFn, acquire: boolean): AnyFn {
  return function (this: ClientLike & { pool?: PoolLike }, ...args: unknown[]) {
    if (get() === undefined || optionsFor(this) === undefined) return orig.apply(this, args);
    if (poolIsQuiet(this.pool, acquire)) return orig.apply(this, args);
    return untraced(() => orig.apply(this, args));
  };
}

function patch(proto: object | undefined, name: string, make: (orig: AnyFn) => AnyFn): void {
  if (proto !== undefined) wrap(proto, name, BY, make);
}

/** Patches the Runner and Client prototypes behind `clientProto` (once per Knex copy). */
export function patchPrototypes(clientProto: object): void {
  const runnerOf = (clientProto as ClientLike).runner;
  if (typeof runnerOf !== 'function') return;
  // `runner(builder)` only builds `new Runner(client, builder)`: a safe way to reach the class.
  const runnerProto = Object.getPrototypeOf(runnerOf.call({}, null)) as object;
  patch(ownerOf(runnerProto, 'run'), 'run', wrapRun);
  patch(ownerOf(runnerProto, 'stream'), 'stream', wrapStream);
  patch(ownerOf(runnerProto, 'ensureConnection'), 'ensureConnection', wrapEnsureConnection);
  patch(ownerOf(clientProto, 'query'), 'query', wrapQuery);
  patch(ownerOf(clientProto, 'stream'), 'stream', wrapStatementStream);
  patch(ownerOf(clientProto, 'acquireConnection'), 'acquireConnection', (o) => wrapOutside(o, true));
  patch(ownerOf(clientProto, 'releaseConnection'), 'releaseConnection', (o) => wrapOutside(o, false));
}

interface KnexLike {
  client?: ClientLike;
}

/**
 * Traces a Knex instance: a `db` point per builder/raw/schema operation run inside a
 * trace, and (with `trace_db`) a `sql` point per statement. Call it once, right after
 * `knex(config)`; returns the same instance. Calling it again replaces the options.
 */
export function instrumentKnex<K>(knex: K, options?: KnexInstrumentationOptions): K {
  try {
    const client = (knex as KnexLike | null)?.client;
    if (client == null || client.config === undefined) return knex;
    patchPrototypes(Object.getPrototypeOf(client) as object);
    const o = resolveOptions(options);
    Object.defineProperty(client.config, OPTIONS, { value: o, enumerable: true, writable: true, configurable: true });
    debug(`knex: instrumented a ${String((client.config as { client?: unknown }).client ?? 'knex')} client (traceDb: ${typeof o.traceDb === 'function' ? 'a function' : String(o.traceDb ?? 'from config')}, showParams: ${o.showParams})`);
  } catch (err) {
    contained('instrument', err); // never break the app: an unknown Knex shape is left untraced
  }
  return knex;
}

/** Stops tracing this instance (the prototype patches stay, inert for it). */
export function uninstrumentKnex(knex: unknown): void {
  const cfg = (knex as KnexLike | null)?.client?.config as { [OPTIONS]?: unknown } | undefined;
  if (cfg !== undefined) delete cfg[OPTIONS];
}

/** Automatic mode: trace every Knex client of this Knex module copy. */
export function instrumentKnexModule(knexModule: unknown, options?: KnexInstrumentationOptions): boolean {
  const Client = (knexModule as { Client?: unknown } | null)?.Client;
  if (typeof Client !== 'function' || typeof Client.prototype !== 'object') return false;
  patchPrototypes(Client.prototype as object);
  allClients = resolveOptions(options);
  debug(`knex: automatic mode: every Knex client is traced (traceDb: ${typeof allClients.traceDb === 'function' ? 'a function' : String(allClients.traceDb ?? 'from config')})`);
  return true;
}
