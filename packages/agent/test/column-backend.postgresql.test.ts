// The raw path into a driver that stores columns: the agent forwards line records to
// text-storing drivers as they are, and parses them back into notifications for the
// others. Backend: the real PostgreSQL on 127.0.0.1:5432 (db test), tables of its own.
import { afterAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { startAgent, AgentClientDriver, clientOptionsFromUrl } from '@osprofiler/agent';
import { configure, createDriver, flush, get, run, shutdown, traced } from '@osprofiler/core';
import { postgresAccess, POSTGRES_URL, uniquePrefix } from '../../drivers/test/support/sql';
import { tempDir } from './support/procs';

const sql = postgresAccess();
const prefix = uniquePrefix();
afterAll(async () => {
  await sql.dropTables(prefix);
  await sql.close();
});

it('agent:// → agent → postgresql://: traced points, error index and reads through the agent', async () => {
  const socket = join(tempDir('pg'), 'agent.sock');
  const backend = `${POSTGRES_URL}?table_prefix=${prefix}`;
  const agent = await startAgent({ socketPath: socket, backend, driverOptions: { filterErrorTrace: true } });
  try {
    configure({ connectionString: `agent://${socket}?exit_hooks=0`, service: 'orders', project: 'shop', host: 'node-1', flushIntervalMs: 5 });
    let baseId = '';
    await run({ hmacKey: 'k' }, async () => {
      baseId = get()?.baseId ?? '';
      traced('db', { db: { statement: 'SELECT "é"', params: [] } }, () => 1);
      try {
        traced('fails', {}, () => {
          throw new TypeError('boom');
        });
      } catch {
        // expected: traced rethrows after recording the error
      }
    });
    await flush(10_000);
    expect(agent.metrics.written).toBeGreaterThanOrEqual(4);
    expect(agent.metrics.dropped.bad_points).toBe(0);

    // Read straight from PostgreSQL, and through the agent: the same report.
    const direct = await createDriver(backend);
    const report = await direct.getReport(baseId);
    const names = report.children.map((c) => c.info.name);
    expect(names).toEqual(expect.arrayContaining(['db', 'fails']));
    const db = report.children.find((c) => c.info.name === 'db');
    expect(db?.info['meta.raw_payload.db-start']).toMatchObject({ info: { db: { statement: 'SELECT "é"' }, host: 'node-1' }, project: 'shop', service: 'orders' });
    expect((await direct.listErrorTraces()).map((t) => t.base_id)).toContain(baseId);
    const reader = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?exit_hooks=0`)));
    expect(await reader.getReport(baseId)).toEqual(report);
    await reader.close();
    await direct.close();
  } finally {
    await shutdown(5_000);
    await agent.stop();
  }
}, 60_000);
