import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkgDir = resolve(__dirname, '..');

function runApp(flag: string, file: string): Array<{ name: string; info: any }> {
  const r = spawnSync(process.execPath, [flag, '@osprofiler/knex/register', resolve(__dirname, 'fixtures', file)], {
    cwd: pkgDir,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('automatic mode, in a separate node process', () => {
  it('node --import @osprofiler/knex/register traces an ESM app that never calls instrumentKnex', () => {
    const ev = runApp('--import', 'auto-app.mjs');
    expect(ev.map((e) => e.name)).toEqual(['db-start', 'sql-start', 'sql-stop', 'db-stop']);
    expect(ev[0].info.function.name).toBe('knex.raw');
    expect(ev[1].info.db.statement).toBe('select 1 as one');
  });

  it('node --require @osprofiler/knex/register traces a CommonJS app', () => {
    const ev = runApp('--require', 'auto-app.cjs');
    expect(ev.map((e) => e.name)).toEqual(['db-start', 'sql-start', 'sql-stop', 'db-stop']);
    expect(ev[0].info.db.table).toBe('sqlite_master');
  });
});
