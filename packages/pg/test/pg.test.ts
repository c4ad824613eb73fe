import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import knexFactory from 'knex';
import { setTraceDb } from '@osprofiler/core';
import { instrumentKnex } from '@osprofiler/knex';
import { instrumentPg } from '../src/index';
import { assertBalanced, collector, starts, stopOf, type Collector } from '../../../tools/testing/point-collector';

// Real PostgreSQL (127.0.0.1:5432, db test); this file's own table.
const URL = 'postgresql://postgres@127.0.0.1:5432/test';
const TABLE = `osp_pg_adapter_${process.pid}`;
let c: Collector;
let pool: pg.Pool;

beforeAll(async () => {
  expect(instrumentPg(pg)).toBe(true);
  expect(instrumentPg(pg)).toBe(false); // patched once
  c = await collector();
  pool = new pg.Pool({ connectionString: URL, max: 1 });
  await pool.query(`CREATE TABLE ${TABLE} (name text, legs int)`);
  await pool.query(`INSERT INTO ${TABLE} VALUES ('cat', 4), ('bird', 2)`);
});
afterAll(async () => {
  setTraceDb(false);
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await pool.end();
});

describe('pg used directly', () => {
  it('pool.query: one db point with rows and pool wait; with trace_db a sql point inside, bindings hidden', async () => {
    setTraceDb(true);
    try {
      const { baseId, result } = await c.trace(() => pool.query(`SELECT name FROM ${TABLE} WHERE legs = $1`, [4]));
      expect(result.rows).toEqual([{ name: 'cat' }]);
      const evts = await c.events(baseId);
      assertBalanced(evts);
      const [db] = starts(evts, 'db');
      expect(starts(evts, 'db')).toHaveLength(1);
      expect(db.info).toMatchObject({ function: { name: 'pg.Pool.query' }, db: { system: 'postgresql', client: 'pg', operation: 'select' } });
      const stop = stopOf(evts, db)!;
      expect(stop.info.db.rows).toBe(1);
      expect(typeof stop.info.db.pool_wait_ms).toBe('number');
      const [sql] = starts(evts, 'sql');
      expect(starts(evts, 'sql')).toHaveLength(1);
      expect(sql.parent_id).toBe(db.trace_id);
      expect(sql.info.db.statement).toBe(`SELECT name FROM ${TABLE} WHERE legs = $1`);
      expect(sql.info.db.params).toBeUndefined();
    } finally {
      setTraceDb(false);
    }
  });

  it('client.query (promise and callback), and a failing query records its error', async () => {
    const client = await pool.connect();
    try {
      const { baseId } = await c.trace(async () => {
        await client.query(`UPDATE ${TABLE} SET legs = legs WHERE name = 'bird'`);
        await new Promise<void>((ok, fail) => client.query(`SELECT count(*) FROM ${TABLE}`, (err) => (err ? fail(err) : ok())));
        await expect(client.query('SELECT * FROM osp_pg_no_such_table')).rejects.toThrow(/does not exist/);
      });
      const evts = await c.events(baseId);
      assertBalanced(evts);
      const dbs = starts(evts, 'db');
      expect(dbs.map((e) => e.info.db.operation)).toEqual(['update', 'select', 'select']);
      expect(dbs.every((e) => e.info.function.name === 'pg.Client.query')).toBe(true);
      expect(stopOf(evts, dbs[0])!.info.db.rows).toBe(1);
      expect(stopOf(evts, dbs[2])!.info).toMatchObject({ etype: 'DatabaseError' });
      expect(starts(evts, 'sql')).toHaveLength(0); // trace_db off
    } finally {
      client.release();
    }
  });

  it('outside a trace nothing is recorded and results are unchanged', async () => {
    const r = await pool.query(`SELECT legs FROM ${TABLE} WHERE name = 'cat'`);
    expect(r.rows).toEqual([{ legs: 4 }]);
  });
});

describe('Knex on pg, both instrumented', () => {
  it('each query is one db point (Knex’s), not two', async () => {
    const knex = instrumentKnex(knexFactory({ client: 'pg', connection: URL, pool: { min: 0, max: 1 } }));
    try {
      setTraceDb(true);
      const { baseId, result } = await c.trace(() => knex(TABLE).where({ name: 'cat' }).select('legs'));
      expect(result).toEqual([{ legs: 4 }]);
      const evts = await c.events(baseId);
      assertBalanced(evts);
      const dbs = starts(evts, 'db');
      expect(dbs).toHaveLength(1);
      expect(dbs[0].info.function.name).toBe('knex.select');
      expect(starts(evts, 'sql')).toHaveLength(1); // Knex's statement point only
    } finally {
      setTraceDb(false);
      await knex.destroy();
    }
  });
});
