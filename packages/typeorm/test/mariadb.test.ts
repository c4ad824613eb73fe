// Needs MariaDB on 127.0.0.1:3306 (root, no password, db test): fails when it is down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentDataSource } from '@osprofiler/typeorm';
import { collector, starts, type Collector } from '../../../tools/testing/point-collector';
import { schemas, VERSIONS } from './entities';
import { concurrencyAbovePoolSize, sameErrorTracedAndNot } from './scenarios';

describe.each(VERSIONS)('TypeORM %s on MariaDB (mysql2)', (_version, t) => {
  let c: Collector;
  const { UserEntity, PostEntity, userTable, postTable } = schemas(t);
  const ds = instrumentDataSource(
    new t.DataSource({
      type: 'mariadb',
      host: '127.0.0.1',
      port: 3306,
      username: 'root',
      database: 'test',
      entities: [UserEntity, PostEntity],
      synchronize: true,
      extra: { connectionLimit: 2 },
    }),
    { traceDb: true, showParams: true },
  );

  beforeAll(async () => {
    c = await collector();
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.query(`drop table if exists \`${postTable}\`, \`${userTable}\``);
    await ds.destroy();
  });

  it('keeps 20 concurrent requests apart on a pool of 2, with pool wait', async () => {
    await concurrencyAbovePoolSize(c, ds, UserEntity, PostEntity, 'select sleep(0.02)');
  });

  it('records the real SQL', async () => {
    const { baseId } = await c.trace(() => ds.getRepository(UserEntity).findOneBy({ name: 'req-3' }));
    const ev = await c.events(baseId);
    expect(starts(ev, 'db')[0].info.db).toMatchObject({ system: 'mariadb', client: 'mariadb', database: 'test', entity: 'User' });
    expect(starts(ev, 'sql')[0].info.db.statement).toMatch(new RegExp(`FROM \`${userTable}\` .*WHERE .*\`name\` = \\?`));
  });

  it('a failing query: same error as untraced, points stopped once', async () => {
    await sameErrorTracedAndNot(c, () => ds.query('select * from osp_no_such_table'));
  });
});
