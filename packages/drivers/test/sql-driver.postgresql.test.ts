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

it('postgresql:// tags in the summary row: odd characters kept, a common tag (walked in time order) and a rare one (GIN) both found', async () => {
  const sql = postgresAccess();
  const prefix = uniquePrefix();
  const driver = (await createDriver(`${POSTGRES_URL}?table_prefix=${prefix}`)) as PostgresDriver;
  try {
    const t0 = Date.UTC(2026, 2, 1);
    const at = (ms: number) => new Date(t0 + ms).toISOString().replace('Z', '000').slice(0, 26);
    const trace = (i: number, service: string, host = 'h'): Notification => ({
      name: 'wsgi-start', base_id: `b${String(i).padStart(5, '0')}`, trace_id: `t${i}`, parent_id: `b${String(i).padStart(5, '0')}`,
      timestamp: at(i), info: { host }, project: 'p', service,
    });
    // More traces of one service than the rare-tag bound (2,000), some of another among them.
    const odd = 'a"b\\c,{d} e\'f';
    const batch: Notification[] = [];
    for (let i = 0; i < 2100; i++) batch.push(trace(i, i % 100 === 7 ? odd : 'common', i % 500 === 3 ? 'rare-host' : 'h'));
    await driver.notify(batch);
    await driver.flush();
    const all = async (o: Record<string, unknown>): Promise<string[]> => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await driver.searchTraces({ ...o, limit: 500, ...(cursor ? { cursor } : {}) });
        out.push(...page.traces.map((t) => t.base_id));
        cursor = page.cursor ?? undefined;
      } while (cursor !== undefined);
      return out;
    };
    const want = (f: (i: number) => boolean) => batch.map((_, i) => i).filter(f).reverse().map((i) => `b${String(i).padStart(5, '0')}`);
    // Which form each tag's condition took, from the statements sent.
    const pool = (driver as unknown as { pool: Pool }).pool;
    const sent: string[] = [];
    const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
    (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a) => (sent.push(String(a[0])), query(...a));
    const pages = () => sent.splice(0).filter((q) => q.includes('ORDER BY'));
    expect(await all({ service: 'common' })).toEqual(want((i) => i % 100 !== 7));
    const common = pages();
    expect(common.length).toBeGreaterThan(1);
    for (const q of common) expect(q.includes('= ANY(t.tags)') && !q.includes('@>')).toBe(true);
    expect(await all({ service: odd })).toEqual(want((i) => i % 100 === 7));
    const rare = pages();
    expect(rare.length).toBe(1);
    for (const q of rare) expect(q.includes('t.tags @>') && !q.includes('ANY(t.tags)')).toBe(true);
    expect(await all({ host: 'rare-host' })).toEqual(want((i) => i % 500 === 3));
    expect(await all({ host: 'h', service: odd })).toEqual(want((i) => i % 100 === 7 && i % 500 !== 3));
    const page = await driver.searchTraces({ service: odd, limit: 1 });
    expect(page.traces[0]).toMatchObject({ base_id: 'b02007', services: [odd], projects: ['p'], hosts: ['h'] });
    expect(await all({ service: 'a' })).toEqual([]);
  } finally {
    await driver.close();
    await sql.dropTables(prefix);
    await sql.close();
  }
});

it('postgresql:// tables of an earlier version: the tag table folded into the summary rows and dropped, the duration index dropped', async () => {
  const sql = postgresAccess();
  const prefix = uniquePrefix();
  const t = (name: string) => `${prefix}osprofiler_${name}`;
  try {
    const first = (await createDriver(`${POSTGRES_URL}?table_prefix=${prefix}`)) as PostgresDriver;
    const ids = [randomUUID(), randomUUID()];
    await first.notify(ids.map((id, i) => ({
      name: 'wsgi-start', base_id: id, trace_id: `t${i}`, parent_id: id, timestamp: `2026-11-23T05:00:0${i}.000001`,
      info: { host: `host${i}` }, project: 'shop', service: `svc${i}`,
    })));
    await first.close();
    // The earlier layout: no tags column, a table of tags, an index on duration_us.
    await sql.query(`ALTER TABLE ${t('traces')} DROP COLUMN tags`);
    await sql.query(`CREATE TABLE ${t('tags')} (kind char(1) NOT NULL, value text NOT NULL, base_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, value, base_id))`);
    await sql.query(`CREATE INDEX ${t('traces')}_duration ON ${t('traces')} (duration_us)`);
    for (const [i, id] of ids.entries()) {
      for (const [kind, value] of [['s', `svc${i}`], ['p', 'shop'], ['h', `host${i}`], ['s', 'extra']]) {
        await sql.query(`INSERT INTO ${t('tags')} (kind, value, base_id) VALUES ($1, $2, $3)`, [kind, value, id]);
      }
    }
    const [a, b] = await Promise.all([createDriver(`${POSTGRES_URL}?table_prefix=${prefix}`), createDriver(`${POSTGRES_URL}?table_prefix=${prefix}`)]);
    try {
      expect(await sql.tables(prefix)).toEqual([t('errors'), t('points'), t('traces')]);
      const indexes = await sql.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [t('traces')]);
      expect(indexes.map((r) => r.indexname)).not.toContain(`${t('traces')}_duration`);
      expect(indexes.map((r) => r.indexname)).toContain(`${t('traces')}_tags`);
      const found = (await a.searchTraces!({ service: 'extra', limit: 10 })).traces;
      expect(found.map((x) => x.base_id)).toEqual([ids[1], ids[0]]);
      expect(found[1]).toMatchObject({ services: ['extra', 'svc0'], projects: ['shop'], hosts: ['host0'] });
      expect((await b.searchTraces!({ host: 'host1', limit: 10 })).traces.map((x) => x.base_id)).toEqual([ids[1]]);
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await sql.dropTables(prefix);
    await sql.close();
  }
});
