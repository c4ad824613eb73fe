/** Scenarios run against each real server (PostgreSQL, MariaDB): same checks, real drivers. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Knex } from 'knex';
import { assertBalanced, starts, stopOf, type Collector, type Event } from '../../../tools/testing/point-collector';

export function tableName(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * More concurrent traced requests than pool connections: each request's statements (told
 * apart by their bindings) land in its own trace and nowhere else, and a saturated pool
 * shows as pool wait.
 */
export async function concurrencyAbovePoolSize(c: Collector, db: Knex, table: string, sleepSql: string): Promise<void> {
  const N = 20;
  const runs = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      c.trace(async () => {
        await db.raw(sleepSql);
        await db(table).insert({ req: i });
        await db.transaction(async (trx) => {
          await trx(table).where({ req: i }).update({ req: i });
          await trx.raw('select ? as req', [i]);
        });
        return db(table).where({ req: i }).select('req');
      }),
    ),
  );
  const waits: number[] = [];
  for (let i = 0; i < N; i++) {
    const { baseId, result } = runs[i];
    expect(result).toEqual([{ req: i }]);
    const ev = await c.events(baseId);
    assertBalanced(ev);
    expect(ev.every((e) => e.base_id === baseId)).toBe(true);
    const dbs = starts(ev, 'db');
    expect(dbs.map((e) => e.info.function.name)).toEqual(['knex.raw', 'knex.insert', 'knex.update', 'knex.raw', 'knex.select']);
    const sqls = starts(ev, 'sql');
    // raw sleep, insert, BEGIN, update, select ?, COMMIT, select
    expect(sqls).toHaveLength(7);
    const ids = new Set(ev.map((e) => e.trace_id));
    for (const s of sqls) {
      expect(ids.has(s.parent_id) || s.parent_id === baseId).toBe(true);
      const params = s.info.db.params as unknown[] | undefined;
      if (params !== undefined && params.length > 0) expect(params.every((p) => Number(p) === i)).toBe(true);
    }
    for (const d of dbs) {
      const w = stopOf(ev, d)!.info.db.pool_wait_ms;
      if (typeof w === 'number') waits.push(w);
    }
  }
  // The pool (max 2) was saturated by 20 requests sleeping in the database.
  expect(Math.max(...waits)).toBeGreaterThan(20);
}

/** The app gets exactly the error it gets untraced; every point stops once with etype/message. */
export async function sameErrorTracedAndNot(c: Collector, fn: () => Promise<unknown>, points: string[]): Promise<Event[]> {
  const untraced = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(untraced).toBeInstanceOf(Error);
  const { baseId, result } = await c.trace(() =>
    fn().then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  expect(result).toBeInstanceOf(Error);
  const u = untraced as Error & { code?: unknown };
  const t = result as Error & { code?: unknown };
  expect(t.constructor).toBe(u.constructor);
  expect(t.message.replace(/\d+/g, 'N')).toBe(u.message.replace(/\d+/g, 'N'));
  expect(t.code).toBe(u.code);
  const ev = await c.events(baseId);
  assertBalanced(ev);
  for (const name of points) {
    const s = starts(ev, name);
    expect(s.length).toBeGreaterThan(0);
    for (const p of s) {
      const stop = stopOf(ev, p)!;
      expect(stop.info.etype).toBe(t.constructor.name);
      expect(stop.info.message).toBe(t.message);
    }
  }
  return ev;
}
