// agent:// against plain and the direct redis:// driver (`node tools/bench/agent.cjs`).
//
// Part 1, one run, rounds alternating the variants (rotating the order):
//   plain   Express with no profiler at all
//   direct  @osprofiler/express, every request traced, stored with the redis:// driver
//   agent   the same, stored via agent:// → the agent process → redis://
// on two routes: /hello (1 point per request) and /six (a handler with 5 nested traced
// calls: 6 points per request). Each variant is its own server process; the load comes
// from a separate process (keep-alive HTTP loop). After each window the server flushes
// (core → driver → agent acks), and the CPU counted is the server's (process.cpuUsage)
// plus, for `agent`, the agent's (/proc/<pid>/stat utime+stime, 10 ms ticks), both taken
// after the flush, so deferred serialisation and the agent's writes are included. The
// points stored are then counted in Redis (LLEN) and deleted.
//
// Part 2, agent throughput: client processes make real trace points (core start/stop in
// traces; core formats the lines; agent:// frames and sends them) as fast as the agent
// acknowledges them, for THROUGHPUT_SECONDS; stored points
// are counted from Redis (LLEN + DEL every 500 ms), the agent's RSS sampled from /proc.
// The client's CPU per point is measured there too, split into core's start/stop (timed
// around the loop that makes the points) and the rest (line format + frame + socket).
//
// Part 3, the agent at service rates (issue 15): one client process makes traces of 1 or 6
// points (a point = a start+stop pair) at a paced rate of 1k, 5k or 10k traces/s for a
// bounded count, with core's default flush interval, as a service would; a fresh agent per
// case, first warmed by another client (BENCH_SERVICE_AGENT_WARM seconds at 10k traces/s or 20k points/s, 20
// by default; 0 = none): a long-running agent has its code compiled, and a fresh one spends
// its first seconds in the compiler and GC (measured at 1k traces/s: 106 µs a point cold, 36
// after 5 s). 5 s was the default until session 30: V8's log (--log-code) showed TurboFan
// still compiling ~10 functions a second 10 s into an agent's life (per-frame code reaches
// its thresholds slowly), and at 5k 1-point traces/s the agent's other threads read 2.3–2.5
// µs a point after 5 s against 0.54–0.65 after 20 s (its total 12.0–13.0 vs 8.5–9.5). Reported: the agent's CPU (its threads' /proc schedstat, ns resolution; window from the first trace to
// the last acknowledgement) per point, its main thread's apart (with the kernel's share of it,
// 10 ms ticks) from its other threads' (V8's GC helpers and compiler, libuv's pool), Redis's
// CPU per point apart, and the client's CPU per point. At these rates the agent wakes per frame, so per-frame and per-trace costs
// show here, which the throughput run (part 2) hides.
//
// Everything runs against the bench's OWN redis-server (temp dir, free port). Bounded: ~4 min (part 3 ~3 min; the limit grows with the service agents run).
// Env: BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_THROUGHPUT_SECONDS,
// BENCH_THROUGHPUT_CLIENTS, BENCH_ONLY=throughput|service, BENCH_AGENT_NODE_ARGS (node flags for
// the agent), BENCH_SERVICE_SECONDS (3: traces made per case = rate x this),
// BENCH_SERVICE_RATES (1000,5000,10000), BENCH_SERVICE_AGENT_WARM (20 s), BENCH_SERVICE_BACKEND_QUERY
// (added to the service agents' redis:// URL, e.g. `index=false`), BENCH_AGENT_BEFORE (an
// older build laid out as DIR/node_modules/@osprofiler/{agent,core,drivers}: part 3 runs each
// case with its agent too, alternated), BENCH_AGENT_NODE_ARGS_B (part 3 runs each case also
// with this build's agent under these node flags instead, alternated: e.g. a V8 GC flag),
// BENCH_PACED_NAMES=distinct (part 3's traces name each point's function apart, f6 … f1, as
// compare's /nested does; else one info for all).
'use strict';
const { ask, load, median } = require('./lib/http-bench.cjs');
const { procCpuUs, procCpuFineUs, procRssMb, procThreads, waitFor } = require('./lib/proc.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');
const { redisCommand, redisEach, redisKeys } = require('./lib/redis-command.cjs');
const { pacedTraces } = require('./lib/paced.cjs');
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 4);
const SECONDS = Number(process.env.BENCH_SECONDS || 1.5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS || 12);
const THROUGHPUT_CLIENTS = Number(process.env.BENCH_THROUGHPUT_CLIENTS || 2);
const KEY = 'bench-key';
const VARIANTS = ['plain', 'direct', 'agent'];
const ROUTES = { hello: '/hello', six: '/six' };
const { DAEMON, beforeDaemon, agentEnv } = require('./lib/agent-build.cjs');
const SERVICE_RATES = (process.env.BENCH_SERVICE_RATES || '1000,5000,10000').split(',').map(Number);
const SERVICE_SECONDS = Number(process.env.BENCH_SERVICE_SECONDS || 3);
const SERVICE_WARM = Number(process.env.BENCH_SERVICE_AGENT_WARM ?? 20);

