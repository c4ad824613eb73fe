/** What the TypeORM adapter records: `db` point info for an operation, rows on stop. */
import { frozenInfo } from '@osprofiler/core/instrument';
import { contained } from './contained';

const SYSTEMS: Record<string, string> = {
  postgres: 'postgresql',
  cockroachdb: 'cockroachdb',
  'aurora-postgres': 'postgresql',
  mysql: 'mysql',
  mariadb: 'mariadb',
  'aurora-mysql': 'mysql',
  sqlite: 'sqlite',
  'better-sqlite3': 'sqlite',
  sqljs: 'sqlite',
  capacitor: 'sqlite',
  cordova: 'sqlite',
  expo: 'sqlite',
  'react-native': 'sqlite',
  nativescript: 'sqlite',
  mssql: 'mssql',
  oracle: 'oracle',
  sap: 'hana',
  spanner: 'spanner',
  mongodb: 'mongodb',
};

export interface DataSourceLike {
  options?: { type?: unknown; database?: unknown };
  hasMetadata?: (target: unknown) => boolean;
  getMetadata?: (target: unknown) => MetadataLike;
}

export interface MetadataLike {
  name?: unknown;
  tableName?: unknown;
}

export type Kind = 'repository' | 'manager' | 'builder' | 'datasource';

function base(ds: DataSourceLike | undefined, operation: string): Record<string, unknown> {
  const type = ds?.options?.type;
  const db: Record<string, unknown> = {};
  if (typeof type === 'string') {
    db.system = SYSTEMS[type] ?? type;
    db.client = type;
  }
  db.operation = operation;
  const database = ds?.options?.database;
  if (typeof database === 'string') db.database = database;
  return db;
}

function targetName(target: unknown): string | undefined {
  if (typeof target === 'function') return (target as { name?: string }).name || undefined;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) return targetName(target[0]);
  if (target !== null && typeof target === 'object') {
    const schema = (target as { options?: { name?: unknown } }).options;
    if (schema !== undefined && typeof schema.name === 'string') return schema.name; // EntitySchema
    const ctor = (target as { constructor?: { name?: string } }).constructor;
    if (ctor !== undefined && ctor !== Object) return ctor.name;
  }
  return undefined;
}

function put(db: Record<string, unknown>, meta: MetadataLike | undefined, fallbackEntity?: string): void {
  const entity = typeof meta?.name === 'string' ? meta.name : fallbackEntity;
  if (entity !== undefined) db.entity = entity;
  if (typeof meta?.tableName === 'string') db.table = meta.tableName;
}

const QUERY_TYPE_OPERATION: Record<string, string> = { 'soft-delete': 'update', restore: 'update' };

/** A repository's start infos by method (a plain object: method names are a fixed few). */
const STARTS = Symbol('osprofiler.typeorm.starts');

function cacheStart(repo: object, method: string, info: { function: object; db: object }): object {
  frozenInfo(info);
  const r = repo as { [STARTS]?: Record<string, object> };
  let starts = r[STARTS];
  if (starts === undefined) {
    starts = Object.create(null) as Record<string, object>;
    // Not enumerable: never copied with the repository (extend(), spread).
    Object.defineProperty(repo, STARTS, { value: starts, enumerable: false, writable: false, configurable: true });
  }
  starts[method] = info;
  return info;
}

/** Start info of a `db` point. `self` is the Repository / EntityManager / QueryBuilder / DataSource. */
export function dbInfo(kind: Kind, className: string, method: string, self: any, args: unknown[]): object {
  let name: string;
  let db: Record<string, unknown>;
  if (kind === 'repository') {
    const cached = (self as { [STARTS]?: Record<string, object> } | null)?.[STARTS]?.[method];
    if (cached !== undefined) return cached;
    const ds = self.manager?.connection ?? self.manager?.dataSource;
    let meta: MetadataLike | undefined;
    try {
      meta = self.metadata;
    } catch (err) {
      contained('points.metadata', err);
      meta = undefined;
    }
    const entity = typeof meta?.name === 'string' ? meta.name : targetName(self.target);
    name = `${entity ?? ''}Repository.${method}`;
    db = base(ds, method);
    put(db, meta, entity);
    // A repository's entity and DataSource do not change: its start info per method is
    // made once (when its metadata was there to read), one frozen object instead of three
    // objects, a name string and the metadata getter's lookup per query.
    if (typeof meta?.name === 'string') return cacheStart(self as object, method, { function: { name }, db });
  } else if (kind === 'manager') {
    const ds: DataSourceLike | undefined = self.connection ?? self.dataSource;
    name = `${className}.${method}`;
    db = base(ds, method);
    if (method !== 'query') {
      const target = args[0];
      let meta: MetadataLike | undefined;
      try {
        const t = typeof target === 'object' && target !== null && !Array.isArray(target) && typeof (target as { options?: unknown }).options !== 'object' ? (target as object).constructor : target;
        if (ds?.hasMetadata?.(t) === true) meta = ds.getMetadata?.(t);
      } catch (err) {
        contained('points.metadata', err);
        meta = undefined;
      }
      put(db, meta, targetName(target));
    }
  } else if (kind === 'builder') {
    const ds: DataSourceLike | undefined = self.connection ?? self.dataSource;
    const em = self.expressionMap;
    const qt = typeof em?.queryType === 'string' ? em.queryType : 'select';
    name = `${className}.${method}`;
    db = base(ds, method === 'execute' ? (QUERY_TYPE_OPERATION[qt] ?? qt) : 'select');
    let meta: MetadataLike | undefined;
    try {
      if (em?.mainAlias?.hasMetadata === true) meta = em.mainAlias.metadata;
    } catch (err) {
      contained('points.metadata', err);
      meta = undefined;
    }
    put(db, meta);
    if (db.table === undefined && typeof em?.mainAlias?.tablePath === 'string') db.table = em.mainAlias.tablePath;
  } else {
    name = `DataSource.${method}`;
    db = base(self, method);
  }
  return { function: { name }, db };
}

/** How many rows/entities a result holds or touched, when it can be told. */
export function rowsOf(v: unknown): number | undefined {
  if (v === null || v === undefined) return 0;
  if (Array.isArray(v)) {
    if (v.length === 2 && Array.isArray(v[0]) && typeof v[1] === 'number') return v[0].length; // findAndCount
    return v.length;
  }
  if (typeof v === 'object') {
    const r = v as { affected?: unknown; identifiers?: unknown; records?: unknown };
    if (typeof r.affected === 'number') return r.affected;
    if (Array.isArray(r.identifiers)) return r.identifiers.length;
    if (Array.isArray(r.records)) return r.records.length;
    return 1;
  }
  return undefined;
}

export function dbStopInfo(v: unknown): object | undefined {
  const rows = rowsOf(v);
  return rows === undefined ? undefined : { db: { rows } };
}
