// The agent:// client's own CPU per point, split into user and system time, this build
// against an older one in the same run (`BENCH_BEFORE=<a copy of an older build's
// packages/agent/dist> node tools/bench/agent-frames.cjs`). Issue 15: what the client's
// framing and socket writes cost the app, the kernel's share included (page faults and
// the copy into the Unix socket show in the system time; BENCH_PERF=1 names them).
//
// One agent (this build's daemon) on the bench's OWN redis-server. Each round forks one
// client process per build, in alternating order: core makes traces of POINTS points at
// RATE traces/s (paced as a service would, core's default flushing), as agent.cjs part 3
// does; after a 1 s warm-up (not counted) the client counts process.cpuUsage() and
// process.resourceUsage().minorPageFault over BENCH_SECONDS of traces and the flush that
// follows. Reported: medians per build, and the median of the per-round ratios after/before.
//
// BENCH_PERF=1 also records each measured client with `perf record -e cpu-clock -F 4000 -g`
// (from the warm-up's end to its exit) and reports its samples as µs a point: all, in the
// kernel, and in _copy_from_iter (the copy of the frames into the socket).
//
// Env: BENCH_BEFORE (required), BENCH_ROUNDS (6), BENCH_SECONDS (4), BENCH_RATE (3000
// traces/s), BENCH_POINTS (6 points a trace: a point is a start+stop pair, as in agent.cjs),
// BENCH_PAD (150 bytes of padding in each notification's info: ~530-byte lines, frames of
// 256 ~136 KB, a little above the compare app's /nested, ~100 KB).
'use strict';
const { fork, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { waitFor } = require('./lib/proc.cjs');
const { pacedTraces } = require('./lib/paced.cjs');
const { startRedis } = require('./compare/lib.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 6);
const SECONDS = Number(process.env.BENCH_SECONDS || 4);
const RATE = Number(process.env.BENCH_RATE || 3000);
const POINTS = Number(process.env.BENCH_POINTS || 6);
const PAD = Number(process.env.BENCH_PAD ?? 150);
const AFTER = path.resolve(__dirname, '../../packages/agent/dist');
const PERF = process.env.BENCH_PERF === '1';
const PERF_HZ = 4000;

function client(dist, socket) {
  const core = require('@osprofiler/core');
  require(path.join(dist, 'register.js'));
  core.configure({ connectionString: `agent://${socket}?exit_hooks=0`, host: 'bench', service: 'bench' });
  const info = { function: { name: 'f' }, pad: 'x'.repeat(PAD) };
  const trace = () =>
    core.run({ hmacKey: 'k' }, () => {
      for (let i = 0; i < POINTS; i++) core.start('fn', info);
      for (let i = 0; i < POINTS; i++) core.stop();
    });
  const run = (total, done) => pacedTraces(core, RATE, total, trace, done);
  run(RATE, () => {
    process.send({ warm: true });
    process.once('message', () => go());
  });
  const go = () => {
    const cpu0 = process.cpuUsage();
    const pf0 = process.resourceUsage().minorPageFault;
    run(Math.round(RATE * SECONDS), (made) => {
      const c = process.cpuUsage(cpu0);
      const faults = process.resourceUsage().minorPageFault - pf0;
      process.send({ points: made * POINTS, user: c.user, sys: c.system, faults });
      setTimeout(() => process.exit(0), 50);
    });
  };
}

/** perf's cpu-clock time (ns) of the whole window, and of the kernel and _copy_from_iter apart. */
function perfSamples(file) {
  const r = spawnSync('perf', ['report', '-i', file, '--stdio', '--no-children', '--sort', 'sym', '-g', 'none'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const total = Number((/# Event count \(approx\.\): (\d+)/.exec(r.stdout) ?? [])[1] ?? NaN);
  let kernel = 0;
  let copy = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+([\d.]+)%\s+\[k\]\s+(\S+)/.exec(line);
    if (!m) continue;
    kernel += Number(m[1]);
    if (m[2] === '_copy_from_iter') copy += Number(m[1]);
  }
  return { total, kernel: (total * kernel) / 100, copy: (total * copy) / 100 };
}

function flushdb(port) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1', () => s.write('*1\r\n$7\r\nFLUSHDB\r\n'));
    s.once('data', () => {
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!process.env.BENCH_BEFORE) throw new Error('BENCH_BEFORE=<a copy of an older build of packages/agent/dist> is required');
  const BEFORE = path.resolve(process.env.BENCH_BEFORE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-frames-'));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const { port } = await startRedis(dir, children);
  const socket = path.join(dir, 'agent.sock');
  const agent = spawn(process.execPath, [path.join(AFTER, 'daemon.js'), '--listen', socket, '--backend', `redis://127.0.0.1:${port}/0`], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(agent);
  let aerr = '';
  agent.stderr.on('data', (d) => (aerr += d));
  await waitFor('agent', () => /listening on/.test(aerr), 15_000);

  const one = async (dist) => {
    const c = fork(__filename, ['--client', dist, socket], { stdio: 'inherit' });
    children.push(c);
    await new Promise((resolve) => c.once('message', resolve)); // warm
    let perf;
    const file = path.join(dir, 'perf.data');
    if (PERF) {
      perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-g', '-p', String(c.pid), '-o', file], { stdio: 'ignore' });
      children.push(perf);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const result = new Promise((resolve) => c.once('message', resolve));
    c.send('go');
    const r = await result;
    await new Promise((resolve) => (c.exitCode === null ? c.once('exit', resolve) : resolve()));
    await flushdb(port);
    const out = { user: r.user / r.points, sys: r.sys / r.points, faults: r.faults / r.points };
    if (perf) {
      // perf stops by itself when the process exits.
      await new Promise((resolve) => (perf.exitCode === null ? perf.once('exit', resolve) : resolve()));
      const p = perfSamples(file);
      const us = 1e-3 / r.points;
      Object.assign(out, { perfAll: p.total * us, perfKernel: p.kernel * us, perfCopy: p.copy * us });
    }
    return out;
  };
  console.log(`agent:// client CPU per point: ${POINTS}-point traces at ${RATE} traces/s, ${PAD} bytes of padding in each notification's info, ${SECONDS} s per window, ${ROUNDS} rounds; Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  await one(AFTER); // warms the agent (not counted)
  const res = { before: [], after: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['after', 'before'] : ['before', 'after'];
    for (const v of order) res[v].push(await one(v === 'after' ? AFTER : BEFORE));
    const f = (x) =>
      `user ${x.user.toFixed(2)} sys ${x.sys.toFixed(2)} faults ${x.faults.toFixed(3)}` +
      (PERF ? ` perf: all ${x.perfAll.toFixed(2)} kernel ${x.perfKernel.toFixed(2)} _copy_from_iter ${x.perfCopy.toFixed(3)}` : '');
    console.log(`round ${r + 1}: before ${f(res.before[r])} | after ${f(res.after[r])}`);
  }
  console.log('µs (faults: count) a point (a start+stop pair), medians:');
  for (const k of ['user', 'sys', 'faults', ...(PERF ? ['perfAll', 'perfKernel', 'perfCopy'] : [])]) {
    const b = median(res.before.map((x) => x[k]));
    const a = median(res.after.map((x) => x[k]));
    const ratio = median(res.after.map((x, i) => x[k] / res.before[i][k]));
    console.log(`  ${k.padEnd(6)} before ${b.toFixed(3)}  after ${a.toFixed(3)}  after/before (median of per-round ratios) ${ratio.toFixed(3)}`);
  }
  const tot = (x) => x.user + x.sys;
  console.log(`  total  before ${median(res.before.map(tot)).toFixed(3)}  after ${median(res.after.map(tot)).toFixed(3)}  ratio ${median(res.after.map((x, i) => tot(x) / tot(res.before[i]))).toFixed(3)}`);
  agent.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  process.exit(0);
}

if (process.argv[2] === '--client') client(process.argv[3], process.argv[4]);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
