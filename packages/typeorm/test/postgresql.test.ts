// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, db test): fails when it is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { get } from '@osprofiler/core';
import { instrumentDataSource } from '@osprofiler/typeorm';
import { assertBalanced, collector, starts, stopOf, type Collector } from '../../../tools/testing/point-collector';
import { schemas, VERSIONS } from './entities';
import { concurrencyAbovePoolSize, sameErrorTracedAndNot } from './scenarios';

const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

describe.each(VERSIONS)('TypeORM %s on PostgreSQL (pg)', (_version, t) => {
  let c: Collector;
  const { UserEntity, PostEntity, userTable, postTable } = schemas(t);
  const ds = instrumentDataSource(
    new t.DataSource({
      type: 'postgres',
      host: connection.host,
      port: connection.port,
      username: connection.user,
      database: connection.database,
      entities: [UserEntity, PostEntity],
      synchronize: true,
      extra: { max: 2 },
    }),
    { traceDb: true, showParams: true },
  );

  beforeAll(async () => {
    c = await collector();
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.query(`drop table if exists "${postTable}", "${userTable}" cascade`);
    await ds.destroy();
  });

  it('keeps 20 concurrent requests apart on a pool of 2, with pool wait', async () => {
    await concurrencyAbovePoolSize(c, ds, UserEntity, PostEntity, 'select pg_sleep(0.02)');
  });

  it('records the real SQL with $n placeholders', async () => {
    const { baseId } = await c.trace(() => ds.getRepository(UserEntity).findOneBy({ name: 'req-3' }));
    const ev = await c.events(baseId);
    expect(starts(ev, 'db')[0].info.db).toMatchObject({ system: 'postgresql', client: 'postgres', database: 'test', entity: 'User', table: userTable });
    expect(starts(ev, 'sql')[0].info.db.statement).toMatch(/WHERE .*"name" = \$1/);
    expect(starts(ev, 'sql')[0].info.db.params).toEqual(['req-3']);
  });

  it('a failing query: same error as untraced, points stopped once', async () => {
    await sameErrorTracedAndNot(c, () => ds.query('select * from osp_no_such_table'));
  });

  it('a connection dropped mid-query: same kind of error as untraced, points stopped once', async () => {
    const admin = new pg.Client(connection);
    await admin.connect();
    const dropped = async (marker: string): Promise<unknown> => {
      const q = ds.query(`select pg_sleep(10) as ${marker}`).then(() => undefined, (e: unknown) => e);
      for (let i = 0; i < 200; i++) {
        const r = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where query like '%' || $1 || '%' and pid <> pg_backend_pid()`,
          [marker],
        );
        if (r.rows.length > 0) break;
        await new Promise((res) => setTimeout(res, 10));
      }
      return q;
    };
    try {
      const untraced = (await dropped(`osp_tdrop_u_${process.pid}`)) as Error;
      const { baseId, result } = await c.trace(() => dropped(`osp_tdrop_t_${process.pid}`));
      const err = result as Error;
      expect(err.constructor).toBe(untraced.constructor);
      const kinds = /terminating connection due to administrator command|Connection terminated unexpectedly/;
      expect(untraced.message).toMatch(kinds);
      expect(err.message).toMatch(kinds);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      for (const name of ['db', 'sql']) {
        const s = starts(ev, name);
        expect(s).toHaveLength(1);
        expect(stopOf(ev, s[0])!.info).toMatchObject({ etype: err.constructor.name, message: err.message });
      }
    } finally {
      await admin.end();
    }
  });

  it('pool connections opened inside a request do not carry that request\'s context', async () => {
    const other = instrumentDataSource(
      new t.DataSource({ type: 'postgres', host: connection.host, port: connection.port, username: 'postgres', database: 'test', extra: { max: 3 } }),
    );
    await other.initialize();
    const channel = `osp_chan_${process.pid}_${Date.now()}`;
    const seen: unknown[] = [];
    const pool = (other.driver as unknown as { master: pg.Pool }).master;
    pool.on('connect', (client) => client.on('notification', () => seen.push(get())));
    try {
      await c.trace(async () => {
        // Three runners connected at once: the pool has to open new connections now.
        const runners = [0, 1, 2].map(() => other.createQueryRunner());
        await Promise.all(runners.map((r) => r.connect()));
        await Promise.all(runners.map((r) => r.query(`listen ${channel}`)));
        await Promise.all(runners.map((r) => r.release()));
      });
      const notifier = new pg.Client(connection);
      await notifier.connect();
      await notifier.query(`notify ${channel}`);
      await notifier.end();
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.every((p) => p === undefined)).toBe(true);
    } finally {
      await other.destroy();
    }
  });
});
