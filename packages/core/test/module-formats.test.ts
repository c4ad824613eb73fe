import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// These run the BUILT package (dist/) in separate Node processes, as users load it.
const dir = join(__dirname, 'fixtures', 'consumers');

function node(file: string) {
  const r = spawnSync(process.execPath, [join(dir, file)], { encoding: 'utf8', timeout: 20000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim());
}

describe('ESM and CommonJS consumers (separate processes, built package)', () => {
  it('an ESM app imports named exports and shares one instance with require()', () => {
    const out = node('esm-app.mjs');
    expect(out).toEqual({ kind: 'esm', seen: { sameContext: true, base: 'esm-base' }, sameModule: true, points: { esm: { count: 1, duration: expect.any(Number) } }, signs: 'function' });
  });

  it('a CommonJS app requires it', () => {
    const out = node('cjs-app.cjs');
    expect(out).toEqual({ kind: 'cjs', seen: 'cjs-base', points: { cjs: { count: 1, duration: expect.any(Number) } } });
  });

  it('type declarations work for .mts and .cts consumers under module nodenext', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 60000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
