import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import knexFactory, { type Knex } from 'knex';
import { get } from '@osprofiler/core';
import { instrumentKnex, setTraceDb, CUT_MARKER } from '@osprofiler/knex';
import { assertBalanced, collector, starts, stopOf, type Collector } from '../../../tools/testing/point-collector';

let db: Knex;
let c: Collector;

beforeAll(async () => {
  c = await collector();
  db = instrumentKnex(knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }));
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('name').index();
  });
  await db('users').insert([{ name: 'ann' }, { name: 'bob' }]);
});

afterAll(async () => {
  setTraceDb(undefined);
  await db.destroy();
});

describe('knex on SQLite (better-sqlite3)', () => {
  it('records a db point per operation with operation, table, client, database and rows', async () => {
    const { baseId, result } = await c.trace(async () => {
      const rows = await db('users').select('*').orderBy('id');
      const one = await db('users').where({ name: 'bob' }).first();
      const n = await db('users').where({ name: 'nobody' }).update({ name: 'x' });
      return { rows, one, n };
    });
    expect(result.rows).toHaveLength(2);
    expect(result.one.name).toBe('bob');
    expect(result.n).toBe(0);
    const ev = await c.events(baseId);
    assertBalanced(ev);
    const dbs = starts(ev, 'db');
    expect(dbs.map((e) => e.info.function.name)).toEqual(['knex.select', 'knex.first', 'knex.update']);
    expect(dbs[0].info.db).toEqual({ system: 'sqlite', client: 'better-sqlite3', operation: 'select', table: 'users', database: ':memory:' });
    expect(dbs[1].info.db.operation).toBe('select');
    expect(stopOf(ev, dbs[0])!.info.db.rows).toBe(2);
    expect(stopOf(ev, dbs[1])!.info.db.rows).toBe(1);
    expect(stopOf(ev, dbs[2])!.info.db.rows).toBe(0);
    expect(starts(ev, 'sql')).toHaveLength(0); // trace_db off
    for (const e of dbs) expect(e.parent_id).toBe(baseId);
  });

  it('records the same start info, field for field and in order, for repeated operations (made once per shape)', async () => {
    const { baseId } = await c.trace(async () => {
      for (let i = 0; i < 3; i++) await db('users').where({ id: i }).first();
      await db('users as u').first();
      await db('users').select('id');
      for (let i = 0; i < 2; i++) await db('nosuch').first().catch(() => undefined);
    });
    const ev = await c.events(baseId);
    assertBalanced(ev);
    const text = (e: { info: Record<string, unknown> }): string => {
      const { host: _host, ...info } = e.info;
      return JSON.stringify(info);
    };
    const db0 = '"system":"sqlite","client":"better-sqlite3","operation":"select"';
    expect(starts(ev, 'db').map(text)).toEqual([
      ...Array(3).fill(`{"function":{"name":"knex.first"},"db":{${db0},"table":"users","database":":memory:"}}`),
      `{"function":{"name":"knex.first"},"db":{${db0},"table":"users as u","database":":memory:"}}`,
      `{"function":{"name":"knex.select"},"db":{${db0},"table":"users","database":":memory:"}}`,
      ...Array(2).fill(`{"function":{"name":"knex.first"},"db":{${db0},"table":"nosuch","database":":memory:"}}`),
    ]);
    // A failing operation on a shared start info still stops with its own error info.
    const failed = starts(ev, 'db').slice(5).map((e) => stopOf(ev, e)!.info);
    for (const f of failed) expect(f.etype).toBe('SqliteError');
  });

  it('records one sql point per statement under its db point when trace_db is switched on at run time', async () => {
    setTraceDb(true);
    try {
      const { baseId } = await c.trace(async () => {
        await db('users').where('name', 'ann').select('id');
        await db.raw('select ? as v', [42]);
      });
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const dbs = starts(ev, 'db');
      const sqls = starts(ev, 'sql');
      expect(sqls).toHaveLength(2);
      expect(sqls[0].parent_id).toBe(dbs[0].trace_id);
      expect(sqls[0].info.db.statement).toBe('select `id` from `users` where `name` = ?');
      expect(sqls[0].info.db.params).toBeUndefined(); // hidden by default
      expect(typeof sqls[0].info.db.pool_wait_ms).toBe('number');
      expect(dbs[1].info.function.name).toBe('knex.raw');
      expect(dbs[1].info.db.operation).toBe('select');
      expect(sqls[1].parent_id).toBe(dbs[1].trace_id);
    } finally {
      setTraceDb(false);
    }
    const { baseId } = await c.trace(() => db('users').select());
    expect(starts(await c.events(baseId), 'sql')).toHaveLength(0);
  });

  it('shows params with showParams and cuts long statements with a marker', async () => {
    const k = instrumentKnex(knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }), {
      traceDb: true,
      showParams: true,
      maxStatementLength: 40,
    });
    try {
      const { baseId } = await c.trace(async () => {
        await k.raw('select ? as a, ? as b', [1, 'two']);
        await k.raw(`select 1 as ${'x'.repeat(100)}`);
      });
      const sqls = starts(await c.events(baseId), 'sql');
      expect(sqls[0].info.db.params).toEqual([1, 'two']);
      expect(sqls[1].info.db.statement).toBe(`${`select 1 as ${'x'.repeat(100)}`.slice(0, 40)}${CUT_MARKER}112]`);
    } finally {
      await k.destroy();
    }
  });

  it('records a failing query with etype/message and passes the very same error to the app', async () => {
    setTraceDb(true);
    try {
      let untraced: unknown;
      try {
        await db('no_such_table').select();
      } catch (e) {
        untraced = e;
      }
      const { baseId, result } = await c.trace(async () => {
        try {
          await db('no_such_table').select();
          return undefined;
        } catch (e) {
          return e;
        }
      });
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).constructor).toBe((untraced as Error).constructor);
      expect((result as Error).message).toBe((untraced as Error).message);
      const ev = await c.events(baseId);
      assertBalanced(ev);
      for (const name of ['db', 'sql']) {
        const s = starts(ev, name);
        expect(s).toHaveLength(1);
        const stop = stopOf(ev, s[0])!;
        expect(stop.info.etype).toBe('SqliteError');
        expect(stop.info.message).toContain('no such table');
      }
    } finally {
      setTraceDb(false);
    }
  });

  it('keeps the context through transactions, with BEGIN/COMMIT as sql points', async () => {
    setTraceDb(true);
    try {
      const { baseId } = await c.trace(async () => {
        await db.transaction(async (trx) => {
          await trx('users').insert({ name: 'carl' });
          expect(get()).toBeDefined();
          await trx('users').where({ name: 'carl' }).del();
        });
      });
      const ev = await c.events(baseId);
      assertBalanced(ev);
      const dbs = starts(ev, 'db');
      expect(dbs.map((e) => e.info.function.name)).toEqual(['knex.insert', 'knex.del']);
      expect(dbs[1].info.db.operation).toBe('delete');
      const statements = starts(ev, 'sql').map((e) => e.info.db.statement.toLowerCase());
      expect(statements[0]).toMatch(/^begin/);
      expect(statements.at(-1)).toMatch(/^commit/);
      expect(statements).toHaveLength(4);
    } finally {
      setTraceDb(false);
    }
  });

  it('traces streams and schema operations; untraced work records nothing', async () => {
    const { baseId } = await c.trace(async () => {
      const seen: unknown[] = [];
      const s = db('users').select('name').stream();
      for await (const row of s) seen.push(row);
      expect(seen).toHaveLength(2);
      await db.schema.createTable('tmp_stream', (t) => t.increments('id'));
      await db.schema.dropTable('tmp_stream');
    });
    const ev = await c.events(baseId);
    assertBalanced(ev);
    expect(starts(ev, 'db').map((e) => e.info.function.name)).toEqual([
      'knex.select.stream',
      'knex.schema.createTable',
      'knex.schema.dropTable',
    ]);
    expect(starts(ev, 'db')[1].info.db.table).toBe('tmp_stream');
    await db('users').select(); // no trace: nothing to record, nothing thrown
  });
});
