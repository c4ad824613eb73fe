// `npm test`: builds, lints and tests every project through Nx, then prints the real
// totals from each project's vitest JSON report as one closing line CI can read.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ws = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const dirs = [];
for (const pattern of ws) {
  const base = pattern.replace(/\/\*$/, '');
  for (const name of existsSync(join(root, base)) ? (await import('node:fs')).readdirSync(join(root, base)) : []) {
    if (existsSync(join(root, base, name, 'package.json'))) dirs.push(join(root, base, name));
  }
}
for (const d of dirs) rmSync(join(d, 'test-results.json'), { force: true });

const extra = process.argv.slice(2);
const nx = spawnSync(
  process.execPath,
  [join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', 'lint', 'test', '--outputStyle=stream', ...extra],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false' } },
);

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
const status = nx.status ?? 1;
if (reports === 0) {
  console.error('run-tests: no test report was written');
  process.exit(status || 1);
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
