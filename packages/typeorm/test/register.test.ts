import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkgDir = resolve(__dirname, '..');

function runApp(flag: string, file: string): Array<{ name: string; info: any }> {
  const r = spawnSync(process.execPath, [flag, '@osprofiler/typeorm/register', resolve(__dirname, 'fixtures', file)], {
    cwd: pkgDir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('automatic mode, in a separate node process', () => {
  it('node --import @osprofiler/typeorm/register traces an ESM app that never calls instrumentDataSource', () => {
    const ev = runApp('--import', 'auto-app.mjs');
    expect(ev.map((e) => e.name)).toEqual(['db-start', 'sql-start', 'sql-stop', 'db-stop']);
    expect(ev[0].info.function.name).toBe('ThingRepository.find');
    expect(ev[1].info.db.statement).toMatch(/^SELECT .* FROM "thing"/);
  });

  it('node --require @osprofiler/typeorm/register traces a CommonJS app', () => {
    const ev = runApp('--require', 'auto-app.cjs');
    const dbs = ev.filter((e) => e.name === 'db-start');
    expect(dbs.map((e) => e.info.function.name)).toEqual(['EntityManager.save']);
    const sqls = ev.filter((e) => e.name === 'sql-start').map((e) => e.info.db.statement);
    expect(sqls).toContain('BEGIN TRANSACTION');
    expect(sqls.some((s: string) => s.startsWith('INSERT INTO "thing"'))).toBe(true);
  });
});
