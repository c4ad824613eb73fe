// Needs MariaDB on 127.0.0.1:3306 (root, no password, db test): fails when it is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knexFactory, { type Knex } from 'knex';
import { instrumentKnex } from '@osprofiler/knex';
import { collector, starts, type Collector } from '../../../tools/testing/point-collector';
import { concurrencyAbovePoolSize, sameErrorTracedAndNot, tableName } from './scenarios';

let c: Collector;
let db: Knex;
const table = tableName('osp_knex_my');

beforeAll(async () => {
  c = await collector();
  db = instrumentKnex(
    knexFactory({
      client: 'mysql2',
      connection: { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' },
      pool: { min: 0, max: 2 },
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

describe('knex on MariaDB (mysql2)', () => {
  it('keeps 20 concurrent requests apart on a pool of 2, with pool wait', async () => {
    await concurrencyAbovePoolSize(c, db, table, 'select sleep(0.02)');
  });

  it('records db and sql points with the real statement', async () => {
    const { baseId } = await c.trace(() => db(table).where({ req: 3 }).select('id'));
    const ev = await c.events(baseId);
    expect(starts(ev, 'db')[0].info.db).toEqual({ system: 'mysql', client: 'mysql2', operation: 'select', table, database: 'test' });
    expect(starts(ev, 'sql')[0].info.db.statement).toBe(`select \`id\` from \`${table}\` where \`req\` = ?`);
  });

  it('a failing query: same error as untraced, points stopped once', async () => {
    await sameErrorTracedAndNot(c, () => db.raw('select * from osp_no_such_table'), ['db', 'sql']);
  });
});
