// What `node --require @osprofiler/auto` costs a process that starts worker threads no trace
// started (issue 12, item 9): every worker inherits the preload. Each run is a fresh `node`
// process whose main thread starts N workers (each one `1 + 1`) and waits for them to
// exit; the figures are that process's wall time and its CPU time (all threads, from
// process.cpuUsage(), steadier on a loaded machine), median of RUNS, per mode: plain node, and
// each preload given (default: this repository's packages/auto). OSPROFILER_ENABLED=true
// and a key, so automatic mode is on in the main thread. Modes alternate run by run (order
// rotated) so the load of a shared machine hits them alike.
//   node tools/bench/auto-workers.cjs [--workers 3] [--runs 15] [--preload <entry>]...
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const WORKERS = Number(arg('--workers', '3'));
const RUNS = Number(arg('--runs', '15'));
const preloads = args.flatMap((a, i) => (a === '--preload' ? [path.resolve(args[i + 1])] : []));
if (preloads.length === 0) preloads.push(path.join(__dirname, '../../packages/auto/dist/index.js'));

const APP = `
const { Worker } = require('node:worker_threads');
let left = ${WORKERS};
const done = () => { const c = process.cpuUsage(); process.stdout.write(String((c.user + c.system) / 1000)); };
if (left === 0) done();
for (let i = 0; i < ${WORKERS}; i++) new Worker('1 + 1', { eval: true }).on('exit', () => { if (--left === 0) done(); });
`;

function once(preload) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...(preload ? ['--require', preload] : []), '-e', APP], {
    env: { ...process.env, OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: 'bench-key', OSPROFILER_CONNECTION_STRING: 'memory://' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = Number(r.stdout);
  if (r.status !== 0 || r.stdout === '' || !Number.isFinite(cpu)) throw new Error(`run failed: ${r.status} ${r.stderr}`);
  return { ms, cpu };
}

const modes = [undefined, ...preloads];
const times = modes.map(() => []);
for (let i = 0; i < RUNS; i++) {
  for (let k = 0; k < modes.length; k++) {
    const m = (i + k) % modes.length;
    times[m].push(once(modes[m]));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wall = (m) => median(times[m].map((t) => t.ms));
const cpu = (m) => median(times[m].map((t) => t.cpu));
console.log(`${WORKERS} untraced workers, medians of ${RUNS} processes per mode (wall time; CPU time of all threads)`);
console.log(`  ${'plain node'.padEnd(50)}${wall(0).toFixed(0).padStart(6)} ms wall ${cpu(0).toFixed(0).padStart(6)} ms CPU`);
for (let m = 1; m < modes.length; m++) {
  const label = `--require ${path.relative(process.cwd(), modes[m])}`.padEnd(50);
  console.log(
    `  ${label}${wall(m).toFixed(0).padStart(6)} ms wall ${cpu(m).toFixed(0).padStart(6)} ms CPU   ` +
      `ratio ${(wall(m) / wall(0)).toFixed(2)} wall, ${(cpu(m) / cpu(0)).toFixed(2)} CPU`,
  );
}
