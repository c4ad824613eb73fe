// The agent at service rates in instructions a point (issue 15), all its threads, under
// `valgrind --tool=callgrind --separate-threads=yes` (load-independent, unlike agent.cjs's
// CPU time): one paced client (agent.cjs --paced: core's default flushing, ~100 ms frames)
// makes 1- or 6-point traces at BENCH_IR_RATE traces/s into an agent running under callgrind
// (instrumentation off while it starts and is warmed by another paced client for
// BENCH_IR_WARM s), then the counters are zeroed, BENCH_IR_SECONDS of traces are made and
// acknowledged, and every thread's count is summed (main, GC helpers, libuv pool) per point
// stored; the main thread's is shown apart too (steadier: the helpers' GC work swings). `BENCH_AGENT_BEFORE=<dir with node_modules/@osprofiler/agent of an older build>`
// runs that build's agent too, alternated per round. Against the bench's own redis-server.
// Env: BENCH_IR_RATE (1000), BENCH_IR_PPT (1,6), BENCH_IR_SECONDS (3), BENCH_IR_WARM (4),
// BENCH_ROUNDS (2), BENCH_AGENT_NODE_ARGS (e.g. --perf-basic-prof to name JIT code), BENCH_IR_KEEP (a
// directory to keep the dumps in), BENCH_AGENT_ARGS (the daemon's, e.g. `--client-index true`),
// BENCH_IR_BACKEND_QUERY (added to the backend's redis:// URL, e.g. `index=false`: the agent without
// the search index's work), BENCH_PACED_NAMES=distinct (each point's function named apart, as
// compare's /nested: agent.cjs). ~1 min per agent.
// The default 4 s warm-up keeps the counts comparable with earlier sessions'. At 1 point a
// trace it leaves V8's compiles and some baseline code in the window: 29.5k on the main
// thread and 37.2k on all threads, against 27.5k / 28.1k with BENCH_IR_WARM=16 (session 33).
// BENCH_ALLOC=1: bytes allocated on V8's heap a point instead (lib/allocated.cjs, the sampling
// heap profiler, objects already collected included), in the agent process around the same
// counted window: the agent runs without valgrind, with this file as its `--require`d preload
// (BENCH_ALLOC_CHILD), which starts sampling on a first SIGUSR2 and writes { bytes, frames }
// to BENCH_ALLOC_OUT on a second. Prints bytes a point and the BENCH_ALLOC_TOP (12) largest
// functions' bytes a point per case. Buffers' backing stores outside V8's heap are not counted.
'use strict';
const { spawn, fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const cg = require('./lib/callgrind.cjs');
const { waitFor } = require('./lib/proc.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');

const { DAEMON, beforeDaemon, agentEnv } = require('./lib/agent-build.cjs');
const AGENT_BENCH = path.join(__dirname, 'agent.cjs');
const RATE = Number(process.env.BENCH_IR_RATE || 1000);
const PPTS = (process.env.BENCH_IR_PPT || '1,6').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_IR_SECONDS || 3);
const WARM = Number(process.env.BENCH_IR_WARM || 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const AGENT_ARGS = (process.env.BENCH_AGENT_ARGS || '').split(' ').filter(Boolean);
const BACKEND_QUERY = process.env.BENCH_IR_BACKEND_QUERY ? `?${process.env.BENCH_IR_BACKEND_QUERY}` : '';
const ALLOC = process.env.BENCH_ALLOC === '1';
const ALLOC_TOP = Number(process.env.BENCH_ALLOC_TOP || 12);

/** In the agent (BENCH_ALLOC_CHILD): sampling between two SIGUSR2s, the result to BENCH_ALLOC_OUT. */
function allocChild() {
  const { allocated } = require('./lib/allocated.cjs');
  let stop;
  process.on('SIGUSR2', () => {
    if (stop !== undefined) return void stop();
    allocated(() => new Promise((resolve) => (stop = resolve))).then(
      (r) => fs.writeFileSync(process.env.BENCH_ALLOC_OUT, JSON.stringify(r)),
      (err) => fs.writeFileSync(process.env.BENCH_ALLOC_OUT, JSON.stringify({ error: String(err) })),
    );
  });
}

function message(child, send) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`paced client exited (${code})`)));
    if (send !== undefined) child.send(send);
  });
}

