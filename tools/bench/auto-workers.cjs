// What `node --require @osprofiler/auto` costs a process that starts worker threads no trace
// started (issue 12, item 9): every worker inherits the preload. Each run is a fresh
// `node` process whose main thread starts N workers (each one `1 + 1`) and waits for them
// to exit; the figure is that process's wall time, median of RUNS, with and without the
// preload (OSPROFILER_ENABLED=true and a key, so automatic mode is on in the main thread).
// Modes alternate run by run so the load of a shared machine hits them alike.
//   node tools/bench/auto-workers.cjs [--workers 3] [--runs 15] [--preload <entry>]
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const WORKERS = Number(arg('--workers', '3'));
const RUNS = Number(arg('--runs', '15'));
const PRELOAD = path.resolve(arg('--preload', path.join(__dirname, '../../packages/auto/dist/index.js')));

const APP = `
const { Worker } = require('node:worker_threads');
let left = ${WORKERS};
if (left === 0) process.stdout.write('done');
for (let i = 0; i < ${WORKERS}; i++) new Worker('1 + 1', { eval: true }).on('exit', () => { if (--left === 0) process.stdout.write('done'); });
`;

function once(preload) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...(preload ? ['--require', PRELOAD] : []), '-e', APP], {
    env: { ...process.env, OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: 'bench-key', OSPROFILER_CONNECTION_STRING: 'memory://' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || r.stdout !== 'done') throw new Error(`run failed: ${r.status} ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = [];
const auto = [];
for (let i = 0; i < RUNS; i++) {
  if (i % 2 === 0) {
    plain.push(once(false));
    auto.push(once(true));
  } else {
    auto.push(once(true));
    plain.push(once(false));
  }
}
const p = median(plain);
const a = median(auto);
console.log(`${WORKERS} untraced workers, median of ${RUNS} processes (preload ${path.relative(process.cwd(), PRELOAD)})`);
console.log(`  plain node          ${p.toFixed(0)} ms`);
console.log(`  --require auto      ${a.toFixed(0)} ms   ratio ${(a / p).toFixed(2)}`);
