import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { get } from '@osprofiler/core';
import { instrumentDataSource, setTraceDb } from '@osprofiler/typeorm';
import { assertBalanced, collector, starts, stopOf, type Collector } from '../../../tools/testing/point-collector';
import { schemas, VERSIONS, type User, type Post } from './entities';

describe.each(VERSIONS)('TypeORM %s on SQLite (better-sqlite3)', (_version, t) => {
  let c: Collector;
  const { UserEntity, PostEntity, userTable } = schemas(t);
  const ds = instrumentDataSource(
    new t.DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [UserEntity, PostEntity], synchronize: true }),
  );

  beforeAll(async () => {
    c = await collector();
    await ds.initialize();
    const users = ds.getRepository(UserEntity);
    const ann = await users.save({ name: 'ann' });
    await users.save({ name: 'bob' });
    await ds.getRepository(PostEntity).save({ title: 'hello', author: ann });
  });
  afterAll(async () => {
    setTraceDb(undefined);
    await ds.destroy();
  });

  it('records one db point for a Repository call (not one per layer), with entity, table and rows', async () => {
    const { baseId, result } = await c.trace(() => ds.getRepository(UserEntity).find({ order: { id: 'ASC' } }));
    expect(result.map((u: User) => u.name)).toEqual(['ann', 'bob']);
    const ev = await c.events(baseId);
    assertBalanced(ev);
    const dbs = starts(ev, 'db');
    expect(dbs).toHaveLength(1);
    expect(dbs[0].info.function.name).toBe('UserRepository.find');
    expect(dbs[0].info.db).toEqual({ system: 'sqlite', client: 'better-sqlite3', operation: 'find', database: ':memory:', entity: 'User', table: userTable });
    expect(stopOf(ev, dbs[0])!.info.db.rows).toBe(2);
    expect(starts(ev, 'sql')).toHaveLength(0);
  });

  it('records the same start info, field for field and in order, for a repository called again (made once per method)', async () => {
    const users = ds.getRepository(UserEntity);
    const { baseId } = await c.trace(async () => {
      for (let i = 1; i <= 3; i++) await users.findOneBy({ id: i });
      await users.count();
      await users.findOneBy({ id: 1 });
      await ds.getRepository(PostEntity).findOneBy({ id: 1 });
    });
    const ev = await c.events(baseId);
    assertBalanced(ev);
    const text = (e: { info: Record<string, unknown> }): string => {
      const { host: _host, ...info } = e.info;
      return JSON.stringify(info);
    };
    const user = (op: string): string =>
      `{"function":{"name":"UserRepository.${op}"},"db":{"system":"sqlite","client":"better-sqlite3","operation":"${op}","database":":memory:","entity":"User","table":${JSON.stringify(userTable)}}}`;
    const dbs = starts(ev, 'db');
    expect(dbs.slice(0, 5).map(text)).toEqual([user('findOneBy'), user('findOneBy'), user('findOneBy'), user('count'), user('findOneBy')]);
    expect(dbs[5].info.function.name).toBe('PostRepository.findOneBy');
    expect(dbs[5].info.db.entity).toBe('Post');
    expect(dbs.map((e) => stopOf(ev, e)!.info.db?.rows)).toEqual([1, 1, 0, undefined, 1, 1]); // count(): a number, no rows
  });

  it('records EntityManager and QueryBuilder operations as their own points', async () => {
    const { baseId } = await c.trace(async () => {
      await ds.manager.findOneBy(UserEntity, { name: 'ann' });
      await ds.createQueryBuilder(UserEntity, 'u').where('u.name = :n', { n: 'bob' }).getMany();
      await ds.createQueryBuilder().insert().into(UserEntity).values({ name: 'tmp' }).execute();
      await ds.createQueryBuilder().delete().from(UserEntity).where('name = :n', { n: 'tmp' }).execute();
    });
    const ev = await c.events(baseId);
    assertBalanced(ev);
    const dbs = starts(ev, 'db');
    expect(dbs.map((e) => e.info.function.name)).toEqual([
      'EntityManager.findOneBy',
      'SelectQueryBuilder.getMany',
      'InsertQueryBuilder.execute',
      'DeleteQueryBuilder.execute',
    ]);
    expect(dbs[0].info.db.entity).toBe('User');
    expect(dbs[0].info.db.table).toBe(userTable);
    expect(dbs.map((e) => e.info.db.operation)).toEqual(['findOneBy', 'select', 'insert', 'delete']);
    expect(stopOf(ev, dbs[0])!.info.db.rows).toBe(1);
    expect(stopOf(ev, dbs[3])!.info.db.rows).toBe(1);
  });

  it('with trace_db switched on at run time: sql points with the real SQL under the one db point', async () => {
    setTraceDb(true);
    try {
      const { baseId } = await c.trace(() => ds.getRepository(UserEntity).findBy({ name: 'ann' }));
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const [dbp] = starts(ev, 'db');
      const sqls = starts(ev, 'sql');
      expect(sqls).toHaveLength(1);
      expect(sqls[0].parent_id).toBe(dbp.trace_id);
      expect(sqls[0].info.db.statement).toMatch(new RegExp(`^SELECT .* FROM "${userTable}" "User" WHERE .*"User"."name" = \\?`));
      expect(sqls[0].info.db.params).toBeUndefined();
    } finally {
      setTraceDb(false);
    }
  });

  it('with trace_db: a statement run again records the same sql start info (statement only, no params); different texts their own', async () => {
    setTraceDb(true);
    try {
      const users = ds.getRepository(UserEntity);
      const { baseId } = await c.trace(async () => {
        for (let i = 0; i < 3; i++) await users.findOneBy({ name: 'ann' });
        // TypeORM writes primary keys into the SQL text: a new statement each time.
        for (let i = 1; i <= 3; i++) await users.findOneBy({ id: i });
      });
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const sqls = starts(ev, 'sql');
      expect(sqls).toHaveLength(6);
      const text = (e: { info: Record<string, unknown> }): string => {
        const { host: _host, ...info } = e.info;
        return JSON.stringify(info);
      };
      expect(new Set(sqls.slice(0, 3).map(text)).size).toBe(1);
      expect(Object.keys(sqls[0].info.db)).toEqual(['statement']);
      expect(sqls.slice(3).map((e) => /= (\d+)\)\) LIMIT 1$/.exec(e.info.db.statement as string)?.[1])).toEqual(['1', '2', '3']);
    } finally {
      setTraceDb(false);
    }
  });

  it('shows params with showParams and cuts long statements', async () => {
    instrumentDataSource(ds, { traceDb: true, showParams: true, maxStatementLength: 30 });
    try {
      const { baseId } = await c.trace(() => ds.query('select ? as a, ? as b', [1, 'two']));
      const ev = await c.events(baseId);
      expect(starts(ev, 'db')[0].info.function.name).toBe('DataSource.query');
      const [s] = starts(ev, 'sql');
      expect(s.info.db.params).toEqual([1, 'two']);
      expect(s.info.db.statement).toBe('select ? as a, ? as b');
      const long = await c.trace(() => ds.query(`select 1 as ${'x'.repeat(60)}`));
      expect(starts(await c.events(long.baseId), 'sql')[0].info.db.statement).toMatch(/^select 1 as x{18}\.\.\. \[cut, length 72\]$/);
    } finally {
      instrumentDataSource(ds);
    }
  });

  it('keeps the context through transactions and relation loading', async () => {
    setTraceDb(true);
    try {
      const { baseId, result } = await c.trace(() =>
        ds.transaction(async (em) => {
          const u = await em.save(UserEntity, { name: 'carl' });
          await em.save(PostEntity, { title: 'second', author: u });
          expect(get()).toBeDefined();
          const posts = await em.find(PostEntity, { relations: { author: true }, order: { id: 'ASC' } });
          await em.delete(PostEntity, { title: 'second' });
          await em.delete(UserEntity, { name: 'carl' });
          return posts;
        }),
      );
      expect(result.map((p: Post) => p.author?.name)).toEqual(['ann', 'carl']);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const dbs = starts(ev, 'db');
      expect(dbs.map((e) => e.info.function.name)).toEqual([
        'EntityManager.save',
        'EntityManager.save',
        'EntityManager.find',
        'EntityManager.delete',
        'EntityManager.delete',
      ]);
      for (const d of dbs) expect(d.parent_id).toBe(baseId);
      const sqls = starts(ev, 'sql');
      expect(sqls[0].info.db.statement).toMatch(/^BEGIN/);
      expect(sqls.at(-1)!.info.db.statement).toMatch(/^COMMIT/);
      const join = sqls.find((s) => /LEFT JOIN/.test(s.info.db.statement))!;
      expect(join.parent_id).toBe(dbs[2].trace_id);
    } finally {
      setTraceDb(false);
    }
  });

  it('a failing query (better-sqlite3 throws synchronously in prepare): same error as untraced, points stop once', async () => {
    setTraceDb(true);
    try {
      const fail = () => ds.query('select * from osp_no_such_table').then(() => undefined, (e: unknown) => e);
      const untraced = (await fail()) as Error;
      const { baseId, result } = await c.trace(fail);
      const err = result as Error;
      expect(err.constructor).toBe(untraced.constructor);
      expect(['QueryFailedError', 'SqliteError']).toContain(err.constructor.name); // 0.3.26 lets SqliteError through
      expect(err.message).toBe(untraced.message);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      for (const name of ['db', 'sql']) {
        const [s] = starts(ev, name);
        expect(stopOf(ev, s)!.info).toMatchObject({ etype: err.constructor.name, message: err.message });
      }
    } finally {
      setTraceDb(false);
    }
  });

  it('a QueryRunner that throws synchronously (stream on SQLite): same error as untraced, points stop once', async () => {
    setTraceDb(true);
    try {
      const fail = () => ds.createQueryBuilder(UserEntity, 'u').stream().then(() => undefined, (e: unknown) => e);
      const untraced = (await fail()) as Error;
      const { baseId, result } = await c.trace(fail);
      const err = result as Error;
      expect(err.constructor).toBe(untraced.constructor);
      expect(err.message).toBe(untraced.message);
      expect(err.message).toMatch(/Stream is not supported/);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const [d] = starts(ev, 'db');
      expect(d.info.function.name).toBe('SelectQueryBuilder.stream');
      expect(stopOf(ev, d)!.info).toMatchObject({ etype: err.constructor.name, message: err.message });
      const [s] = starts(ev, 'sql');
      expect(s.parent_id).toBe(d.trace_id);
      expect(stopOf(ev, s)!.info).toMatchObject({ etype: err.constructor.name, message: err.message });
    } finally {
      setTraceDb(false);
    }
  });
});
