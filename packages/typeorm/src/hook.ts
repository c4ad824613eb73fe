/**
 * How the TypeORM adapter attaches.
 * - `db` points: the operation methods of Repository, EntityManager, the query builders
 *   and DataSource.query are wrapped on their prototypes; only the outermost call of a
 *   chain records (Repository.find → EntityManager.find → SelectQueryBuilder.getMany is
 *   one point), told by the profiler of the open `db` point being the current one.
 * - `sql` points: every query a QueryRunner sends. TypeORM's own hooks do not fit: the
 *   logger's logQuery has no end, and the before/afterQuery subscriber events (late
 *   0.3.x only) fire after the pool wait and cannot be paired when one runner runs
 *   queries concurrently. So the QueryRunners handed out by `DataSource.createQueryRunner`
 *   (the only place TypeORM makes them) are marked, and their classes' `query`/`stream`
 *   wrapped (once, on the prototype): one point per statement of a marked runner,
 *   BEGIN/COMMIT included, with the real SQL.
 * Options live on the DataSource under a symbol; automatic mode traces every DataSource.
 */
import { get, untraced, type Profiler } from '@osprofiler/core';
import { callBeside, callInPoint, debug, markDbOperation, openPointContained, isThenable, isWrapped, ownerOf, roundMs, sqlInfo, traceDbOn, wrap, type Follow } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { resolveOptions, type ResolvedTypeormOptions, type TypeormInstrumentationOptions } from './options';
import { dbInfo, dbStopInfo, type Kind } from './points';

type AnyFn = (...args: any[]) => any;

const OPTIONS = Symbol.for('osprofiler.typeorm.options');
const BY = 'typeorm';
const RUNNER = Symbol.for('osprofiler.typeorm.runner');

/**
 * Marks the profilers of open `db` points: inside one, inner operations do not record
 * again. A property, not a WeakSet: a read instead of a hash lookup per wrapped call.
 */
const OP = Symbol('osprofiler.typeorm.op');
type WithOp = Profiler & { [OP]?: true };
let allSources: ResolvedTypeormOptions | undefined;

const ENTITY_METHODS = [
  'save', 'remove', 'softRemove', 'recover', 'insert', 'upsert', 'update', 'updateAll', 'delete', 'deleteAll',
  'softDelete', 'restore', 'exist', 'exists', 'existsBy', 'count', 'countBy', 'sum', 'average', 'minimum', 'maximum',
  'find', 'findBy', 'findAndCount', 'findAndCountBy', 'findByIds', 'findOne', 'findOneBy', 'findOneById',
  'findOneOrFail', 'findOneByOrFail', 'clear', 'increment', 'decrement', 'preload', 'query',
];
const SELECT_METHODS = [
  'getRawOne', 'getRawMany', 'getRawAndEntities', 'getOne', 'getOneOrFail', 'getMany', 'getCount', 'getExists',
  'getManyAndCount', 'stream', 'execute',
];
const RELATION_METHODS = ['set', 'add', 'remove', 'addAndRemove', 'loadOne', 'loadMany'];

function optionsOf(ds: unknown): ResolvedTypeormOptions | undefined {
  return (ds as { [OPTIONS]?: ResolvedTypeormOptions } | undefined)?.[OPTIONS] ?? allSources;
}

function dataSourceOf(kind: Kind, self: any): unknown {
  if (kind === 'datasource') return self;
  if (kind === 'repository') return self?.manager?.connection ?? self?.manager?.dataSource;
  return self?.connection ?? self?.dataSource;
}

const OPERATION: Follow = { stopInfo: dbStopInfo, contained };
const STREAM_OPERATION: Follow = { stream: true, contained };

function wrapOperation(kind: Kind, className: string, method: string, orig: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const parent = get();
    if (parent === undefined || (parent as WithOp)[OP] === true || optionsOf(dataSourceOf(kind, this)) === undefined) return orig.apply(this, args);
    const point = openPointContained(contained, 'operation', 'db', () => dbInfo(kind, className, method, this, args), parent);
    if (point === undefined) return orig.apply(this, args);
    (point.profiler as WithOp)[OP] = true;
    markDbOperation(point);
    return callInPoint(point, () => orig.apply(this, args), method === 'stream' ? STREAM_OPERATION : OPERATION);
  };
}

function patch(proto: any, name: string, make: (orig: AnyFn) => AnyFn): void {
  // Own methods only: an inherited one is patched on the class that defines it.
  if (proto == null || !Object.prototype.hasOwnProperty.call(proto, name)) return;
  wrap(proto, name, BY, make);
}

/**
 * Per-runner state, set by `createQueryRunner` on runners of traced DataSources; also the
 * `Follow` of the runner's first statement, which reports the pool wait (one object per
 * runner, where a Follow and its stopInfo closure were made again per operation).
 */
