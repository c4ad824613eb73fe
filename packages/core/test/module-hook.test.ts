import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureCounts } from '../src/index';
import { hookModule, moduleHookStatus, onModuleLoad } from '../src/instrument';

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

describe('hookModule: supported version ranges', () => {
  it('instruments a copy inside the range, leaves one outside alone, and says why', () => {
    const root = mkdtempSync(join(tmpdir(), 'osp-module-hook-'));
    try {
      for (const [sub, version] of [['old', '1.4.0'], ['new', '2.1.0']] as const) {
        const d = join(root, sub, 'node_modules', 'osp-versioned-lib');
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'osp-versioned-lib', version, main: 'index.js' }));
        writeFileSync(join(d, 'index.js'), `module.exports = { kind: 'osp-versioned-lib', version: '${version}' };`);
      }
      const seen: string[] = [];
      hookModule({
        name: 'versioned', packageName: 'osp-versioned-lib', versions: '>=2 <3',
        matches: (e) => (e as { kind?: string } | null)?.kind === 'osp-versioned-lib',
        instrument: (e: { version: string }) => seen.push(e.version),
      });
      req(join(root, 'old', 'node_modules', 'osp-versioned-lib'));
      req(join(root, 'new', 'node_modules', 'osp-versioned-lib'));
      expect(seen).toEqual(['2.1.0']);
      const status = moduleHookStatus().filter((e) => e.name === 'versioned');
      expect(status).toEqual([
        { name: 'versioned', version: '1.4.0', instrumented: false, reason: 'version 1.4.0 is outside >=2 <3' },
        { name: 'versioned', version: '2.1.0', instrumented: true },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
