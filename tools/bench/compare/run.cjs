// `npm run bench:compare`: OSProfiler.js against plain Express, OpenTelemetry JS and
// dd-trace on one Express 5 + Knex (SQLite) app, load from wrk. Method (README "compare"):
// rounds; in each round every route and every variant gets one window, the variants in a
// rotating order; each window is a FRESH server process (forked), a warm-up run of wrk that
// is discarded, then the measured run; then the tracer is flushed and what it exported is
// counted where it arrived (Redis for OSProfiler.js, the loopback sinks for the others).
// req/s is reported as the median of per-round ratios to plain (paired: the same round and
// route), and CPU as µs per request read from /proc/<pid>/stat around the measured run and
// the flush, for the server, the agent and the store or sink apart.
//
// BENCH_INTERLEAVE=<cycles>: shorter and many more alternations (issue 15: a stable answer on a
// VM whose speed drifts by ±20 % over tens of seconds). Per route one server per variant,
// warmed once (BENCH_WARMUP_SECONDS), then <cycles> cycles of one BENCH_SECONDS window per
// variant in a rotating order, each window followed by that server's flush (its deferred
// work counted in its CPU, as above); ratios are paired per cycle, windows a few seconds
// apart instead of a round's minute. The servers live through the run (their JIT and heap
// settled), the store is emptied after each window.
//
// `node tools/bench/compare/run.cjs --instructions`: instructions per request under
// callgrind instead (instructions.cjs).
//
// Env: BENCH_ROUNDS (3), BENCH_SECONDS (2, whole seconds: wrk's -d), BENCH_WARMUP_SECONDS (1),
// BENCH_CONNECTIONS (32), BENCH_ROUTES (hello,db,chain,nested), BENCH_VARIANTS (all),
// BENCH_INTERLEAVE=<cycles> (the interleaved method below; BENCH_ROUNDS is then not read),
// BENCH_CLIENT_STATE=1 (agent:// variants: the client's state sampled every 10 ms through each
// measured window, osprofiler.cjs; a table of it per route),
// BENCH_SERVER_NODE_ARGS (node flags for every server, e.g. `--trace-gc`; its lines start [pid:…]),
// BENCH_SCHED=1 (each window's CPU switches recorded with perf: who preempted the server's main
// thread and how long it then waited, a table per route; sched.cjs),
// BENCH_STORE_PURGE=0 (counted Redis dbs emptied by DEL, not FLUSHDB: Redis reuses its memory; lib.cjs),
// BENCH_NODE=22|24 (servers and agents on that Node line, core's test fixture of releases: ../lib/node-under-test.cjs),
// BENCH_HEADERS_N (100000 distinct signed headers), BENCH_LIMIT_SECONDS (900), BENCH_PIN=1 (the server
// on CPU 0, wrk, the agents, redis-server and the burner on CPU 1: lib.cjs pin).
// Optional controls (only when named in BENCH_VARIANTS): plain-als, plain-headers, plain-busy (a CPU burner beside
// plain Express: BENCH_BUSY_DUTY_MS of every 10 ms, default 2), plain-alloc (plain Express allocating and dropping
// BENCH_ALLOC_BYTES a request, default 11,700: a traced /nested request's garbage, alloc.cjs),
// agent-headers (with them, header / control lines paired per round), agent-nice10 (a second agent at nice 10), agent-idle (a second agent under SCHED_IDLE), agent-batch (one under SCHED_BATCH), agent-stgc (one with --single-threaded-gc), agent-noindex (a second agent
// whose redis:// keeps no search index), noheader-once / noheader-once-on (noheader after one
// trace made at start-up, with core's contextIdleMs at 1 s / 0), discard (every request traced,
// the lines dropped in the server: discard.cjs) and agent-discard (agent:// to a second agent
// whose store is discard://), agent-before (agent:// to a second agent of an older build:
// BENCH_AGENT_BEFORE=DIR holding node_modules/@osprofiler/{agent,core,drivers}).
'use strict';
const { fork, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const SECONDS = Math.max(1, Math.round(Number(process.env.BENCH_SECONDS || 2)));
const WARMUP_SECONDS = Math.max(1, Math.round(Number(process.env.BENCH_WARMUP_SECONDS || 1)));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 32);
const ROUTES = (process.env.BENCH_ROUTES || 'hello,db,chain,nested').split(',');
const VARIANT_NAMES = (process.env.BENCH_VARIANTS || Object.keys(L.VARIANTS).filter((v) => !L.VARIANTS[v].optional).join(',')).split(',');
const HEADERS_N = Number(process.env.BENCH_HEADERS_N || 100_000);
const LIMIT_SECONDS = Number(process.env.BENCH_LIMIT_SECONDS || 900);
const LUA = path.join(__dirname, 'request.lua');
const INTERLEAVE = Math.max(0, Math.round(Number(process.env.BENCH_INTERLEAVE || 0)));
const CLIENT_STATE = process.env.BENCH_CLIENT_STATE === '1';
const SCHED = process.env.BENCH_SCHED === '1' ? require('./sched.cjs') : undefined;

