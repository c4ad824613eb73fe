// `npm test`: prepares the machine (Debian packages, local services, the version fixtures'
// own installs), then builds, lints, type-checks (sources and tests) and tests every project through Nx in two phases, and
// prints the real totals from each project's vitest JSON report as one closing line CI reads.
//
// Phase 1 runs the light projects in parallel. Phase 2 runs the projects tagged `test:heavy`
// (real brokers, kill/outage tests, browsers) one at a time: two of them at once oversubscribe
// a 2-core machine and their bounded waits start timing out.
//
// `npm test -- --projects=core,express` (any Nx run-many option) runs one phase with those options.
// OSPROFILER_SKIP_SETUP=1 skips the preparation.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' };
const HEAVY = 'tag:test:heavy';

function subdirs(base) {
  const dir = join(root, base);
  return existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(dir, d.name)) : [];
}

/** Every directory that can hold a project's test-results.json: the workspaces, and tools/* Nx projects. */
function projectDirs() {
  const ws = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
  const dirs = [];
  for (const pattern of ws) {
    const candidates = pattern.endsWith('/*') ? subdirs(pattern.slice(0, -2)) : [join(root, pattern)]; // tools/nx-plugin is one workspace
    dirs.push(...candidates.filter((d) => existsSync(join(d, 'package.json'))));
  }
  dirs.push(...subdirs('tools').filter((d) => existsSync(join(d, 'project.json'))));
  return dirs;
}

function step(what, cmd, args, options = {}) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env, ...options });
  console.log(`run-tests: ${what} ${r.status === 0 ? 'done' : `FAILED (${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status ?? 1;
}

/** The version fixtures (e.g. Nest 11 and 12 side by side) are install trees with their own lockfiles. `npm ci` only when the lockfile changed since the last install. */
function installFixtures() {
  for (const pkgDir of subdirs('packages')) {
    for (const fixture of subdirs(relative(root, join(pkgDir, 'test/fixtures')))) {
      const lock = join(fixture, 'package-lock.json');
      if (!existsSync(lock)) continue;
      const hash = createHash('sha256').update(readFileSync(lock)).digest('hex');
      const stamp = join(fixture, 'node_modules/.osprofiler-lock-sha256');
      if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) continue;
      const status = step(`npm ci in ${relative(root, fixture)}`, 'npm', ['ci', '--prefix', fixture, '--no-audit', '--no-fund', '--prefer-offline']);
      if (status === 0) writeFileSync(stamp, hash);
    }
  }
}

const extra = process.argv.slice(2);
if (process.env.OSPROFILER_SKIP_SETUP !== '1') {
  step('machine set-up', 'bash', [join(root, 'tools/scripts/setup-machine.sh')]);
  installFixtures();
}

const dirs = projectDirs();
for (const d of dirs) rmSync(join(d, 'test-results.json'), { force: true });

const nx = (args) => step(`nx ${args.join(' ')}`, process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args]);
const targets = ['run-many', '-t', 'build', 'lint', 'typecheck', 'test', '--outputStyle=stream'];
let status;
if (extra.length > 0) {
  status = nx([...targets, ...extra]);
} else {
  const light = nx([...targets, `--exclude=${HEAVY}`]);
  const heavy = nx([...targets, `--projects=${HEAVY}`, '--parallel=1']);
  status = light !== 0 ? light : heavy;
}

let passed = 0, failed = 0, skipped = 0, reports = 0;
for (const d of dirs) {
  const f = join(d, 'test-results.json');
  if (!existsSync(f)) continue;
  const r = JSON.parse(readFileSync(f, 'utf8'));
  reports++;
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
if (reports === 0) {
  console.error('run-tests: no test report was written');
  process.exit(status || 1);
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
