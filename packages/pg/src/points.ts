/**
 * What the pg adapter records: `db` start info `{function: {name}, db: {system, client,
 * operation, database}}` (as the Knex and TypeORM adapters), stop `{db: {rows,
 * pool_wait_ms}}`; the statement itself only in the `sql` point with trace_db (core's
 * `sqlInfo`: bindings hidden unless `showParams`).
 */
import { roundMs } from '@osprofiler/core/instrument';

interface QueryConfigLike {
  text?: unknown;
  values?: unknown;
}

/** The SQL text and values of a `query(text, values?, cb?)` / `query(config, cb?)` call. */
export function statementOf(args: readonly unknown[]): { sql: string; values: unknown } {
  const first = args[0];
  if (typeof first === 'string') return { sql: first, values: Array.isArray(args[1]) ? args[1] : undefined };
  const c = (first ?? {}) as QueryConfigLike;
  const sql = typeof c.text === 'string' ? c.text : '';
  return { sql, values: c.values ?? (Array.isArray(args[1]) ? args[1] : undefined) };
}

function operationOf(sql: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  return m === null ? 'query' : m[1].toLowerCase();
}

/** `db` start info for `Client.query`/`Pool.query` on `target` (a Client or a Pool). */
export function dbInfo(name: string, target: unknown, args: readonly unknown[]): object {
  const t = target as { database?: unknown; options?: { database?: unknown } } | null;
  const database = t?.database ?? t?.options?.database;
  const db: Record<string, unknown> = { system: 'postgresql', client: 'pg', operation: operationOf(statementOf(args).sql) };
  if (typeof database === 'string') db.database = database;
  return { function: { name }, db };
}

/** `db` stop info: rows affected or returned, and the pool wait when the query waited for a client. */
export function dbStopInfo(result: unknown, poolWaitMs: number | undefined): object {
  const db: { rows?: number; pool_wait_ms?: number } = {};
  const rows = (result as { rowCount?: unknown } | null)?.rowCount;
  if (typeof rows === 'number') db.rows = rows;
  if (poolWaitMs !== undefined) db.pool_wait_ms = roundMs(poolWaitMs);
  return { db };
}