// ---------------------------------------------------------------------------- server
function server(variant, cs) {
  const express = require('express');
  const app = express();
  let core;
  if (variant !== 'plain') {
    if (variant === 'agent') require('@osprofiler/agent');
    else require('@osprofiler/drivers');
    core = require('@osprofiler/core');
    core.configure({ enabled: true, hmacKeys: [KEY], connectionString: cs, host: 'bench', service: 'bench' });
    app.use(require('@osprofiler/express').profiler());
  }
  const traced = core ? core.traced : (_n, _i, fn) => fn();
  const nest = (k) => (k === 0 ? k : traced('fn', { function: { name: `f${k}` } }, () => nest(k - 1)));
  app.get('/hello', (req, res) => res.send('hello'));
  app.get('/six', (req, res) => res.send(`six ${nest(5)}`));
  const srv = app.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
  srv.keepAliveTimeout = 60_000;
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpu: u.user + u.system });
    } else if (m === 'flush') {
      const done = () => process.send({ flushed: true });
      if (core) core.flush(30_000).then(done, done);
      else done();
    } else if (m === 'stop') {
      srv.closeAllConnections();
      srv.close(() => process.exit(0));
    }
  });
}

// ------------------------------------------------------------- throughput client
function blaster(socket, seconds) {
  const core = require('@osprofiler/core');
  const { AgentClientDriver, clientOptionsFromUrl } = require('@osprofiler/agent');
  const driver = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_points=200000&exit_hooks=0`)), { host: 'bench', service: 'bench', project: null });
  // Real points: core's hot path (start/stop in a trace), core's notifier formatting the
  // lines off that path, the agent:// client framing and writing them.
  core.configure({ driver, host: 'bench', service: 'bench', flushIntervalMs: Number(process.env.BENCH_FLUSH_MS || 2), maxBufferPoints: 1_000_000 });
  const CHUNK = 2000; // points per tick (1000 start/stop pairs in 50 traces)
  const end = Date.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  let hotUs = 0;
  let sent = 0;
  const bases = [];
  const info = { function: { name: 'f' } };
  // Keep at most 10 chunks (20,000 points, the in-flight window) waiting: as fast as the
  // agent acknowledges, without dropping, and without a backlog no service would have.
  const tick = () => {
    if (Date.now() >= end) {
      core.flush(20_000).then(() => {
        const c = process.cpuUsage(cpu0);
        process.send({ sent, acknowledged: driver.counters.acknowledged, dropped: driver.counters.dropped, cpuUs: c.user + c.system, hotUs, bases });
        setTimeout(() => process.exit(0), 50);
      });
      return;
    }
    // Window full: wait for acknowledgements without spinning (a busy loop would be
    // counted as client CPU).
    if (driver.pending >= Number(process.env.BENCH_WINDOW || 10 * CHUNK)) {
      setTimeout(tick, 2);
      return;
    }
    {
      const h0 = process.cpuUsage();
      for (let t = 0; t < 50; t++) {
        core.run({ hmacKey: 'k' }, () => {
          if (t === 0 && bases.length < 1000) bases.push(core.get().baseId);
          for (let i = 0; i < CHUNK / 100; i++) {
            core.start('fn', info);
            core.stop();
          }
        });
      }
      const h = process.cpuUsage(h0);
      hotUs += h.user + h.system;
      sent += CHUNK;
    }
    setImmediate(tick);
  };
  tick();
}

// ----------------------------------------------------------- paced service client
function paced(socket, rate, pointsPerTrace, seconds, warmOnly) {
  const core = require('@osprofiler/core');
  require('@osprofiler/agent');
  // core's own defaults for flushing and buffering: what a service would run with.
  core.configure({ connectionString: `agent://${socket}`, host: 'bench', service: 'bench' });
  // BENCH_PACED_NAMES=distinct: each level's function named apart (f6 … f1), as compare's
  // /nested names its five; else one info for every point.
  const distinct = process.env.BENCH_PACED_NAMES === 'distinct';
  const infos = Array.from({ length: pointsPerTrace }, (_, i) => ({ function: { name: distinct ? `f${pointsPerTrace - i}` : 'f' } }));
  const bases = [];
  let counting = false;
  const trace = () => {
    core.run({ hmacKey: 'k' }, () => {
      if (counting) bases.push(core.get().baseId);
      for (let i = 0; i < pointsPerTrace; i++) core.start('fn', infos[i]);
      for (let i = 0; i < pointsPerTrace; i++) core.stop();
    });
  };
  const run = (total, done) => pacedTraces(core, rate, total, trace, done);
  // A warm-up second (JIT, connections) on both sides, not counted; then the counted run.
  run(rate, () => {
    process.send({ warm: true });
    process.once('message', () => {
      // A warm-up client (`warm`) keeps no base ids: 20 s at 10k traces/s made a 7 MB message.
      counting = !warmOnly;
      const cpu0 = process.cpuUsage();
      run(Math.round(rate * seconds), (made, elapsed) => {
        const c = process.cpuUsage(cpu0);
        // Exits once the message is written: a timer cut large ones short (the bench then
        // waited for them until its time limit).
        process.send({ made, elapsed, cpuUs: c.user + c.system, bases }, () => process.exit(0));
      });
    });
  });
}

