// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, db test): fails when it is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { get } from '@osprofiler/core';
import { instrumentKnex } from '@osprofiler/knex';
import { collector, starts, stopOf, assertBalanced, type Collector } from '../../../tools/testing/point-collector';
import { concurrencyAbovePoolSize, sameErrorTracedAndNot, tableName } from './scenarios';

const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
let c: Collector;
let db: Knex;
const table = tableName('osp_knex_pg');
const afterCreateHooks: Array<(conn: any) => void> = [];

beforeAll(async () => {
  c = await collector();
  db = instrumentKnex(
    knexFactory({
      client: 'pg',
      connection,
      pool: {
        min: 0,
        max: 2,
        afterCreate: (conn: any, done: (err: Error | null, conn: any) => void) => {
          for (const h of afterCreateHooks) h(conn);
          done(null, conn);
        },
      },
    }),
    { traceDb: true, showParams: true },
  );
  await db.schema.createTable(table, (t) => {
    t.increments('id');
    t.integer('req').index();
  });
});

afterAll(async () => {
  await db.schema.dropTableIfExists(table);
  await db.destroy();
});

describe('knex on PostgreSQL (pg)', () => {
  it('keeps 20 concurrent requests apart on a pool of 2, with pool wait', async () => {
    await concurrencyAbovePoolSize(c, db, table, 'select pg_sleep(0.02)');
  });

  it('records the positioned statement the driver receives', async () => {
    const { baseId } = await c.trace(() => db(table).where({ req: 7 }).select('id'));
    const sql = starts(await c.events(baseId), 'sql')[0];
    expect(sql.info.db.statement).toBe(`select "id" from "${table}" where "req" = $1`);
    expect(sql.info.db.params).toEqual([7]);
  });

  it('records the positioned statement again when the same text repeats (remembered), and escaped ? as ?', async () => {
    const { baseId } = await c.trace(async () => {
      for (let i = 0; i < 3; i++) await db(table).where({ req: i }).whereIn('id', [i, i + 1]).select('id');
      await db.raw(`select ? as a, '\\?' as b, ? as c`, [1, 2]);
    });
    const sqls = starts(await c.events(baseId), 'sql').map((e) => e.info.db.statement);
    expect(sqls).toEqual([
      ...Array(3).fill(`select "id" from "${table}" where "req" = $1 and "id" in ($2, $3)`),
      `select $1 as a, '?' as b, $2 as c`,
    ]);
  });

  it('a failing query: same error as untraced, points stopped once', async () => {
    await sameErrorTracedAndNot(c, () => db.raw('select * from osp_no_such_table'), ['db', 'sql']);
  });

  it('a driver that throws synchronously: same error as untraced', async () => {
    afterCreateHooks.push((conn) => {
      const query = conn.query;
      conn.query = function (this: unknown, ...args: any[]) {
        const text = typeof args[0] === 'string' ? args[0] : args[0]?.text;
        if (typeof text === 'string' && text.includes('osp_throw_sync')) throw new TypeError('driver threw synchronously');
        return query.apply(this, args);
      };
    });
    try {
      await db.destroy();
      db.initialize();
      await sameErrorTracedAndNot(c, () => db.raw('select 1 as osp_throw_sync'), ['db', 'sql']);
    } finally {
      afterCreateHooks.length = 0;
    }
  });

  it('a connection dropped mid-query: the app gets the driver\'s own error; points stop once', async () => {
    const admin = new pg.Client(connection);
    await admin.connect();
    const driverErrors: unknown[] = [];
    const onError = (err: unknown) => driverErrors.push(err);
    db.client.on('query-error', onError);
    const dropped = async (marker: string): Promise<unknown> => {
      const q = db.raw(`select pg_sleep(10) as ${marker}`).then(
        () => undefined,
        (e: unknown) => e,
      );
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
      const untraced = await dropped(`osp_drop_u_${process.pid}`);
      const { baseId, result } = await c.trace(() => dropped(`osp_drop_t_${process.pid}`));
      expect(untraced).toBeInstanceOf(Error);
      expect(result).toBeInstanceOf(Error);
      // pg reports either the server's "terminating connection" or the socket's end, by timing.
      const kinds = /terminating connection due to administrator command|Connection terminated unexpectedly/;
      expect((untraced as Error).message).toMatch(kinds);
      expect((result as Error).message).toMatch(kinds);
      // The very object the driver raised reached the app.
      expect(driverErrors).toContain(result);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      for (const name of ['db', 'sql']) {
        const s = starts(ev, name);
        expect(s).toHaveLength(1);
        const stop = stopOf(ev, s[0])!;
        expect(stop.info.etype).toBe((result as Error).constructor.name);
        expect(stop.info.message).toBe((result as Error).message);
      }
    } finally {
      db.client.off('query-error', onError);
      await admin.end();
    }
  });

  it('a connection opened inside a request does not carry that request\'s context', async () => {
    await db.destroy();
    db.initialize(); // empty pool: the next query creates the connection
    const seen: unknown[] = [];
    let gotIt: () => void = () => {};
    const notified = new Promise<void>((res) => (gotIt = res));
    afterCreateHooks.push((conn) =>
      conn.on('notification', () => {
        seen.push(get());
        gotIt();
      }),
    );
    const channel = tableName('osp_chan');
    try {
      await c.trace(() => db.raw(`listen ${channel}`));
      const other = new pg.Client(connection);
      await other.connect();
      await other.query(`notify ${channel}`);
      await other.end();
      await notified;
      expect(seen).toEqual([undefined]);
    } finally {
      afterCreateHooks.length = 0;
      await db.raw(`unlisten ${channel}`);
    }
  });

  it('migrations run inside a trace keep its context', async () => {
    const mt = tableName('osp_mig');
    const source = {
      getMigrations: async () => ['001_create'],
      getMigrationName: (m: string) => m,
      getMigration: async () => ({
        up: (k: Knex) => k.schema.createTable(mt, (t) => t.increments('id')),
        down: (k: Knex) => k.schema.dropTable(mt),
      }),
    };
    const config = { migrationSource: source, tableName: `${mt}_log` };
    try {
      const { baseId } = await c.trace(() => db.migrate.latest(config));
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const names = starts(ev, 'db').map((e) => e.info.function.name);
      expect(names).toContain('knex.schema.createTable');
      expect(starts(ev, 'db').some((e) => e.info.db.table === mt)).toBe(true);
      expect(starts(ev, 'sql').length).toBeGreaterThan(names.length);
    } finally {
      await db.migrate.rollback(config, true);
      await db.schema.dropTableIfExists(`${mt}_log`);
      await db.schema.dropTableIfExists(`${mt}_log_lock`);
    }
  });
});
