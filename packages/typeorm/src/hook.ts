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
 *   (the only place TypeORM makes them) get their `query`/`stream` wrapped: one point per
 *   statement, BEGIN/COMMIT included, with the real SQL.
 * Options live on the DataSource under a symbol; automatic mode traces every DataSource.
 */
import { get, openPoint, roundMs, sqlInfo, traceDbOn, untraced, type Point, type Profiler } from '@osprofiler/core';
import { resolveOptions, type ResolvedTypeormOptions, type TypeormInstrumentationOptions } from './options';
import { dbInfo, dbStopInfo, type Kind } from './points';

type AnyFn = (...args: any[]) => any;

const OPTIONS = Symbol.for('osprofiler.typeorm.options');
const ORIGINAL = Symbol.for('osprofiler.typeorm.original');
const RUNNER = Symbol.for('osprofiler.typeorm.runner');

/** Profilers of open `db` points: inside one, inner operations do not record again. */
const ops = new WeakSet<Profiler>();
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

function isThenable(v: unknown): v is Promise<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

function watchStream(point: Point, s: unknown): void {
  const ee = s as { once?: AnyFn } | null;
  if (typeof ee?.once !== 'function') return point.stop();
  ee.once('error', (err: unknown) => point.fail(err));
  ee.once('end', () => point.stop());
  ee.once('close', () => point.stop());
}

/** Stops `point` when `p` settles, on a side branch: the caller keeps the very promise. */
function settle(point: Point, p: unknown, stopInfo: (v: unknown) => object | undefined, stream = false): void {
  const done = (v: unknown) => {
    if (stream) return watchStream(point, v);
    let info: object | undefined;
    try {
      info = stopInfo(v);
    } catch {
      info = undefined;
    }
    point.stop(info);
  };
  if (isThenable(p)) p.then(done, (err: unknown) => point.fail(err));
  else done(p);
}

function wrapOperation(kind: Kind, className: string, method: string, orig: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const parent = get();
    if (parent === undefined || ops.has(parent) || optionsOf(dataSourceOf(kind, this)) === undefined) return orig.apply(this, args);
    let point: Point | undefined;
    try {
      point = openPoint('db', dbInfo(kind, className, method, this, args), parent);
    } catch {
      point = undefined;
    }
    if (point === undefined) return orig.apply(this, args);
    ops.add(point.profiler);
    let r: unknown;
    try {
      r = point.run(() => orig.apply(this, args));
    } catch (err) {
      point.fail(err);
      throw err;
    }
    settle(point, r, dbStopInfo, method === 'stream');
    return r;
  };
}

function patch(proto: any, name: string, wrap: (orig: AnyFn) => AnyFn): void {
  if (proto == null || !Object.prototype.hasOwnProperty.call(proto, name)) return;
  const orig = proto[name];
  if (typeof orig !== 'function' || orig[ORIGINAL] !== undefined) return;
  const wrapped = wrap(orig);
  Object.defineProperty(wrapped, ORIGINAL, { value: orig });
  Object.defineProperty(wrapped, 'name', { value: orig.name });
  proto[name] = wrapped;
}

interface RunnerLike {
  query?: AnyFn;
  stream?: AnyFn;
  connect?: AnyFn;
  release?: AnyFn;
  [RUNNER]?: { waitMs: number | undefined; waitReported: boolean };
}