class RunnerState implements Follow {
  readonly contained = contained;
  waitMs: number | undefined = undefined;
  waitReported = false;
  constructor(readonly ds: unknown) {}
  stopInfo(): object | undefined {
    if (this.waitReported || this.waitMs === undefined) return undefined;
    this.waitReported = true;
    return { db: { pool_wait_ms: this.waitMs } };
  }
}

interface RunnerLike {
  databaseConnection?: unknown;
  [RUNNER]?: RunnerState;
}

/** `query`/`stream` of a QueryRunner class: one `sql` point per statement (with trace_db). */
function wrapStatement(orig: AnyFn, isStream: boolean): AnyFn {
  return function (this: RunnerLike, ...args: unknown[]) {
    const st = this?.[RUNNER];
    const parent = st === undefined ? undefined : get();
    if (parent === undefined) return orig.apply(this, args);
    const o = optionsOf(st!.ds);
    if (o === undefined || !traceDbOn(o.traceDb)) return orig.apply(this, args);
    const pt = openPointContained(contained, 'statement', 'sql', () => sqlInfo(typeof args[0] === 'string' ? args[0] : String(args[0]), args[1], o.showParams, o.maxStatementLength), parent);
    if (pt === undefined) return orig.apply(this, args);
    if (isStream) return callBeside(pt, () => orig.apply(this, args), STREAM_OPERATION);
    // The runner's pool wait goes on its first statement's stop. It may be timed only while
    // this statement runs: a runner that is not yet connected (DataSource.query, a
    // repository call outside a transaction) acquires its connection inside `query`.
    return callBeside(pt, () => orig.apply(this, args), st!.waitReported ? STATEMENT : st!);
  };
}
const STATEMENT: Follow = { contained };

/** `connect` of a QueryRunner class: the pool acquire outside the trace, its wait timed. */
function wrapConnect(connect: AnyFn): AnyFn {
  return function (this: RunnerLike, ...args: unknown[]) {
    const st = this?.[RUNNER];
    // Already holding its connection (every query after the first): nothing is created.
    if (st === undefined || this.databaseConnection != null || get() === undefined) return connect.apply(this, args);
    const t0 = performance.now();
    const r = untraced(() => connect.apply(this, args));
    if (st.waitMs === undefined && isThenable(r)) {
      r.then(
        () => {
          if (st.waitMs === undefined) st.waitMs = roundMs(performance.now() - t0);
        },
        () => undefined,
      );
    }
    return r;
  };
}

/** `release` of a QueryRunner class: outside the trace (the connection outlives it). */
function wrapRelease(release: AnyFn): AnyFn {
  return function (this: RunnerLike, ...args: unknown[]) {
    return this?.[RUNNER] === undefined || get() === undefined ? release.apply(this, args) : untraced(() => release.apply(this, args));
  };
}

/**
 * Traces a QueryRunner of a traced DataSource: its class's `query`/`stream`/`connect`/
 * `release` are wrapped once, on the prototype that defines them (TypeORM makes a runner
 * per operation: wrapping each instance cost ~11k instructions per query untraced, ~22k
 * traced, ~125k with trace_db on PostgreSQL, under callgrind), and the runner carries its
 * state under a symbol. No TypeORM runner's `query`/`stream` calls its parent's, so a
 * subclass and its base both wrapped never record a statement twice.
 */
function instrumentRunner(qr: RunnerLike, ds: unknown): void {
  if (qr == null || typeof qr !== 'object' || qr[RUNNER] !== undefined) return;
  for (const [name, make] of RUNNER_METHODS) {
    const owner = ownerOf(qr, name);
    if (owner !== undefined) wrap(owner, name, BY, make);
  }
  qr[RUNNER] = new RunnerState(ds);
}
const RUNNER_METHODS: Array<[string, (orig: AnyFn) => AnyFn]> = [
  ['query', (o) => wrapStatement(o, false)],
  ['stream', (o) => wrapStatement(o, true)],
  ['connect', wrapConnect],
  ['release', wrapRelease],
];

function wrapCreateQueryRunner(orig: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const qr = orig.apply(this, args);
    try {
      if (optionsOf(this) !== undefined) instrumentRunner(qr, this);
    } catch (err) {
      contained('runner', err); // the runner stays untraced
    }
    return qr;
  };
}

export interface TypeormModuleLike {
  DataSource?: any;
  Repository?: any;
  EntityManager?: any;
  SelectQueryBuilder?: any;
  InsertQueryBuilder?: any;
  UpdateQueryBuilder?: any;
  DeleteQueryBuilder?: any;
  RelationQueryBuilder?: any;
}

