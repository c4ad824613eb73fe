/**
 * A trace that went past `maxTracePoints` (core) is stored with the dropped-points marker,
 * and `osprofiler trace show` says how many points were cut (the real binary, file:// store).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { configure, run, shutdown, traced } from '@osprofiler/core';
import { BIN, tempDir } from './helpers';

const dir = tempDir('osprofiler-cli-budget-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('trace show warns that N points were dropped, and shows the recorded ones', async () => {
  configure({ connectionString: `file://${dir}`, host: 'h', service: 'api', maxTracePoints: 4 });
  const base = 'cccccccc-0000-4000-8000-000000000016';
  await run({ hmacKey: 'k', baseId: base }, () =>
    traced('wsgi', { request: { method: 'GET', path: '/big', query: '', scheme: 'http' } }, async () => {
      for (let i = 0; i < 10; i++) await traced('db', { db: { statement: `SELECT ${i}` } }, async () => i);
    }),
  );
  await shutdown();
  const r = spawnSync(process.execPath, [BIN, 'trace', 'show', base, '--connection-string', `file://${dir}`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('warning: the trace is incomplete: 7 points dropped before storage');
  expect(r.stdout.match(/SELECT \d/g)?.sort()).toEqual(['SELECT 0', 'SELECT 1', 'SELECT 2']);
});
