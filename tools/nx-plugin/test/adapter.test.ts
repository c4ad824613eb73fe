// `nx g @osprofiler/tools:adapter` for real: generates a package with a unique name inside
// this workspace (using its node_modules), builds, lints and tests it through Nx, and removes
// it again (also when a step fails).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const nxBin = join(root, 'node_modules/nx/dist/bin/nx.js');
const name = `zz-gen-${process.pid}-${Date.now().toString(36)}`;
const pkgDir = join(root, 'packages', name);
const bench = join(root, 'tools/bench', `${name}.cjs`);
const eslintConfig = join(root, 'eslint.config.mjs');

// A clean Nx environment: this test may itself run as an Nx task (its NX_TASK_* must not leak in).
const env: NodeJS.ProcessEnv = { NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' };
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NX_') && !k.startsWith('VITEST') && k !== 'NODE_ENV') env[k] = v;

function nx(args: string[], timeoutMs: number): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [nxBin, ...args], { cwd: root, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('nx g @osprofiler/tools:adapter', () => {
  afterAll(() => {
    rmSync(pkgDir, { recursive: true, force: true });
    rmSync(bench, { force: true });
    const text = readFileSync(eslintConfig, 'utf8');
    if (text.includes(`,${name}}`)) writeFileSync(eslintConfig, text.split(`,${name}}`).join('}'));
  });

  it('scaffolds an adapter package that builds, lints clean and passes its own test', () => {
    const gen = nx(['g', '@osprofiler/tools:adapter', name, '--no-interactive'], 60_000);
    expect(gen.status, gen.out).toBe(0);

    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'vitest.config.mts', 'README.md', `test/${name}.test.ts`]) {
      expect(existsSync(join(pkgDir, f)), f).toBe(true);
    }
    for (const f of ['index', 'hook', 'points', 'options', 'register', 'contained']) expect(existsSync(join(pkgDir, 'src', `${f}.ts`)), f).toBe(true);
    expect(existsSync(bench)).toBe(true);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe(`@osprofiler/${name}`);
    expect(pkg.nx.tags).toEqual(['scope:lib', 'type:adapter']);
    expect(pkg.publishConfig).toEqual({ access: 'public' });
    expect(pkg.exports['./register'].import.default).toBe('./dist/register.mjs');
    expect(readFileSync(join(pkgDir, 'README.md'), 'utf8')).toContain('| `enabled` | `boolean` | `true` |');
    // The adapter lint rules (module boundaries, catch-contained) cover the new package.
    expect(readFileSync(eslintConfig, 'utf8').match(new RegExp(`,${name}\\}/src`, 'g'))).toHaveLength(2);

    const run = nx(['run-many', '-t', 'build', 'lint', 'test', `--projects=@osprofiler/${name}`, '--outputStyle=stream'], 150_000);
    expect(run.status, run.out).toBe(0);
    expect(existsSync(join(pkgDir, 'dist/index.mjs'))).toBe(true);
    expect(existsSync(join(pkgDir, 'dist/register.js'))).toBe(true);
    const report = JSON.parse(readFileSync(join(pkgDir, 'test-results.json'), 'utf8'));
    expect(report.numPassedTests).toBe(3);
    expect(report.numFailedTests).toBe(0);
  });

  it('refuses a bad name and an existing package, naming the problem', () => {
    const bad = nx(['g', '@osprofiler/tools:adapter', 'Bad_Name', '--no-interactive'], 60_000);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/Bad_Name/);
    const taken = nx(['g', '@osprofiler/tools:adapter', 'core', '--no-interactive'], 60_000);
    expect(taken.status).not.toBe(0);
    expect(taken.out).toContain('packages/core exists already');
  });
});