async function runCase(dir, port, db, daemon, ppt, n) {
  const sock = path.join(dir, `a${n}.sock`);
  const file = path.join(dir, `cg${n}`);
  const env = agentEnv();
  const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS || '').split(' ').filter(Boolean);
  const out = path.join(dir, `alloc${n}.json`);
  const argv = [...nodeArgs, daemon, '--listen', sock, '--backend', `redis://127.0.0.1:${port}/${db}${BACKEND_QUERY}`, '--spool-dir', path.join(dir, `spool${n}`), ...AGENT_ARGS];
  const agent = ALLOC
    ? spawn(process.execPath, ['--require', __filename, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, BENCH_ALLOC_CHILD: '1', BENCH_ALLOC_OUT: out } })
    : cg.spawnNode(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  agent.stderr.on('data', (d) => (err += d));
  try {
    await waitFor('agent under valgrind', () => /listening on/.test(err), 120_000);
    // Warm-up: a second client at twice the counted rate (code compiled, connections open).
    const w = fork(AGENT_BENCH, ['--paced', sock, String(RATE * 2), String(ppt), String(WARM), 'warm'], { stdio: 'inherit' });
    await message(w);
    await message(w, 'go');
    const c = fork(AGENT_BENCH, ['--paced', sock, String(RATE), String(ppt), String(SECONDS)], { stdio: 'inherit' });
    await message(c);
    if (ALLOC) {
      agent.kill('SIGUSR2');
      // The profiler is on once the first dump of the sampling state could be asked for.
      await new Promise((r) => setTimeout(r, 200));
      const res = await message(c, 'go');
      agent.kill('SIGUSR2');
      await waitFor('the agent\'s allocation profile', () => fs.existsSync(out) && fs.statSync(out).size > 0, 30_000);
      const a = JSON.parse(fs.readFileSync(out, 'utf8'));
      if (a.error) throw new Error(a.error);
      return { bytes: a.bytes, frames: a.frames, points: res.made * ppt };
    }
    cg.start(agent.pid);
    // The client's 'made' comes after core.flush: every batch acknowledged, i.e. stored.
    const res = await message(c, 'go');
    cg.control(['-d'], agent.pid);
    if (process.env.BENCH_IR_KEEP) for (const f of fs.readdirSync(dir)) if (f.startsWith(`cg${n}.`)) fs.copyFileSync(path.join(dir, f), path.join(process.env.BENCH_IR_KEEP, f));
    // Every thread's count in the agent's last dump, summed; the main thread's apart (the
    // others are V8's helpers: parallel scavenges and concurrent compiles, whose share swings
    // from window to window with where a GC falls, session 17: 1.4–13k a point).
    const threads = cg.lastDumpThreads(file, agent.pid);
    return { instructions: threads.reduce((a, t) => a + t.count, 0), main: threads.find((t) => t.thread === '01')?.count ?? 0, points: res.made * ppt };
  } finally {
    agent.kill('SIGKILL');
  }
}

async function main() {
  if (!ALLOC) console.log(cg.version());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-agent-ir-'));
  const { child: redis, port } = await startRedisServer(dir);
  const before = beforeDaemon();
  const builds = before === undefined ? [['this', DAEMON]] : [['this', DAEMON], ['before', before]];
  if (ALLOC) console.log(`agent bytes allocated a point, V8 heap, main thread (sampling heap profiler), ${RATE} traces/s, ${SECONDS} s counted after a ${WARM} s warm-up at ${RATE * 2}/s${BACKEND_QUERY ? `, backend redis://…${BACKEND_QUERY}` : ''}`);
  else console.log(`agent instructions a point, all threads (callgrind), ${RATE} traces/s, ${SECONDS} s counted after a ${WARM} s warm-up at ${RATE * 2}/s${BACKEND_QUERY ? `, backend redis://…${BACKEND_QUERY}` : ''}`);
  let n = 0;
  try {
    for (const ppt of PPTS) {
      for (let round = 0; round < ROUNDS; round++) {
        for (const [build, daemon] of (round + ppt) % 2 === 0 ? builds : [...builds].reverse()) {
          const r = await runCase(dir, port, 4 + (n % 10), daemon, ppt, n++);
          if (ALLOC) {
            console.log(`${build.padEnd(7)} ${ppt} point(s)/trace  round ${round + 1}: ${(r.bytes / r.points).toFixed(0)} bytes a point (${r.points} points)`);
            for (const [f, b] of r.frames.slice(0, ALLOC_TOP)) console.log(`    ${(b / r.points).toFixed(0).padStart(6)}  ${f}`);
            continue;
          }
          console.log(`${build.padEnd(7)} ${ppt} point(s)/trace  round ${round + 1}: ${(r.instructions / r.points / 1000).toFixed(1)}k instructions a point, main thread ${(r.main / r.points / 1000).toFixed(1)}k (${r.points} points)`);
        }
      }
    }
  } finally {
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_ALLOC_CHILD === '1' && require.main !== module) allocChild();
else main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
