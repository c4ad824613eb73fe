import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { failureCounts } from '../src/index';
import { onModuleLoad } from '../src/instrument';

const req = createRequire(__filename);
const dir = join(__dirname, 'fixtures', 'modules');

describe('onModuleLoad (shared Module._load hook)', () => {
  it('instruments a matching module once when it is loaded; same name again is a no-op', () => {
    const seen: unknown[] = [];
    const isFixture = (e: unknown) => (e as { kind?: string } | null)?.kind === 'osp-fixture-lib';
    onModuleLoad('fixture', isFixture, (e) => seen.push(e));
    onModuleLoad('fixture', isFixture, (e) => seen.push(e));
    const lib = req(join(dir, 'fixture-lib.cjs'));
    req(join(dir, 'fixture-lib.cjs')); // cached: same exports, not instrumented twice
    expect(seen).toEqual([lib]);
  });

  it('a throwing instrumenter is contained and counted; the module still loads', () => {
    onModuleLoad('broken', (e) => (e as { kind?: string } | null)?.kind === 'osp-broken-lib', () => {
      throw new Error('unknown shape');
    });
    expect(req(join(dir, 'broken-lib.cjs'))).toEqual({ kind: 'osp-broken-lib' });
    expect(failureCounts()['broken.instrument']).toBe(1);
  });
});
