// `node tools/bench/compare/profile.cjs`: where a traced request's time goes, host versus
// profiler. For each variant (BENCH_PROFILE_VARIANTS, default plain,agent) one server runs
// with V8's CPU profiler (--cpu-prof) under wrk on one route (BENCH_PROFILE_ROUTE, hello)
// for BENCH_PROFILE_SECONDS (5) after a 2 s warm-up; the profile's self time is summed per
// owner (OSProfiler.js, Express and its router, Knex, Node's own JS, GC, native/program)
// and divided by the requests served, so plain and traced compare per request: what grew
// in the host's own functions is the perturbation, what is in OSProfiler.js is its own cost.
// Shares are sampled CPU, so they hold on a loaded machine; absolute µs move with it.
'use strict';
const { fork, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib.cjs');
const { ask } = require('../lib/http-bench.cjs');

const VARIANTS = (process.env.BENCH_PROFILE_VARIANTS || 'plain,agent').split(',');
const ROUTE = process.env.BENCH_PROFILE_ROUTE || 'hello';
const SECONDS = Math.round(Number(process.env.BENCH_PROFILE_SECONDS || 5));
// BENCH_PROFILE_FUNCTIONS=N: also the N functions whose self time per request differs most
// between the first and the last variant (name, file:line), to see which host functions grew.
const FUNCTIONS = Number(process.env.BENCH_PROFILE_FUNCTIONS || 0);

function owner(frame) {
  return L.ownerOf(frame.url || '', frame.functionName);
}

/** Self time per request (µs) of each key `keyOf` gives a profile node's frame (idle left out). */
function summarise(file, requests, keyOf = owner) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const k = keyOf(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const out = {};
  for (const [k, us] of self) if (k !== 'idle') out[k] = us / requests;
  return out;
}

/** A function as `name file:line`, file shortened to its package. */
function functionKey(frame) {
  if (frame.functionName === '(idle)') return 'idle';
  const file = (frame.url || '').replace(/^.*node_modules\//, '').replace(/^.*\/packages\//, '@osprofiler/').replace(/^file:\/\/.*\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function wrk(port, seconds) {
  const r = spawnSync('wrk', ['-t1', '-c32', `-d${seconds}s`, '--timeout', '10s', '-s', path.join(__dirname, 'request.lua'), `http://127.0.0.1:${port}/${ROUTE}`], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk failed: ${r.stderr}${r.stdout}`);
  return JSON.parse(line);
}

async function main() {
  L.ensureDependencies();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-profile-'));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const redis = await L.startRedis(dir, children);
  const socket = path.join(dir, 'agent.sock');
  await L.startAgent(socket, `redis://127.0.0.1:${redis.port}/1`, path.join(dir, 'spool'), children);
  const ctx = { redisPort: redis.port, agents: { main: { socket } } };
  const table = {};
  const byFunction = {};
  for (const v of VARIANTS) {
    const { execArgv, env } = L.serverSpec(v, ctx);
    const srv = fork(L.APP, [], { execArgv: [...execArgv, '--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${v}.cpuprofile`], env, stdio: 'inherit' });
    children.push(srv);
    const { port } = await ask(srv, undefined, 'port');
    // The warm-up is in the profile too; the profile is read per request over both.
    const warm = wrk(port, 2);
    const r = wrk(port, SECONDS);
    await ask(srv, 'flush', 'flushed');
    await new Promise((res) => {
      srv.once('exit', res);
      srv.send('stop');
    });
    table[v] = summarise(path.join(dir, `${v}.cpuprofile`), warm.requests + r.requests);
    if (FUNCTIONS > 0) byFunction[v] = summarise(path.join(dir, `${v}.cpuprofile`), warm.requests + r.requests, functionKey);
  }
  const keys = [...new Set(Object.values(table).flatMap((t) => Object.keys(t)))];
  keys.sort((a, b) => (table[VARIANTS.at(-1)][b] ?? 0) - (table[VARIANTS.at(-1)][a] ?? 0));
  console.log(`self time per request (µs, sampled CPU profile), /${ROUTE}, Node ${process.version}; machine shared with other work`);
  console.log(`${'owner'.padEnd(44)}${VARIANTS.map((v) => v.padStart(10)).join('')}${VARIANTS.length > 1 ? '    diff' : ''}`);
  const total = Object.fromEntries(VARIANTS.map((v) => [v, 0]));
  for (const k of keys) {
    const vals = VARIANTS.map((v) => table[v][k] ?? 0);
    VARIANTS.forEach((v, i) => (total[v] += vals[i]));
    if (Math.max(...vals) < 0.3) continue;
    console.log(`${k.padEnd(44)}${vals.map((x) => x.toFixed(1).padStart(10)).join('')}${vals.length > 1 ? (vals.at(-1) - vals[0]).toFixed(1).padStart(8) : ''}`);
  }
  console.log(`${'total'.padEnd(44)}${VARIANTS.map((v) => total[v].toFixed(1).padStart(10)).join('')}`);
  if (FUNCTIONS > 0 && VARIANTS.length > 1) {
    const [a, b] = [byFunction[VARIANTS[0]], byFunction[VARIANTS.at(-1)]];
    const rows = [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, a[k] ?? 0, b[k] ?? 0]);
    rows.sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
    console.log(`\nfunctions, self µs per request: ${VARIANTS[0]}, ${VARIANTS.at(-1)}, diff (the ${FUNCTIONS} largest differences; sampled, so read several runs)`);
    for (const [k, x, y] of rows.slice(0, FUNCTIONS)) console.log(`${x.toFixed(2).padStart(8)}${y.toFixed(2).padStart(8)}${(y - x).toFixed(2).padStart(8)}  ${k}`);
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
