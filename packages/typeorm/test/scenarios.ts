/** Scenarios run against each real server with both TypeORM versions. */
import { expect } from 'vitest';
import type { DataSource } from 'typeorm';
import { assertBalanced, starts, stopOf, type Collector } from '../../../tools/testing/point-collector';
import type { Post, User } from './entities';

/** 20 concurrent traced requests on a pool of 2: nothing lands in another request's trace. */
export async function concurrencyAbovePoolSize(c: Collector, ds: DataSource, UserEntity: unknown, PostEntity: unknown, sleepSql: string): Promise<void> {
  const N = 20;
  const runs = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      c.trace(async () => {
        await ds.query(sleepSql);
        return ds.transaction(async (em) => {
          const u = await em.save(UserEntity as any, { name: `req-${i}` } as User);
          await em.save(PostEntity as any, { title: `post-${i}`, author: u } as Post);
          return em.find(PostEntity as any, { where: { title: `post-${i}` }, relations: { author: true } } as any);
        });
      }),
    ),
  );
  const waits: number[] = [];
  for (let i = 0; i < N; i++) {
    const { baseId, result } = runs[i];
    expect((result as Post[]).map((p) => p.author?.name)).toEqual([`req-${i}`]);
    const ev = await c.events(baseId);
    assertBalanced(ev);
    expect(ev.every((e) => e.base_id === baseId)).toBe(true);
    const dbs = starts(ev, 'db');
    expect(dbs.map((e) => e.info.function.name)).toEqual(['DataSource.query', 'EntityManager.save', 'EntityManager.save', 'EntityManager.find']);
    // DataSource.query's runner connects inside its query: the wait it timed is on that statement.
    const [single] = starts(ev, 'sql').filter((s) => s.parent_id === dbs[0].trace_id);
    expect(typeof stopOf(ev, single)!.info.db?.pool_wait_ms).toBe('number');
    const sqls = starts(ev, 'sql');
    expect(sqls.length).toBeGreaterThanOrEqual(6);
    for (const s of sqls) {
      for (const p of (s.info.db.params as unknown[] | undefined) ?? []) {
        if (typeof p === 'string' && /^(req|post)-\d+$/.test(p)) expect(p.endsWith(`-${i}`)).toBe(true);
      }
      const w = stopOf(ev, s)!.info.db?.pool_wait_ms;
      if (typeof w === 'number') waits.push(w);
    }
  }
  expect(Math.max(...waits)).toBeGreaterThan(20);
}

/** A failing query: the app gets the error it gets untraced; points stop once with etype/message. */
export async function sameErrorTracedAndNot(c: Collector, fn: () => Promise<unknown>): Promise<void> {
  const settle = () => fn().then(() => undefined, (e: unknown) => e);
  const untraced = (await settle()) as Error & { driverError?: { code?: unknown } };
  const { baseId, result } = await c.trace(settle);
  const err = result as Error & { driverError?: { code?: unknown } };
  expect(err).toBeInstanceOf(Error);
  expect(err.constructor).toBe(untraced.constructor);
  expect(err.message).toBe(untraced.message);
  expect(err.driverError?.code).toBe(untraced.driverError?.code);
  const ev = await c.events(baseId);
  assertBalanced(ev);
  for (const name of ['db', 'sql']) {
    const [s] = starts(ev, name);
    expect(stopOf(ev, s)!.info).toMatchObject({ etype: err.constructor.name, message: err.message });
  }
}
