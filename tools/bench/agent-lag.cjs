// What a lagging agent costs the traced app (issue 15): the compare app (compare/app.cjs,
// Express 5 + Knex, every request traced, automatic mode) sends to an agent:// daemon of
// its own, writing to its own redis-server, under wrk load on /nested (6 points a request).
// `paused`: the agent is stopped (SIGSTOP) 250 ms of every 500 ms during the measured
// window, so the app's client holds what the agent has not acknowledged yet; `normal`: not.
// Per window: req/s, the app's CPU µs a request (/proc), the agent's, and the app's GCs
// (perf_hooks 'gc' entries, a preload): scavenges and their time a request, full GCs, and
// the heap at the end. BENCH_AGENT_DIST=<copy of packages/agent inside this tree> alternates
// that client build with this one (ABBA per mode, lib/core-dist.cjs), so a change to the
// client's queue shows in the same run. Load from wrk (Debian). Env: BENCH_ROUNDS (2),
// BENCH_SECONDS (6), BENCH_MODES (paused,normal), BENCH_LAG_MS (250).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork, spawn, spawnSync } = require('node:child_process');
// Loaded by the bench itself only: this file is also the app's GC preload (gcChild).
const bench = () => ({ L: require('./compare/lib.cjs') });
const { ask } = require('./lib/http-bench.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const SECONDS = Number(process.env.BENCH_SECONDS || 6);
const MODES = (process.env.BENCH_MODES || 'paused,normal').split(',');
const LAG_MS = Number(process.env.BENCH_LAG_MS || 250);
const BEFORE = process.env.BENCH_AGENT_DIST;
const GC_PRELOAD = __filename; // this file, preloaded in the app with BENCH_GC_CHILD=1

/** In the app: GC counts by kind, sent on IPC 'gc'. */
function gcChild() {
  const { PerformanceObserver } = require('node:perf_hooks');
  const counts = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? e.kind;
      if (kind === 1) {
        counts.minor++;
        counts.minorMs += e.duration;
      } else if (kind === 2) {
        counts.major++;
        counts.majorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m) => {
    if (m === 'gc') process.send({ gc: { ...counts }, heapMb: process.memoryUsage().heapUsed / 1e6 });
  });
}

function wrk(port, seconds) {
  return new Promise((resolve, reject) => {
    const w = spawn('wrk', ['-t1', '-c32', `-d${seconds}s`, `http://127.0.0.1:${port}/nested`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    w.stdout.on('data', (d) => (out += d));
    w.on('close', () => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`wrk gave no rate:\n${out}`));
    });
  });
}

/** One window: a fresh redis-server, agent and app; `build` 'this' or 'before'. */
async function window(mode, build) {
  const { L } = bench();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-lag-'));
  const children = [];
  try {
    const redis = await L.startRedis(dir, children);
    const socket = path.join(dir, 'agent.sock');
    const agent = await L.startAgent(socket, `redis://127.0.0.1:${redis.port}/1`, path.join(dir, 'spool'), children);
    // The compare's agent:// variant (automatic mode, every request sampled), plus the GC
    // preload, and for the build before core-dist.cjs first (it redirects the agent's client).
    const spec = L.serverSpec('agent', { agents: { main: { socket } } });
    const execArgv = [...(build === 'before' ? ['--require', path.join(__dirname, 'lib/core-dist.cjs')] : []), ...spec.execArgv, '--require', GC_PRELOAD];
    const env = { ...spec.env, BENCH_GC_CHILD: '1' };
    if (build !== 'before') delete env.BENCH_AGENT_DIST;
    const app = fork(L.APP, [], { execArgv, env, stdio: 'inherit' });
    children.push(app);
    const { port } = await ask(app, undefined, 'port');
    await wrk(port, 2); // warm-up, discarded
    let timer;
    let stopped = false;
    if (mode === 'paused') {
      timer = setInterval(() => {
        stopped = !stopped;
        process.kill(agent.pid, stopped ? 'SIGSTOP' : 'SIGCONT');
      }, LAG_MS);
    }
    const g0 = await ask(app, 'gc', 'gc');
    const c0 = [L.procCpuUs(app.pid), L.procCpuUs(agent.pid)];
    const rps = await wrk(port, SECONDS);
    const g1 = await ask(app, 'gc', 'gc');
    const c1 = [L.procCpuUs(app.pid), L.procCpuUs(agent.pid)];
    if (timer) clearInterval(timer);
    process.kill(agent.pid, 'SIGCONT');
    const n = rps * SECONDS;
    return {
      rps,
      appUs: (c1[0] - c0[0]) / n,
      agentUs: (c1[1] - c0[1]) / n,
      minorPerK: ((g1.gc.minor - g0.gc.minor) / n) * 1000,
      minorUs: ((g1.gc.minorMs - g0.gc.minorMs) * 1000) / n,
      majorPerK: ((g1.gc.major - g0.gc.major) / n) * 1000,
      heapMb: g1.heapMb,
    };
  } finally {
    for (const c of children.reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  if (spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error) throw new Error('wrk is not installed: apt-get install -y wrk');
  const builds = BEFORE ? ['this', 'before'] : ['this'];
  console.log(`agent lag: the compare app's /nested under wrk -t1 -c32, ${SECONDS} s windows after 2 s warm-up; paused = the agent stopped ${LAG_MS} ms of every ${2 * LAG_MS} ms; ${ROUNDS} round(s)${BEFORE ? `, client builds this / before (${BEFORE}) alternated` : ''}; Node ${process.version}`);
  for (const mode of MODES) {
    const rows = Object.fromEntries(builds.map((b) => [b, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? builds : [...builds].reverse();
      for (const b of order) {
        const w = await window(mode, b);
        rows[b].push(w);
        console.log(`  ${mode.padEnd(6)} ${b.padEnd(6)} round ${r + 1}: ${w.rps.toFixed(0)} req/s, app ${w.appUs.toFixed(1)} µs/req, agent ${w.agentUs.toFixed(1)} µs/req; scavenges ${w.minorPerK.toFixed(2)} /1k req, ${w.minorUs.toFixed(1)} µs/req; full GCs ${w.majorPerK.toFixed(3)} /1k req; heap ${w.heapMb.toFixed(0)} MB`);
      }
    }
    for (const b of builds) {
      const xs = rows[b];
      const { median } = bench().L;
      console.log(`${mode} ${b} medians: ${median(xs.map((x) => x.rps)).toFixed(0)} req/s, app ${median(xs.map((x) => x.appUs)).toFixed(1)} µs/req, scavenges ${median(xs.map((x) => x.minorUs)).toFixed(1)} µs/req, heap ${median(xs.map((x) => x.heapMb)).toFixed(0)} MB`);
    }
  }
}

if (process.env.BENCH_GC_CHILD === '1') gcChild();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