// ------------------------------------------------------------------------ orchestrator




/**
 * The lists' lengths summed, each list deleted. Atomically per list: what a writer pushes
 * between LLEN and DEL would otherwise be lost to the count.
 */
function countAndDelete(port, db, keys) {
  const script = "local n = redis.call('LLEN', KEYS[1]); redis.call('DEL', KEYS[1]); return n";
  return redisEach(port, db, keys, (k) => ['EVAL', script, 1, k]);
}

const nodeArgsOf = (v) => (v || '').split(' ').filter(Boolean);

/**
 * Part 3's agent builds, [name, daemon, node flags], run alternated per case: this one; with
 * BENCH_AGENT_BEFORE=<dir holding node_modules/@osprofiler/{agent,core,drivers} of an older
 * build> that build's; with BENCH_AGENT_NODE_ARGS_B this one under those flags.
 */
function serviceBuilds() {
  const builds = [['this', DAEMON, nodeArgsOf(process.env.BENCH_AGENT_NODE_ARGS)]];
  const before = beforeDaemon();
  if (before !== undefined) builds.push(['before', before, builds[0][2]]);
  if (process.env.BENCH_AGENT_NODE_ARGS_B !== undefined) builds.push(['flags-b', DAEMON, nodeArgsOf(process.env.BENCH_AGENT_NODE_ARGS_B)]);
  return builds;
}

async function startAgent(socket, backend, spool, daemon = DAEMON, nodeArgs = nodeArgsOf(process.env.BENCH_AGENT_NODE_ARGS)) {
  const child = spawn(process.execPath, [...nodeArgs, daemon, '--listen', socket, '--backend', backend, '--spool-dir', spool], { stdio: ['ignore', 'ignore', 'pipe'], env: agentEnv() });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await waitFor('agent', () => /listening on/.test(err), 10_000);
  return child;
}

