/** What the Knex adapter records: `db` point info from a runner's builder, rows on stop. */
import { frozenInfo } from '@osprofiler/core/instrument';
import { contained } from './contained';

interface KnexClientLike {
  dialect?: string;
  config?: { client?: unknown; connection?: unknown };
  connectionSettings?: unknown;
}

interface BuilderLike {
  _method?: string;
  _single?: { table?: unknown };
  _sequence?: Array<{ method?: string; args?: unknown[] }>;
  sql?: unknown;
}

const SYSTEMS: Record<string, string> = {
  postgresql: 'postgresql',
  postgres: 'postgresql',
  pg: 'postgresql',
  pgnative: 'postgresql',
  cockroachdb: 'cockroachdb',
  redshift: 'redshift',
  mysql: 'mysql',
  mysql2: 'mysql',
  sqlite3: 'sqlite',
  'better-sqlite3': 'sqlite',
  mssql: 'mssql',
  oracledb: 'oracle',
};

const METHOD_OPERATION: Record<string, string> = { first: 'select', pluck: 'select', del: 'delete', counter: 'update' };

interface ClientInfo {
  system: string;
  client: string;
  database?: string;
  /**
   * Start infos of query-builder operations already made, by method then table ('' for
   * none); only for clients whose info is cached. One frozen object per shape instead of
   * three objects and a name string per query, and the notifier's buffer holds one copy.
   */
  starts?: Map<string, Map<string, object>>;
  /** How many infos `starts` holds. */
  cached: number;
}

/** Shapes cached per client: beyond it (tables named per tenant, say) infos are built per query. */
const MAX_STARTS = 256;

const clientInfos = new WeakMap<object, ClientInfo>();

function clientName(client: KnexClientLike): string {
  const c = client.config?.client;
  if (typeof c === 'string') return c;
  if (typeof c === 'function' && typeof c.name === 'string') return c.name;
  return client.dialect ?? 'unknown';
}

function databaseOf(settings: unknown): string | undefined {
  if (typeof settings === 'string') {
    // A file name (SQLite) or anything else that is not a URL names no database here.
    if (!URL.canParse(settings)) return undefined;
    const path = new URL(settings).pathname.replace(/^\//, '');
    let db = path;
    try {
      db = decodeURIComponent(path);
    } catch (err) {
      contained('points.database', err); // a stray '%': kept as written
    }
    return db || undefined;
  }
  if (settings !== null && typeof settings === 'object') {
    const s = settings as { database?: unknown; filename?: unknown; connectionString?: unknown };
    if (typeof s.database === 'string') return s.database;
    if (typeof s.filename === 'string') return s.filename;
    if (typeof s.connectionString === 'string') return databaseOf(s.connectionString);
  }
  return undefined;
}

function infoOf(client: KnexClientLike): ClientInfo {
  const key = (client.config ?? client) as object;
  let info = clientInfos.get(key);
  if (info === undefined) {
    const name = clientName(client);
    const dialect = client.dialect ?? name;
    info = { system: SYSTEMS[dialect] ?? SYSTEMS[name] ?? dialect, client: name, cached: 0 };
    const database = databaseOf(client.connectionSettings ?? client.config?.connection);
    if (database !== undefined) info.database = database;
    // A connection given as a function can change; only static settings are cached.
    if (typeof client.config?.connection !== 'function') {
      info.starts = new Map();
      clientInfos.set(key, info);
    }
  }
  return info;
}

function leadingKeyword(sql: unknown): string {
  if (typeof sql !== 'string') return 'raw';
  const m = /^\s*([A-Za-z]+)/.exec(sql);
  return m ? m[1].toLowerCase() : 'raw';
}

/** Start info of the `db` point for one builder run. */
export function dbInfo(client: KnexClientLike, builder: BuilderLike | null | undefined, stream = false): object {
  const c = infoOf(client);
  // The common case, a query builder on a plain table (or none): the cached info.
  const starts = c.starts;
  if (starts !== undefined && !stream && builder != null && typeof builder._method === 'string' && !Array.isArray(builder._sequence)) {
    const t = builder._single?.table;
    const table = typeof t === 'string' ? t : '';
    let byTable = starts.get(builder._method);
    const hit = byTable?.get(table);
    if (hit !== undefined) return hit;
    const info = frozenInfo(buildInfo(c, builder, false));
    if (c.cached < MAX_STARTS) {
      if (byTable === undefined) starts.set(builder._method, (byTable = new Map()));
      byTable.set(table, info);
      c.cached++;
    }
    return info;
  }
  return buildInfo(c, builder, stream);
}

function buildInfo(c: ClientInfo, builder: BuilderLike | null | undefined, stream: boolean): { function: object; db: object } {
  let name: string;
  let operation: string;
  let table: string | undefined;
  if (builder != null && Array.isArray(builder._sequence)) {
    const first = builder._sequence[0];
    const method = typeof first?.method === 'string' ? first.method : 'schema';
    name = `knex.schema.${method}`;
    operation = method;
    if (typeof first?.args?.[0] === 'string') table = first.args[0];
  } else if (builder != null && typeof builder._method === 'string') {
    name = `knex.${builder._method}`;
    operation = METHOD_OPERATION[builder._method] ?? builder._method;
    const t = builder._single?.table;
    if (typeof t === 'string') table = t;
  } else {
    name = 'knex.raw';
    operation = leadingKeyword(builder?.sql);
  }
  if (stream) name += '.stream';
  const db: Record<string, unknown> = { system: c.system, client: c.client, operation };
  if (table !== undefined) db.table = table;
  if (c.database !== undefined) db.database = c.database;
  return { function: { name }, db };
}

/** How many rows a result holds or touched, when it can be told. */
export function rowsOf(result: unknown): number | undefined {
  if (typeof result === 'number') return Number.isInteger(result) ? result : undefined;
  if (Array.isArray(result)) {
    // mysql2 raw: [rows, fields]
    if (result.length === 2 && Array.isArray(result[0]) && Array.isArray(result[1])) return result[0].length;
    return result.length;
  }
  if (result !== null && typeof result === 'object') {
    const r = result as { rowCount?: unknown; rows?: unknown; affectedRows?: unknown; changes?: unknown };
    if (typeof r.rowCount === 'number') return r.rowCount;
    if (Array.isArray(r.rows)) return r.rows.length;
    if (typeof r.affectedRows === 'number') return r.affectedRows;
    if (typeof r.changes === 'number') return r.changes;
    return 1; // first(): one row
  }
  if (result === undefined) return 0;
  return undefined;
}

/** Stop info of the `db` point. */
export function dbStopInfo(result: unknown, poolWaitMs: number | undefined): object {
  const db: { rows?: number; pool_wait_ms?: number } = {};
  const rows = rowsOf(result);
  if (rows !== undefined) db.rows = rows;
  if (poolWaitMs !== undefined) db.pool_wait_ms = poolWaitMs;
  return { db };
}