/** Patches the operation methods of one TypeORM module copy (once). */
export function patchModule(t: TypeormModuleLike): void {
  for (const m of ENTITY_METHODS) {
    patch(t.Repository?.prototype, m, (o) => wrapOperation('repository', 'Repository', m, o));
    patch(t.EntityManager?.prototype, m, (o) => wrapOperation('manager', 'EntityManager', m, o));
  }
  for (const m of SELECT_METHODS) patch(t.SelectQueryBuilder?.prototype, m, (o) => wrapOperation('builder', 'SelectQueryBuilder', m, o));
  for (const c of ['InsertQueryBuilder', 'UpdateQueryBuilder', 'DeleteQueryBuilder'] as const) {
    patch(t[c]?.prototype, 'execute', (o) => wrapOperation('builder', c, 'execute', o));
  }
  for (const m of RELATION_METHODS) patch(t.RelationQueryBuilder?.prototype, m, (o) => wrapOperation('builder', 'RelationQueryBuilder', m, o));
  patch(t.DataSource?.prototype, 'query', (o) => wrapOperation('datasource', 'DataSource', 'query', o));
}

/** A getter's value; a getter that throws reads as undefined (counted). */
function safeGet(o: object, key: string): unknown {
  try {
    return (o as Record<string, unknown>)[key];
  } catch (err) {
    contained('moduleOf', err);
    return undefined;
  }
}

/** The TypeORM module a DataSource comes from, from the CommonJS module cache. */
function moduleOf(ds: object): TypeormModuleLike | undefined {
  for (const m of Object.values(require.cache)) {
    const e = m?.exports as TypeormModuleLike | undefined;
    // Only exports that own both names are read (TypeORM's are getters, as tsc re-exports).
    if (e == null || (typeof e !== 'object' && typeof e !== 'function')) continue;
    if (!Object.prototype.hasOwnProperty.call(e, 'DataSource') || !Object.prototype.hasOwnProperty.call(e, 'SelectQueryBuilder')) continue;
    const DS = safeGet(e, 'DataSource');
    if (typeof DS === 'function' && typeof safeGet(e, 'SelectQueryBuilder') === 'function' && ds instanceof DS) return e;
  }
  return undefined;
}

/** Fallback for bundled apps (no module cache): prototypes reached from the instance. */
function moduleFromInstance(ds: any): TypeormModuleLike {
  const t: TypeormModuleLike = { DataSource: ds.constructor };
  const em = ownerOf(ds.manager ?? null, 'find');
  if (em !== undefined) t.EntityManager = { prototype: em };
  try {
    const qb = ds.createQueryBuilder();
    t.SelectQueryBuilder = { prototype: ownerOf(qb, 'getMany') };
    t.InsertQueryBuilder = { prototype: ownerOf(qb.insert(), 'execute') };
    t.UpdateQueryBuilder = { prototype: ownerOf(ds.createQueryBuilder().update(), 'execute') };
    t.DeleteQueryBuilder = { prototype: ownerOf(ds.createQueryBuilder().delete(), 'execute') };
  } catch (err) {
    // not reachable before initialize() for some drivers: Repository/EntityManager still record
    contained('queryBuilders', err);
  }
  return t;
}

/**
 * Traces a DataSource: a `db` point per outermost Repository / EntityManager / QueryBuilder
 * operation run inside a trace and (with `trace_db`) a `sql` point per query. Call it once
 * after `new DataSource(...)` (before or after `initialize()`); returns the same instance.
 * Calling it again replaces the options.
 */
export function instrumentDataSource<D extends object>(dataSource: D, options?: TypeormInstrumentationOptions): D {
  try {
    const ds = dataSource as any;
    Object.defineProperty(ds, OPTIONS, { value: resolveOptions(options), enumerable: false, writable: true, configurable: true });
    patchModule(moduleOf(ds) ?? moduleFromInstance(ds));
    if (typeof ds.createQueryRunner === 'function' && !isWrapped(ds.createQueryRunner, BY)) wrap(ds, 'createQueryRunner', BY, wrapCreateQueryRunner);
    debug(`typeorm: instrumented a ${String(ds.options?.type ?? 'TypeORM')} DataSource`);
  } catch (err) {
    contained('instrument', err); // never break the app: an unknown TypeORM shape is left untraced
  }
  return dataSource;
}

/** Stops tracing this DataSource (patches stay, inert for it). */
export function uninstrumentDataSource(dataSource: object): void {
  delete (dataSource as { [OPTIONS]?: unknown })[OPTIONS];
}

/** Automatic mode: trace every DataSource of this TypeORM module copy. */
export function instrumentTypeormModule(typeormModule: unknown, options?: TypeormInstrumentationOptions): boolean {
  const t = typeormModule as TypeormModuleLike | null;
  if (t == null || typeof t.DataSource !== 'function') return false;
  patchModule(t);
  patch(t.DataSource.prototype, 'createQueryRunner', wrapCreateQueryRunner);
  allSources = resolveOptions(options);
  debug('typeorm: automatic mode: every DataSource is traced');
  return true;
}