/** Per-round ratios as they are, or past 10 rounds (interleaved cycles) their quartiles. */
function spread(ratios) {
  return ratios.length <= 10 ? ratios.map((x) => x.toFixed(2)).join(' ') : `q1 ${quantile(ratios, 0.25).toFixed(2)} q3 ${quantile(ratios, 0.75).toFixed(2)}`;
}

/** The `q` quantile of `xs` (linear between the two nearest ranks). */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (at - lo) : s[lo];
}

function ensureWrk() {
  const has = () => spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (has()) return;
  if (process.getuid && process.getuid() === 0) {
    console.log('wrk missing: apt-get install -y wrk');
    spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
  if (!has()) throw new Error('wrk is not installed and could not be installed: run `apt-get install -y wrk` (Debian package wrk) as root, then re-run');
}

// A window fails on more than 0.1 % failed requests (errors are printed); the warm-up may
// have some (a fresh process on a loaded machine: wrk's timeout is 10 s).
function wrk(port, route, seconds, offset, headers, strict = true) {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', LUA, `http://127.0.0.1:${port}/${route}`, '--', String(offset)];
    const p = spawn(L.PIN ? 'taskset' : 'wrk', L.PIN ? ['-c', '1', 'wrk', ...args] : args, { env: { ...process.env, BENCH_HEADERS: headers?.file ?? '', BENCH_HEADER_PREFIX: headers?.prefix ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${err}${out}`));
      const r = JSON.parse(line);
      const bad = r.errors + r.status_errors;
      if (bad > 0 && strict) {
        console.error(`wrk: ${r.errors} socket errors, ${r.status_errors} non-2xx of ${r.requests} on /${route}`);
        if (bad > r.requests / 1000) return reject(new Error(`wrk: too many failed requests on /${route}`));
      }
      resolve(r);
    });
  });
}

function ask(child, msg, key, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${key}' from pid ${child.pid} within ${ms} ms`)), ms);
    const on = (m) => {
      if (m && m[key] !== undefined) {
        clearTimeout(t);
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (msg !== undefined) child.send(msg);
  });
}

async function main() {
  const started = Date.now();
  L.ensureDependencies();
  ensureWrk();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-compare-'));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const limit = setTimeout(() => {
    console.error(`compare bench: over ${LIMIT_SECONDS} s (BENCH_LIMIT_SECONDS), stopping`);
    process.exit(1);
  }, LIMIT_SECONDS * 1000);

  SCHED?.checkPerf(dir);
  const redis = await L.startRedis(dir, children);
  L.pin(redis.pid, 1);
  const sinks = fork(path.join(__dirname, 'sinks.cjs'), [], { stdio: 'inherit' });
  children.push(sinks);
  L.pin(sinks.pid, 1);
  const { otlpPort, ddPort } = await ask(sinks, undefined, 'otlpPort');
  const headersFile = path.join(dir, 'headers.txt');
  L.writeSignedHeaders(headersFile, HEADERS_N);
  const ctx = { redisPort: redis.port, otlpPort, ddPort, agents: {} };
  // Each agent the variants name (L.AGENTS), writing its own Redis db.
  for (const name of new Set(['main', ...VARIANT_NAMES.map((n) => L.VARIANTS[n].agent).filter(Boolean)])) {
    const a = L.AGENTS[name];
    const socket = path.join(dir, `agent-${name}.sock`);
    // An agent with no Redis db of its own (discard://) is counted through its metrics.
    const health = a.backend === undefined ? undefined : await L.freePort();
    const args = health === undefined ? a.args : [...a.args, '--health', `127.0.0.1:${health}`];
    const child = await L.startAgent(socket, a.backend ?? `redis://127.0.0.1:${redis.port}/${a.db}${a.query}`, path.join(dir, `spool-${name}`), children, args, a.nodeArgs, a.daemon?.());
    L.pin(child.pid, 1);
    if (a.sched !== undefined) {
      const r = spawnSync('chrt', [`--${a.sched}`, '--all-tasks', '--pid', '0', String(child.pid)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`agent-${a.sched}: chrt --${a.sched} failed (util-linux's chrt needed): ${r.stderr || r.error}`);
    }
    ctx.agents[name] = { socket, child, db: a.db, health, written: 0 };
  }

  /** A server of variant `name`, listening, pinned (with BENCH_PIN); its headers file when it sends them. */
  async function startServer(name) {
    const v = L.VARIANTS[name];
    const { execArgv, env } = L.serverSpec(name, ctx);
    const srv = fork(L.APP, [], { execPath: L.nodeUnderTest().execPath, execArgv, env, stdio: 'inherit' });
    children.push(srv);
    const { port } = await ask(srv, undefined, 'port');
    L.pin(srv.pid, 0);
    const hf = v.headers ? { file: headersFile, prefix: v.headerPrefix } : undefined;
    const burner = v.busy ? fork(path.join(__dirname, 'burner.cjs'), [], { stdio: 'inherit' }) : undefined;
    if (burner) children.push(burner);
    if (burner) L.pin(burner.pid, 1);
    // served: the app's count of `route`'s requests already accounted for (interleaved windows).
    return { name, v, srv, port, hf, burner, served: 0, discarded: 0 };
  }

  /** Interleaved: a server's burner runs in that server's windows only (stopped, by its handle, in between). */
  function pauseBurner(s, paused) {
    if (INTERLEAVE > 0) s.burner?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  async function stopServer(s) {
    const { srv } = s;
    pauseBurner(s, false);
    s.burner?.kill();
    const exited = new Promise((res) => srv.once('exit', res));
    srv.send('stop');
    await Promise.race([exited, new Promise((res) => setTimeout(res, 3000))]);
    if (srv.exitCode === null && srv.signalCode === null) srv.kill('SIGKILL');
  }

  /**
   * One measured window of server `s` on `route` (its headers from line `offset` on), then
   * its flush: the CPU of the server, its agent (or burner) and the store or sink around both,
   * what it exported since its last window, and wrk's figures.
   */
  async function measure(s, route, offset) {
    const { v, srv, port, hf, burner } = s;
    pauseBurner(s, false);
    const side = burner ?? L.agentOf(ctx, v).child;
    if (CLIENT_STATE) await ask(srv, 'sample', 'sampling');
    const cpu0 = [L.procCpuUs(srv.pid), L.procCpuUs(side.pid), L.procCpuUs(redis.pid), L.procCpuUs(sinks.pid)];
    const th0 = L.procThreads(srv.pid);
    const switches = SCHED === undefined ? undefined : path.join(dir, 'sched.data');
    const rec = switches === undefined ? undefined : SCHED.record(switches);
    await rec?.start();
    const r = await wrk(port, route, SECONDS, offset, hf);
    const th1 = L.procThreads(srv.pid);
    await rec?.stop();
    const sched = switches === undefined ? undefined : SCHED.preemptions(switches, srv.pid, { agent: v.osp === 'agent' ? L.agentOf(ctx, v).child.pid : undefined, redis: redis.pid, server: srv.pid });
    const { served, client, discarded } = await ask(srv, 'flush', 'flushed');
    const cpu1 = [L.procCpuUs(srv.pid), L.procCpuUs(side.pid), L.procCpuUs(redis.pid), L.procCpuUs(sinks.pid)];
    pauseBurner(s, true);
    const rss = L.procRssMb(srv.pid);
    // What was exported since the last count (the flush sent the rest): over warm-up and
    // window for a server's first window, per request the server served in that time.
    let exported = 0;
    // Whether the variant's points go to the bench's Redis: not the `discard` server's, nor
    // those of an agent with a store of its own (counted through its metrics, `health`).
    const inRedis = v.osp === 'redis' || (v.osp === 'agent' && L.agentOf(ctx, v).health === undefined);
    // start+stop = one point
    if (v.osp === 'discard') {
      exported = (discarded - s.discarded) / 2;
      s.discarded = discarded;
    } else if (v.osp === 'agent' && !inRedis) {
      const a = L.agentOf(ctx, v);
      const written = await L.agentWritten(a.health);
      exported = (written - a.written) / 2;
      a.written = written;
    } else if (inRedis) exported = (await L.countStoredAndFlush(redis.port, v.osp === 'agent' ? L.agentOf(ctx, v).db : 2)) / 2;
    else if (v.sink) exported = (await ask(sinks, 'count', 'counted')).counted[v.sink];
    const servedHere = served[route] - s.served;
    s.served = served[route];
    const n = r.requests;
    const d = (i) => (cpu1[i] - cpu0[i]) / n;
    const t = (g, k) => (th1[g][k] - th0[g][k]) / n;
    return {
      main: t('main', 'user') + t('main', 'sys'),
      mainSys: t('main', 'sys'),
      mainWait: t('main', 'wait'),
      mainInv: t('main', 'inv') * 1000,
      mainFaults: t('main', 'faults'),
      other: t('other', 'user') + t('other', 'sys'),
      rps: n / (r.duration_us / 1e6),
      p50: r.p50,
      p99: r.p99,
      cpu: d(0),
      agent: v.osp === 'agent' || v.busy ? d(1) : 0,
      store: inRedis ? d(2) : v.sink ? d(3) : 0,
      wrk: (r.cpu_ticks * 1e6) / L.CLK_TCK / n,
      perReq: exported / servedHere,
      exported,
      rss,
      requests: n,
      client,
      sched,
    };
  }

  /** The default method's window: a fresh server, warmed, measured once, stopped. */
  async function window(name, route) {
    const s = await startServer(name);
    await wrk(s.port, route, WARMUP_SECONDS, Math.floor(HEADERS_N / 2), s.hf, false);
    const out = await measure(s, route, 0);
    await stopServer(s);
    return out;
  }

  console.log(
    `compare: Express ${require('express/package.json').version}, Knex ${require('knex/package.json').version} (better-sqlite3 ${require('better-sqlite3/package.json').version}), ` +
      `OpenTelemetry sdk ${require('@opentelemetry/sdk-trace-node/package.json').version}, dd-trace ${require('dd-trace/package.json').version}; ` +
      `Node ${L.nodeUnderTest().version}${L.nodeUnderTest().execPath === process.execPath ? '' : ' (BENCH_NODE: servers and agents)'}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
  if (INTERLEAVE > 0) console.log(`interleaved: per route one server per variant, warmed ${WARMUP_SECONDS} s with wrk (discarded), then ${INTERLEAVE} cycles of one ${SECONDS} s window per variant (rotating order), each window followed by the server's flush; wrk -t1 -c${CONNECTIONS}`);
  else console.log(`${ROUNDS} rounds; per window a fresh server, ${WARMUP_SECONDS} s wrk warm-up (discarded), ${SECONDS} s measured; wrk -t1 -c${CONNECTIONS}`);
  console.log(`Redis emptied after each count by ${L.STORE_PURGE ? 'FLUSHDB (its memory handed back: each window\'s store grows from nothing)' : 'DEL (BENCH_STORE_PURGE=0: its memory reused)'}`);

  const results = {};
  for (const route of ROUTES) results[route] = Object.fromEntries(VARIANT_NAMES.map((v) => [v, []]));
  const order = (r, ri) => VARIANT_NAMES.map((_, i) => VARIANT_NAMES[(i + r + ri) % VARIANT_NAMES.length]);
  if (INTERLEAVE > 0) {
    for (const [ri, route] of ROUTES.entries()) {
      const servers = {};
      for (const name of VARIANT_NAMES) {
        servers[name] = await startServer(name);
        await wrk(servers[name].port, route, WARMUP_SECONDS, Math.floor(HEADERS_N / 2), servers[name].hf, false);
        pauseBurner(servers[name], true);
      }
      // Each window's headers start where the server's last window ended (wrk's script
      // cycles through the file): no header is sent twice until HEADERS_N have gone.
      const offsets = Object.fromEntries(VARIANT_NAMES.map((n) => [n, 0]));
      for (let c = 0; c < INTERLEAVE; c++) {
        const o = order(c, ri);
        for (const name of o) {
          const w = await measure(servers[name], route, offsets[name] % HEADERS_N);
          offsets[name] += w.requests;
          results[route][name].push(w);
        }
        if (c % 10 === 9 || c === INTERLEAVE - 1) process.stdout.write(`cycle ${c + 1}/${INTERLEAVE} /${route}: ` + o.map((n) => `${n} ${results[route][n][c].rps.toFixed(0)}`).join(', ') + '\n');
      }
      for (const name of VARIANT_NAMES) await stopServer(servers[name]);
    }
  } else {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [ri, route] of ROUTES.entries()) {
        const o = order(r, ri);
        for (const name of o) results[route][name].push(await window(name, route));
        process.stdout.write(`round ${r + 1}/${ROUNDS} /${route}: ` + o.map((n) => `${n} ${results[route][n][r].rps.toFixed(0)}`).join(', ') + '\n');
      }
    }
  }

  const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const failures = [];
  for (const route of ROUTES) {
    const res = results[route];
    const paired = (v, key) => L.median(res[v].map((x, i) => x[key] / res.plain[i][key]));
    console.log(`\n/${route}`);
    console.log('variant     req/s  ratio*  (per round)          p50 µs  p99 µs  CPU µs/req  ratio*  agent µs/req  store µs/req  wrk µs/req  exported/req  RSS MB');
    for (const v of VARIANT_NAMES) {
      const xs = res[v];
      const m = (k) => L.median(xs.map((x) => x[k]));
      const hasPlain = res.plain !== undefined;
      const perRound = hasPlain ? spread(xs.map((x, i) => x.rps / res.plain[i].rps)) : '';
      console.log(
        `${v.padEnd(9)} ${fmt(m('rps')).padStart(7)}  ${hasPlain ? paired(v, 'rps').toFixed(3) : '  -  '}  ${`(${perRound})`.padEnd(20)} ${fmt(m('p50')).padStart(6)}  ${fmt(m('p99')).padStart(6)}  ` +
          `${fmt(m('cpu'), 1).padStart(10)}  ${hasPlain ? paired(v, 'cpu').toFixed(3) : '  -  '}  ${fmt(m('agent'), 1).padStart(12)}  ${fmt(m('store'), 1).padStart(12)}  ${fmt(m('wrk'), 1).padStart(10)}  ` +
          `${fmt(m('perReq'), 2).padStart(12)}  ${fmt(m('rss')).padStart(6)}`,
      );
      const total = xs.reduce((a, x) => a + x.exported, 0);
      const tracing = (L.VARIANTS[v].osp && (L.VARIANTS[v].sampling || L.VARIANTS[v].headers)) || L.VARIANTS[v].sink;
      if (tracing && total === 0) failures.push(`${v} exported nothing on /${route}`);
      if (v === 'noheader' && total !== 0) failures.push(`noheader stored ${total} points on /${route} (expected none)`);
    }
    // Where the server's CPU went (medians of the windows, per request): its main thread
    // (user + system, of which system), the time the main thread was runnable but waited
    // for a CPU, its involuntary context switches and minor page faults, and its other
    // threads (GC helpers, libuv).
    console.log('server threads   main µs/req  (sys)  ratio*  main waiting µs/req  main preempted /1k req  main page faults/req  other threads µs/req');
    for (const v of VARIANT_NAMES) {
      const m = (k) => L.median(res[v].map((x) => x[k]));
      console.log(
        `${v.padEnd(14)} ${fmt(m('main'), 1).padStart(12)}  ${fmt(m('mainSys'), 1).padStart(5)}  ${res.plain ? paired(v, 'main').toFixed(3) : '  -  '}  ` +
          `${fmt(m('mainWait'), 1).padStart(19)}  ${fmt(m('mainInv'), 1).padStart(22)}  ${fmt(m('mainFaults'), 2).padStart(20)}  ${fmt(m('other'), 1).padStart(20)}`,
      );
    }
    if (CLIENT_STATE) {
      // The agent:// client through the measured windows (medians of the windows' means).
      const sampled = VARIANT_NAMES.filter((v) => res[v].some((x) => x.client !== undefined));
      if (sampled.length > 0) console.log('agent:// client   queued points (mean)  in flight (mean)  held back (% of 10 ms samples: window full or socket blocked)  queued (max)');
      for (const v of sampled) {
        const m = (k) => L.median(res[v].filter((x) => x.client !== undefined).map((x) => x.client[k]));
        console.log(`${v.padEnd(16)} ${fmt(m('queued'), 1).padStart(20)}  ${fmt(m('inflight'), 1).padStart(16)}  ${fmt(100 * m('full'), 1).padStart(61)}  ${fmt(m('maxQueued')).padStart(12)}`);
      }
    }
    if (SCHED !== undefined) {
      // Preemptions of the main thread by who took its CPU, per 1k requests, and the µs a
      // request it then waited to run again (medians of the windows).
      console.log(`main thread preempted by   ${SCHED.GROUPS.map((g) => `${g} /1k req, µs/req`.padStart(g.length + 17)).join('  ')}`);
      for (const v of VARIANT_NAMES) {
        const m = (g, k) => L.median(res[v].map((x) => (k === 'count' ? (1000 * x.sched[g].count) / x.requests : x.sched[g].waitUs / x.requests)));
        console.log(`${v.padEnd(26)} ${SCHED.GROUPS.map((g) => `${fmt(m(g, 'count'), 1)}, ${fmt(m(g, 'waitUs'), 2)}`.padStart(g.length + 17)).join('  ')}`);
      }
    }
    if (res.header && res['plain-headers']) {
      const r = (key) => L.median(res.header.map((x, i) => x[key] / res['plain-headers'][i][key]));
      console.log(`header / plain-headers (the same requests, paired per round): req/s ${r('rps').toFixed(3)}, CPU ${r('cpu').toFixed(3)}`);
    }
    for (const [a, b] of [['header', 'agent'], ['header', 'agent-headers'], ['agent-headers', 'agent']]) {
      if (!res[a] || !res[b]) continue;
      const r = (key) => L.median(res[a].map((x, i) => x[key] / res[b][i][key]));
      const dcpu = L.median(res[a].map((x, i) => x.cpu - res[b][i].cpu));
      const cpuRatios = res[a].map((x, i) => x.cpu / res[b][i].cpu);
      const rounds = spread(cpuRatios);
      console.log(`${a} / ${b} (paired per round): req/s ${r('rps').toFixed(3)}, CPU ${r('cpu').toFixed(3)} (${rounds}; ${dcpu >= 0 ? '+' : ''}${dcpu.toFixed(1)} µs a request)`);
    }
  }
  console.log('* median of per-round ratios to plain (same round, same route). CPU = server process; agent = the agent process (plain-busy: its burner); ' +
    'store = redis-server for OSProfiler.js, the loopback sink process for OpenTelemetry/dd-trace; wrk = the load generator (10 ms ticks); exported = points (start+stop pairs) or spans counted at the store/sink');
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  clearTimeout(limit);
  sinks.send('stop');
  for (const a of Object.values(ctx.agents)) a.child.kill('SIGTERM');
  if (failures.length) {
    console.error(`FAILED: ${failures.join('; ')}`);
    process.exit(1);
  }
  process.exit(0);
}

if (process.argv.includes('--instructions')) require('./instructions.cjs').main();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
