import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDriver } from '../src/index';

describe('exit flush (separate process, built package)', () => {
  it('points still buffered when the program ends are written by the beforeExit hook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osp-exit-'));
    try {
      const r = spawnSync(process.execPath, [join(__dirname, 'fixtures/consumers/exit-without-flush.cjs'), dir], { encoding: 'utf8', timeout: 20000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = await (await createDriver(`file://${dir}`)).getReport('exit-base');
      expect(report.stats).toEqual({ last: { count: 1, duration: expect.any(Number) } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
