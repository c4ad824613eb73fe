/** postgresql:// against the real PostgreSQL on 127.0.0.1:5432 (db test), tables of its own. */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createDriver } from '@osprofiler/core';
import type { Notification } from '@osprofiler/core';
import { expect, it } from 'vitest';
import { PostgresDriver } from '../src/index';
import { sqlDriverCases } from './support/sql-cases';
import { postgresAccess, POSTGRES_URL, uniquePrefix } from './support/sql';

sqlDriverCases('postgresql', postgresAccess);

it('postgresql:// the server drops our connections: later writes go through new ones, failures are counted', async () => {
  const sql = postgresAccess();
  const prefix = uniquePrefix();
  const app = `osp_${prefix}`;
  const driver = (await createDriver(`${POSTGRES_URL}?table_prefix=${prefix}&application_name=${app}`)) as PostgresDriver;
  try {
    const baseId = randomUUID();
    const note = (i: number): Notification => ({
      name: `p${i}-start`, base_id: baseId, trace_id: `t${i}`, parent_id: baseId,
      timestamp: `2026-11-23T05:00:00.00000${i}`, info: { host: 'h' }, project: null, service: 's',
    });
    await driver.notify([note(1)]);
    const killed = await sql.query<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [app]);
    expect(killed.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    const results = await Promise.allSettled([2, 3, 4].map((i) => driver.notify([note(i)])));
    await driver.notify([note(5)]);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(driver.counters.written).toBe(2 + ok);
    expect(driver.counters.failed).toBe(3 - ok);
    const stored = (await driver.getReport(baseId)).children.map((c) => c.info.name);
    expect(stored).toContain('p1');
    expect(stored).toContain('p5');
    expect(stored).toHaveLength(2 + ok);
  } finally {
    await driver.close();
    await sql.dropTables(prefix);
    await sql.close();
  }
});

it("postgresql:// synchronous_commit is every connection's startup parameter, the user's own `options` kept", async () => {
  const sql = postgresAccess();
  const prefix = uniquePrefix();
  const opened: PostgresDriver[] = [];
  const open = async (query: string): Promise<PostgresDriver> => {
    const d = (await createDriver(`${POSTGRES_URL}?table_prefix=${prefix}${query}`)) as PostgresDriver;
    opened.push(d);
    return d;
  };
  const show = async (d: PostgresDriver, name: string): Promise<string[]> => {
    // Every connection of the pool at once (held together: each its own backend).
    const pool = (d as unknown as { pool: Pool }).pool;
    const clients = await Promise.all(Array.from({ length: 3 }, () => pool.connect()));
    try {
      return await Promise.all(clients.map(async (c) => ((await c.query(`SHOW ${name}`)).rows[0] as Record<string, string>)[name]));
    } finally {
      for (const c of clients) c.release();
    }
  };
  try {
    const off = await open('&pool_size=3');
    // Queries at once on fresh connections.
    await Promise.all([1, 2, 3].map((i) => off.notify([{ name: `p${i}-start`, base_id: randomUUID(), trace_id: 't', parent_id: 'p', timestamp: '2026-11-23T05:00:00.000001', info: { host: 'h' }, project: null, service: 's' }])));
    expect(await show(off, 'synchronous_commit')).toEqual(['off', 'off', 'off']);
    const on = await open('&pool_size=3&synchronous_commit=on');
    expect(await show(on, 'synchronous_commit')).toEqual(['on', 'on', 'on']);
    const own = await open(`&pool_size=3&options=${encodeURIComponent('-c statement_timeout=12345')}`);
    expect(await show(own, 'statement_timeout')).toEqual(['12345ms', '12345ms', '12345ms']);
    expect(await show(own, 'synchronous_commit')).toEqual(['off', 'off', 'off']);
  } finally {
    for (const d of opened) await d.close();
    await sql.dropTables(prefix);
    await sql.close();
  }
});