async function main() {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-agent-'));
  const children = [];
  const cleanup = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  // Bounded: 120 s for parts 1–2 and start-up, plus each service agent's warm-up, case and start.
  const serviceAgents = process.env.BENCH_ONLY === 'throughput' ? 0 : 2 * SERVICE_RATES.length * serviceBuilds().length;
  const limitS = 120 + serviceAgents * (SERVICE_WARM + SERVICE_SECONDS + 6);
  const timer = setTimeout(() => {
    console.error(`agent bench: over ${limitS} s, stopping`);
    process.exit(1);
  }, limitS * 1000);

  const { child: redis, port } = await startRedisServer(dir);
  children.push(redis);

  const socket = path.join(dir, 'agent.sock');
  const agent = await startAgent(socket, `redis://127.0.0.1:${port}/2`, path.join(dir, 'spool'));
  children.push(agent);

  const { signedPack } = require('@osprofiler/core');
  const base = require('node:crypto').randomUUID();
  const { info, hmac } = signedPack({ base_id: base, parent_id: base }, KEY);
  const traceHeaders = { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac };
  const cs = { plain: '', direct: `redis://127.0.0.1:${port}/1`, agent: `agent://${socket}` };
  const db = { direct: 1, agent: 2 };

  const servers = {};
  for (const v of VARIANTS) {
    const c = fork(__filename, ['--server', v, cs[v]], { stdio: 'inherit' });
    children.push(c);
    servers[v] = { child: c, port: (await ask(c, undefined, 'port')).port };
  }
  const loader = fork(__filename, ['--load'], { stdio: 'inherit' });
  children.push(loader);

  async function window(v, route, seconds) {
    const s = servers[v];
    const before = (await ask(s.child, 'cpu', 'cpu')).cpu;
    const agentBefore = procCpuUs(agent.pid);
    const t0 = process.hrtime.bigint();
    const r = await ask(loader, { port: s.port, seconds, headers: v === 'plain' ? {} : traceHeaders, route: ROUTES[route] }, 'done');
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    await ask(s.child, 'flush', 'flushed');
    const after = (await ask(s.child, 'cpu', 'cpu')).cpu;
    const agentCpu = v === 'agent' ? procCpuUs(agent.pid) - agentBefore : 0;
    if (r.errors > 0) throw new Error(`${v}: ${r.errors} failed requests`);
    const stored = v === 'plain' ? 0 : await countAndDelete(port, db[v], [`osprofiler_opt:${base}`]);
    return { rps: r.done / elapsed, p50: r.p50, p99: r.p99, done: r.done, cpuPerReq: (after - before) / r.done, agentPerReq: agentCpu / r.done, stored };
  }

  console.log(
    `Express ${require('express/package.json').version}, Node ${process.version}, ${os.cpus().length} CPUs (shared with other work), ` +
      `${ROUNDS} rounds x ${SECONDS} s per variant and route, ${CONNECTIONS} keep-alive connections, load from a separate process`,
  );
  for (const route of process.env.BENCH_ONLY ? [] : Object.keys(ROUTES)) {
    const pointsPerReq = route === 'hello' ? 1 : 6;
    for (const v of VARIANTS) await window(v, route, WARMUP_SECONDS);
    const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
      for (const v of order) results[v].push(await window(v, route, SECONDS));
    }
    const paired = (v, key) => median(results[v].map((x, i) => x[key] / results.plain[i][key]));
    console.log(`\n${route} (${pointsPerReq} point${pointsPerReq > 1 ? 's' : ''} = ${2 * pointsPerReq} notifications per request)`);
    console.log('variant     req/s  ratio*   p50 µs   p99 µs  app CPU µs/req  +agent µs/req  stored/expected notifications');
    for (const v of VARIANTS) {
      const x = results[v];
      const stored = x.reduce((a, y) => a + y.stored, 0);
      const expected = x.reduce((a, y) => a + y.done, 0) * 2 * pointsPerReq;
      console.log(
        `${v.padEnd(8)} ${median(x.map((y) => y.rps)).toFixed(0).padStart(7)}  ${paired(v, 'rps').toFixed(3)}  ` +
          `${median(x.map((y) => y.p50)).toFixed(0).padStart(7)}  ${median(x.map((y) => y.p99)).toFixed(0).padStart(7)}  ` +
          `${median(x.map((y) => y.cpuPerReq)).toFixed(1).padStart(14)}  ${median(x.map((y) => y.agentPerReq)).toFixed(1).padStart(13)}  ` +
          (v === 'plain' ? '-' : `${stored}/${expected}`),
      );
    }
    const goal = route === 'hello' ? 0.85 : 0.8;
    const ratio = paired('agent', 'rps');
    console.log(`* median of per-round ratios to plain. goal: agent req/s >= ${goal} x plain: ${ratio.toFixed(3)} ${ratio >= goal ? 'met' : 'MISSED'}`);
  }
  for (const v of VARIANTS) servers[v].child.send('stop');
  loader.kill();

  // ----- part 2: agent throughput
  if (process.env.BENCH_ONLY !== 'service') {
    const tSocket = path.join(dir, 'throughput.sock');
    const tAgent = await startAgent(tSocket, `redis://127.0.0.1:${port}/3`, path.join(dir, 'spool3'));
    children.push(tAgent);
    const cpuA0 = procCpuUs(tAgent.pid);
    const blasters = Array.from({ length: THROUGHPUT_CLIENTS }, () => {
      const c = fork(__filename, ['--blast', tSocket, String(THROUGHPUT_SECONDS)], { stdio: 'inherit' });
      children.push(c);
      return c;
    });
    const results = Promise.all(blasters.map((c) => ask(c, undefined, 'sent')));
    let stored = 0;
    let maxRss = 0;
    let keys;
    const t0 = Date.now();
    const first = await Promise.race([results, new Promise((r) => setTimeout(r, 1000))]);
    void first;
    // The blasters' base ids are only known at the end: count through SCAN-free LLEN via KEYS.
    const sweep = async () => {
      keys = await redisKeys(port, 3, 'osprofiler_opt:*');
      stored += await countAndDelete(port, 3, keys);
      maxRss = Math.max(maxRss, procRssMb(tAgent.pid));
    };
    let done = false;
    results.then(() => (done = true));
    while (!done) {
      await sweep();
      await new Promise((r) => setTimeout(r, 500));
    }
    const tEnd = Date.now();
    const rs = await results;
    await sweep();
    const cpuA = procCpuUs(tAgent.pid) - cpuA0;
    const sent = rs.reduce((a, r) => a + r.sent, 0);
    const acked = rs.reduce((a, r) => a + r.acknowledged, 0);
    const clientCpu = rs.reduce((a, r) => a + r.cpuUs, 0);
    const secs = (tEnd - t0) / 1000;
    console.log(`\nagent throughput (${THROUGHPUT_CLIENTS} client processes, ${THROUGHPUT_SECONDS} s, redis:// backend on this machine)`);
    console.log(`sent ${sent}, acknowledged ${acked}, stored (counted in Redis) ${stored}, dropped ${rs.reduce((a, r) => a + r.dropped, 0)}`);
    console.log(`stored points/s ${(stored / secs).toFixed(0)} (goal >= 300000: ${stored / secs >= 300_000 ? 'met' : 'MISSED'}), agent RSS max ${maxRss.toFixed(0)} MB (goal <= 150: ${maxRss <= 150 ? 'met' : 'MISSED'})`);
    const hotCpu = rs.reduce((a, r) => a + r.hotUs, 0);
    const clientCost = (clientCpu - hotCpu) / sent;
    console.log(`agent CPU ${(cpuA / stored).toFixed(2)} µs per stored point`);
    console.log(`client CPU per point: ${(clientCpu / sent).toFixed(2)} µs in all = ${(hotCpu / sent).toFixed(2)} µs core start/stop (the request path) + ${clientCost.toFixed(2)} µs off it (format line + frame + socket; goal <= 1: ${clientCost <= 1 ? 'met' : 'MISSED'})`);
    tAgent.kill('SIGTERM');
  }

  // ----- part 3: the agent at service rates
  if (process.env.BENCH_ONLY !== 'throughput') {
    const redisPid = redis.pid;
    // BENCH_SERVICE_BACKEND_QUERY: added to the agents' redis:// URL (e.g. `index=false`: the
    // agent without the search index's work, which is about half its instructions a point).
    const backendQuery = process.env.BENCH_SERVICE_BACKEND_QUERY ? `?${process.env.BENCH_SERVICE_BACKEND_QUERY}` : '';
    console.log(`\nagent at service rates (one paced client, ${SERVICE_SECONDS} s of traces per case, core's default flushing, a fresh agent per case warmed ${SERVICE_WARM} s at 20k points/s or 10k traces/s, then the client's 1 s warm-up, neither counted)`);
    const builds = serviceBuilds();
    if (builds.length > 1) console.log(builds.map(([b, d, a]) => `${b}: ${path.relative(process.cwd(), d)} ${a.join(' ') || '(no node flags)'}`).join('\n'));
    console.log(`${builds.length > 1 ? 'build   ' : ''}points/trace  traces/s  points/s made  stored/expected  agent µs/point  redis µs/point  client µs/point  agent main (sys)  agent others`);
    let n = 0;
    // Which build goes first alternates per case (`n` counts agents, two a case: it was even
    // at every case's start, so this build always ran first).
    let cases = 0;
    for (const ppt of [1, 6]) {
      for (const rate of SERVICE_RATES) {
        for (const [build, daemon, nodeArgs] of cases++ % 2 === 0 ? builds : [...builds].reverse()) {
          const sock = path.join(dir, `svc${n}.sock`);
          const db = 4 + (n % 10);
          const a = await startAgent(sock, `redis://127.0.0.1:${port}/${db}${backendQuery}`, path.join(dir, `svcspool${n++}`), daemon, nodeArgs);
          children.push(a);
          if (SERVICE_WARM > 0) {
            const w = fork(__filename, ['--paced', sock, String(Math.round(10_000 / Math.max(1, ppt / 2))), String(ppt), String(SERVICE_WARM), 'warm'], { stdio: 'inherit' });
            children.push(w);
            await ask(w, undefined, 'warm');
            await ask(w, 'go', 'made');
            await redisCommand(port, db, 'FLUSHDB'); // the case's own db: only the warm-up's traces are there
          }
          const c = fork(__filename, ['--paced', sock, String(rate), String(ppt), String(SERVICE_SECONDS)], { stdio: 'inherit' });
          children.push(c);
          await ask(c, undefined, 'warm');
          // Threads' schedstat (ns), not /proc/<pid>/stat's 10 ms ticks: the agent's per
          // thread (procThreads' `run`), its total their sum.
          const t0 = procThreads(a.pid);
          const r0 = procCpuFineUs(redisPid);
          const res = await ask(c, 'go', 'made');
          const t1 = procThreads(a.pid);
          const aCpu = t1.main.run + t1.other.run - (t0.main.run + t0.other.run);
          const rCpu = procCpuFineUs(redisPid) - r0;
          const points = res.made * ppt;
          const stored = (await countAndDelete(port, db, res.bases.map((b) => `osprofiler_opt:${b}`))) / 2;
          console.log(
            `${builds.length > 1 ? build.padEnd(8) : ''}${String(ppt).padStart(12)}  ${String(rate).padStart(8)}  ${(points / res.elapsed).toFixed(0).padStart(13)}  ` +
              `${`${stored}/${points}`.padStart(15)}  ${(aCpu / points).toFixed(2).padStart(14)}  ${(rCpu / points).toFixed(2).padStart(14)}  ` +
              `${(res.cpuUs / points).toFixed(2).padStart(15)}  ` +
              // Where the agent's time went (schedstat time on a CPU, the kernel's share from 10 ms ticks).
              `${`${((t1.main.run - t0.main.run) / points).toFixed(2)} (${((t1.main.sys - t0.main.sys) / points).toFixed(2)})`.padStart(17)}  ${((t1.other.run - t0.other.run) / points).toFixed(2).padStart(13)}`,
          );
          a.kill('SIGTERM');
        }
      }
    }
    console.log('goal (issue 15): agent <= 3 µs CPU per point at 1–6 points per trace, 1k–10k traces/s (CPU from the threads\' schedstat, ns resolution)');
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  clearTimeout(timer);
  agent.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  // The bench's own redis-server (and any child left) would keep this process alive.
  process.exit(0);
}

if (process.argv[2] === '--server') server(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') load(CONNECTIONS);
else if (process.argv[2] === '--blast') blaster(process.argv[3], Number(process.argv[4]));
else if (process.argv[2] === '--paced') paced(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]), process.argv[7] === 'warm');
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
