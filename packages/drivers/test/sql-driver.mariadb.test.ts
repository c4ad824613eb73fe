/** mysql:// against the real MariaDB on 127.0.0.1:3306 (db test), tables of its own. */
import { sqlDriverCases } from './support/sql-cases';
import { mysqlAccess } from './support/sql';
import { createDriver } from '@osprofiler/core';
import { expect, it } from 'vitest';

sqlDriverCases('mysql (MariaDB)', mysqlAccess);

it('mysql:// a wrong password: the error names the user and host, never the password', async () => {
  const err = (await createDriver('mysql://root:not-the-pw-42@127.0.0.1:3306/test').catch((e: Error) => e)) as Error;
  expect(err.message).toMatch(/^mysql:\/\/ storage at 127\.0\.0\.1:3306\/test is not usable: Access denied for user 'root'/);
  expect(err.message).not.toContain('not-the-pw-42');
});
