// The lowest and highest Knex versions of the supported range (npm aliases), on SQLite.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { instrumentKnex, setTraceDb } from '@osprofiler/knex';
import { assertBalanced, collector, starts } from '../../../tools/testing/point-collector';

const require_ = createRequire(__filename);
const VERSIONS = ['knex-low', 'knex'].map((name) => {
  const main = require_.resolve(name);
  const { version } = JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string };
  return [version, require_(name)] as [string, (config: object) => any];
});

afterAll(() => setTraceDb(undefined));

describe.each(VERSIONS)('knex %s', (_version, knexFactory) => {
  it('records db points, sql points (trace_db), transactions and errors', async () => {
    const c = await collector({ traceDb: true });
    const db = instrumentKnex(knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }));
    try {
      await db.schema.createTable('t', (t: any) => t.increments('id'));
      const { baseId } = await c.trace(async () => {
        await db('t').insert({});
        await db.transaction(async (trx: any) => trx('t').select());
        await db.raw('select * from nope').catch(() => undefined);
      });
      const ev = await c.events(baseId);
      assertBalanced(ev);
      expect(starts(ev, 'db').map((e) => e.info.function.name)).toEqual(['knex.insert', 'knex.select', 'knex.raw']);
      expect(starts(ev, 'sql').map((e) => e.info.db.statement.split(' ')[0].toLowerCase())).toEqual(['insert', 'begin;', 'select', 'commit;', 'select']);
      expect(ev.find((e) => e.name === 'db-stop' && e.info.etype !== undefined)?.info.etype).toBe('SqliteError');
    } finally {
      await db.destroy();
    }
  });
});
