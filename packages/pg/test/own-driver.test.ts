import { afterAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { configure, createDriver, failureCounts, flush, run, shutdown } from '@osprofiler/core';
import { registerDrivers } from '@osprofiler/drivers';
import { instrumentPg } from '../src/index';

// The profiler stores into PostgreSQL through the same pg module this adapter patches: its
// own writes (schema, COPY, index upserts) must never show up as points. Own tables.
const PREFIX = `osp_pgown_${process.pid}_`;
const URL = `postgresql://postgres@127.0.0.1:5432/test?table_prefix=${PREFIX}`;
const pool = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:5432/test', max: 1 });

afterAll(async () => {
  await shutdown();
  for (const t of ['osprofiler_points', 'osprofiler_errors', 'osprofiler_traces', 'osprofiler_tags']) await pool.query(`DROP TABLE IF EXISTS ${PREFIX}${t}`);
  await pool.end();
});

it('a trace stored by the postgresql:// driver holds the app’s db points only', async () => {
  registerDrivers();
  expect(instrumentPg(pg)).toBe(true);
  configure({ enabled: true, hmacKeys: ['k'], connectionString: URL, flushIntervalMs: 5 });
  const baseId = randomUUID();
  await run({ hmacKey: 'k', baseId }, async () => {
    await pool.query('SELECT 1 AS one');
    await pool.query('SELECT 2 AS two');
  });
  await flush();
  // A second trace makes the driver write again (its tables exist now) while traced work runs.
  const second = randomUUID();
  await run({ hmacKey: 'k', baseId: second }, async () => {
    await Promise.all([pool.query('SELECT 3 AS three'), flush()]);
  });
  await flush();
  const reader = await createDriver(URL);
  try {
    const events = ((await reader.getReport(baseId)) as any).stats;
    expect(events.db.count).toBe(2);
    const again = ((await reader.getReport(second)) as any).stats;
    expect(again.db.count).toBe(1);
  } finally {
    await reader.close();
  }
  expect(Object.keys(failureCounts()).filter((k) => k.startsWith('pg.'))).toEqual([]);
});