/** One `sql` point per statement a QueryRunner sends; its pool acquire/release outside the trace. */
function instrumentRunner(qr: RunnerLike, ds: unknown): void {
  if (qr == null || typeof qr !== 'object' || qr[RUNNER] !== undefined) return;
  const state = { waitMs: undefined as number | undefined, waitReported: false };
  qr[RUNNER] = state;
  const statement = (orig: AnyFn, isStream: boolean) =>
    function (this: RunnerLike, ...args: unknown[]) {
      const parent = get();
      if (parent === undefined) return orig.apply(this, args);
      const o = optionsOf(ds);
      if (o === undefined || !traceDbOn(o.traceDb)) return orig.apply(this, args);
      let point: Point | undefined;
      try {
        const sql = typeof args[0] === 'string' ? args[0] : String(args[0]);
        point = openPoint('sql', sqlInfo(sql, args[1], o.showParams, o.maxStatementLength), parent);
      } catch {
        point = undefined;
      }
      if (point === undefined) return orig.apply(this, args);
      const pt = point;
      let r: unknown;
      try {
        r = orig.apply(this, args);
      } catch (err) {
        pt.fail(err);
        throw err;
      }
      // The pool wait is known only once the first query has acquired its connection.
      settle(pt, r, () => {
        if (state.waitReported || state.waitMs === undefined) return undefined;
        state.waitReported = true;
        return { db: { pool_wait_ms: state.waitMs } };
      }, isStream);
      return r;
    };
  if (typeof qr.query === 'function') qr.query = statement(qr.query, false);
  if (typeof qr.stream === 'function') qr.stream = statement(qr.stream, true);
  if (typeof qr.connect === 'function') {
    const connect = qr.connect;
    qr.connect = function (this: RunnerLike & { databaseConnection?: unknown }, ...args: unknown[]) {
      // Already holding its connection (every query after the first): nothing is created.
      if (get() === undefined || this.databaseConnection != null) return connect.apply(this, args);
      const t0 = performance.now();
      const r = untraced(() => connect.apply(this, args));
      if (state.waitMs === undefined && isThenable(r)) {
        r.then(
          () => {
            if (state.waitMs === undefined) state.waitMs = roundMs(performance.now() - t0);
          },
          () => undefined,
        );
      }
      return r;
    };
  }
  if (typeof qr.release === 'function') {
    const release = qr.release;
    qr.release = function (this: RunnerLike, ...args: unknown[]) {
      return get() === undefined ? release.apply(this, args) : untraced(() => release.apply(this, args));
    };
  }
}

function wrapCreateQueryRunner(orig: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const qr = orig.apply(this, args);
    try {
      if (optionsOf(this) !== undefined) instrumentRunner(qr, this);
    } catch {
      // contained: the runner stays untraced
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

/** The TypeORM module a DataSource comes from, from the CommonJS module cache. */
function moduleOf(ds: object): TypeormModuleLike | undefined {
  for (const m of Object.values(require.cache)) {
    const e = m?.exports as TypeormModuleLike | undefined;
    try {
      if (e != null && typeof e.DataSource === 'function' && typeof e.SelectQueryBuilder === 'function' && ds instanceof e.DataSource) return e;
    } catch {
      // an exports object with throwing getters: not TypeORM
    }
  }
  return undefined;
}

/** Fallback for bundled apps (no module cache): prototypes reached from the instance. */
function moduleFromInstance(ds: any): TypeormModuleLike {
  const ownerOf = (obj: object | null, name: string): any => {
    for (let p = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      if (Object.prototype.hasOwnProperty.call(p, name)) return p;
    }
    return undefined;
  };
  const t: TypeormModuleLike = { DataSource: ds.constructor };
  const em = ownerOf(ds.manager ?? null, 'find');
  if (em !== undefined) t.EntityManager = { prototype: em };
  try {
    const qb = ds.createQueryBuilder();
    t.SelectQueryBuilder = { prototype: ownerOf(qb, 'getMany') };
    t.InsertQueryBuilder = { prototype: ownerOf(qb.insert(), 'execute') };
    t.UpdateQueryBuilder = { prototype: ownerOf(ds.createQueryBuilder().update(), 'execute') };
    t.DeleteQueryBuilder = { prototype: ownerOf(ds.createQueryBuilder().delete(), 'execute') };
  } catch {
    // not reachable before initialize() for some drivers: Repository/EntityManager still record
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
    if (typeof ds.createQueryRunner === 'function' && ds.createQueryRunner[ORIGINAL] === undefined) {
      const orig = ds.createQueryRunner;
      const wrapped = wrapCreateQueryRunner(orig);
      Object.defineProperty(wrapped, ORIGINAL, { value: orig });
      ds.createQueryRunner = wrapped;
    }
  } catch {
    // Never break the app: an unknown TypeORM shape is left untraced.
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
  return true;
}
