// `node tools/bench/compare/run.cjs --instructions` (npm run bench:compare -- --instructions):
// instructions per request of the server's main thread under
// `valgrind --tool=callgrind --separate-threads=yes`, which the machine's other load does
// not change (wall-clock CPU does). For each case: the app under callgrind, WARMUP requests
// from a bounded keep-alive client in this process, counters zeroed (`callgrind_control -z`),
// COUNT requests, a dump. Instrumentation starts after the warm-up (--instr-atstart=no) (`callgrind_control -d`), the main thread's total (file `-01`)
// divided by COUNT. The notifier's timer runs inside the counted stretch, so the deferred
// formatting and the agent:// framing of traced cases are in the count. Beside it, the same
// dump's other threads (V8's GC helpers and compilers, libuv's pool) are summed: work moved
// off the main thread shows there, not in the main count.
// Env: BENCH_IR_WARMUP (3000), BENCH_IR_COUNT (1000), BENCH_IR_CONCURRENCY (4),
// BENCH_NODE=22|24 (the servers on that Node line: ../lib/node-under-test.cjs),
// BENCH_IR_KEEP (a directory: keep each main-thread dump there, for callgrind_annotate),
// BENCH_IR_CASES (plain:hello,noheader:hello,agent:hello,plain:nested,agent:nested,header:hello),
// BENCH_IR_NODE_FLAGS (node flags for every case's server, e.g. `--min-semi-space-size=16
// --max-semi-space-size=16`: V8 sizes the young generation from the allocation rate per
// wall-clock ms, which under valgrind depends on the machine's load; scavenges per 1,000
// requests then varied 6–105 for the same build, the largest part of the run-to-run spread).
// BENCH_IR_FUNCTIONS=N: every server also runs with --perf-basic-prof, and its main thread's
// instructions per request are summed per owner (OSProfiler.js, Express, Node's JS, V8
// builtins, V8/Node C++, libc…) and per function (JIT code named from V8's perf map,
// ../lib/callgrind-functions.cjs); each case is then set against its route's plain case:
// the owners, and the N functions whose count differs most. Deterministic, unlike the
// sampled profile.cjs, so a host function that does more work when traced shows exactly.
// (--perf-basic-prof writes a line per compiled code object, in both cases alike.)
// BENCH_IR_SIM=1: callgrind also simulates caches and branch predictors (lib/callgrind.cjs
// SIM_ARGS, ~2x slower): per request beside Ir the I1 misses, D1 misses (reads + writes), LL
// misses (instruction + data) and mispredicted conditional (Bcm) and indirect (Bim) branches,
// and KCachegrind's cycle estimate CEst = Ir + 10 (L1 misses + mispredictions) + 100 LL
// misses; with BENCH_IR_FUNCTIONS the owners and functions get those columns, the functions
// ranked by their CEst difference (what the traced process may run slower in, not just more of).
// BENCH_CORE_DIST=<copy of packages/core set aside before a change> and a case written
// `agent:hello:before`: that server loads the copy for every @osprofiler/core require
// (../lib/core-dist.cjs), so two core builds are counted in the same run.
// BENCH_IR_FLUSH_MS (OSPROFILER_FLUSH_INTERVAL_MS of every OSProfiler.js server; a case written
// `agent:hello:flush10000` sets it for that case): under callgrind a server answers ~10–50
// requests a second, so core's 100 ms timer flushes a batch every ~5 /hello requests, where
// at wrk's rates the 256-point early flush sends one every ~128: the per-batch work (format
// set-up, the agent:// frame and write, the ACK) is then counted ~25x per request.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const L = require('./lib.cjs');
const CG = require('../lib/callgrind.cjs');
const CF = require('../lib/callgrind-functions.cjs');

const WARMUP = Number(process.env.BENCH_IR_WARMUP || 3000);
const COUNT = Number(process.env.BENCH_IR_COUNT || 1000);
const CONCURRENCY = Number(process.env.BENCH_IR_CONCURRENCY || 4);
const NODE_FLAGS = (process.env.BENCH_IR_NODE_FLAGS || '').split(/\s+/).filter(Boolean);
const FUNCTIONS = Number(process.env.BENCH_IR_FUNCTIONS || 0);
const SIM = process.env.BENCH_IR_SIM === '1';
const CASES = (process.env.BENCH_IR_CASES || 'plain:hello,noheader:hello,agent:hello,plain:nested,agent:nested,header:hello').split(',').map((c) => c.split(':'));

/** Exactly `n` GET requests over `concurrency` keep-alive connections; headers[i] per request if given. */
async function requests(port, route, n, concurrency, headerAt) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (i) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/${route}`, agent, headers: headerAt ? headerAt(i) : {} }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`/${route}: status ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
  const loop = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
}

/** Owner of a function name from callgrind-functions.cjs: JS as `name url:line`, else native. */
function ownerOfName(name) {
  const js = / (\S+):\d+$/.exec(name);
  if (js && (js[1].includes('/') || js[1].startsWith('node:'))) return L.ownerOf(js[1], name);
  if (/^(Builtins_|Builtin:|BytecodeHandler:)/.test(name)) return 'V8 builtins + interpreter';
  if (name === '(JIT code, unnamed)') return name;
  if (/v8::|V8_Fatal|^Stub:|^RegExp:/.test(name)) return 'V8 C++ (runtime, GC, compiler)';
  if (/node::|^uv_|^uv__|napi_/.test(name)) return 'Node C++ + libuv';
  return 'native (libc, OpenSSL, …)';
}

/** Rows `a` → `b` per request: lib/callgrind-functions.cjs diffRows over COUNT requests. */
const diffRows = (a, b, n) => CF.diffRows(a, b, n, COUNT);

// The simulation's figures per request (L1/LL misses summed, KCachegrind's CEst): lib/callgrind.cjs.
const { simFigures } = CG;
const SIM_COLUMNS = ['Ir', 'I1m', 'D1m', 'LLm', 'Bcm', 'Bim', 'CEst'];
const add = (a, b) => Object.fromEntries(SIM_COLUMNS.map((k) => [k, (a?.[k] ?? 0) + b[k]]));

/** Sim rows `a` → `b` (maps of simFigures): per request, plain CEst, case CEst, and each column's difference, largest CEst difference first. */
function simDiffRows(a, b, n) {
  const zero = Object.fromEntries(SIM_COLUMNS.map((k) => [k, 0]));
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => [k, a.get(k) ?? zero, b.get(k) ?? zero]);
  rows.sort((x, y) => Math.abs(y[2].CEst - y[1].CEst) - Math.abs(x[2].CEst - x[1].CEst));
  return rows.slice(0, n);
}

/** One line of a sim table: plain and case CEst (k), then the differences per request. */
function simLine(label, x, y) {
  const d = (k, scale, digits) => (((y[k] - x[k]) / COUNT) / scale).toFixed(digits).padStart(8);
  return `${(x.CEst / COUNT / 1000).toFixed(1).padStart(8)}${(y.CEst / COUNT / 1000).toFixed(1).padStart(8)}${d('CEst', 1000, 2)}${d('Ir', 1000, 2)}` +
    `${d('I1m', 1, 0)}${d('D1m', 1, 0)}${d('LLm', 1, 1)}${d('Bcm', 1, 0)}${d('Bim', 1, 0)}  ${label}`;
}
const SIM_HEADER = '  CEst k: plain    case    diff | differences: Ir k, I1m, D1m, LLm, Bcm, Bim';

/**
 * The other threads' instructions in the last dump (V8's GC helpers and compiler, libuv's
 * pool): main-thread counts miss GC work done beside it (concurrent marking, parallel
 * scavenging), which wall-clock CPU includes.
 */
function otherThreads(file, pid) {
  const threads = CG.lastDumpThreads(file, pid)
    .filter((t) => t.thread !== '01')
    .map((t) => t.count);
  return { total: threads.reduce((a, b) => a + b, 0), threads };
}

async function main() {
  L.ensureDependencies();
  const valgrind = CG.version();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-ir-'));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const redis = await L.startRedis(dir, children);
  const socket = path.join(dir, 'agent.sock');
  await L.startAgent(socket, `redis://127.0.0.1:${redis.port}/1`, path.join(dir, 'spool'), children);
  const ctx = { redisPort: redis.port, agents: { main: { socket } } };
  const { signedPack } = require('@osprofiler/core');
  // `prefix`: the header names (a control variant sends the same bytes under other names).
  const signed = (prefix) => () => {
    const id = require('node:crypto').randomUUID();
    const { info, hmac } = signedPack({ base_id: id, parent_id: id }, L.KEY);
    return { [`${prefix}Info`]: info, [`${prefix}HMAC`]: hmac };
  };

  console.log(`instructions per request, main thread, callgrind (valgrind ${valgrind}), ` +
    `Node ${L.nodeUnderTest().version}; ${WARMUP} warm-up requests, ${COUNT} counted, ${CONCURRENCY} keep-alive connections` +
    (NODE_FLAGS.length > 0 ? `; node ${NODE_FLAGS.join(' ')}` : ''));
  const out = {};
  const sim = {};
  const byCase = {};
  for (const [name, route, build] of CASES) {
    const spec = L.serverSpec(name, ctx);
    const env = spec.env;
    const flushMs = build?.startsWith('flush') ? build.slice(5) : process.env.BENCH_IR_FLUSH_MS;
    if (flushMs && L.VARIANTS[name].osp) env.OSPROFILER_FLUSH_INTERVAL_MS = flushMs;
    if (build === 'before' && !process.env.BENCH_CORE_DIST) throw new Error(`case ${name}:${route}:before needs BENCH_CORE_DIST`);
    const execArgv = build === 'before' ? ['--require', path.join(__dirname, '../lib/core-dist.cjs'), ...spec.execArgv] : spec.execArgv;
    const label = build ? `${name}@${build}` : name;
    const port = await L.freePort();
    const file = path.join(dir, `cg-${label}-${route}`);
    // Instrumentation off until the warm-up is done (start-up and warm-up run ~10x faster),
    // then on, counters zeroed, the counted requests, a dump.
    const vg = CG.spawnNode(file, [...NODE_FLAGS, ...(FUNCTIONS > 0 ? ['--perf-basic-prof'] : []), ...execArgv, L.APP], {
      env: { ...env, BENCH_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }, SIM ? CG.SIM_ARGS : []);
    children.push(vg);
    let log = '';
    vg.stdout.on('data', (d) => (log += d));
    vg.stderr.on('data', (d) => (log += d));
    await L.waitFor(`${name} under callgrind`, () => /listening \d+/.test(log), 180_000).catch((e) => {
      throw new Error(`${e.message}\n${log}`);
    });
    const headerAt = L.VARIANTS[name].headers ? signed(L.VARIANTS[name].headerPrefix ?? 'X-Trace-') : undefined;
    // Headers are made before each batch is sent, in this process, so their cost is not the server's.
    const pre = headerAt ? Array.from({ length: Math.max(WARMUP, COUNT) }, headerAt) : undefined;
    await requests(port, route, WARMUP, CONCURRENCY, pre && ((i) => pre[i]));
    CG.start(vg.pid);
    const pre2 = headerAt ? Array.from({ length: COUNT }, headerAt) : undefined;
    await requests(port, route, COUNT, CONCURRENCY, pre2 && ((i) => pre2[i]));
    // Let the notifier's timer send what the counted requests made.
    await new Promise((r) => setTimeout(r, 300));
    const keep = process.env.BENCH_IR_KEEP ? path.join(process.env.BENCH_IR_KEEP, `callgrind.${label}-${route}`) : FUNCTIONS > 0 ? `${file}.main` : undefined;
    const events = CG.dumpMainThreadEvents(file, vg.pid, keep);
    const total = events.Ir;
    const others = otherThreads(file, vg.pid);
    // V8 writes the map to /tmp/perf-<pid>.map only (no path flag in Node 20): taken now.
    const mapFile = `/tmp/perf-${vg.pid}.map`;
    if (FUNCTIONS > 0) fs.renameSync(mapFile, `${file}.map`);
    if (FUNCTIONS > 0 && process.env.BENCH_IR_KEEP) fs.copyFileSync(`${file}.map`, `${keep}.map`);
    vg.kill('SIGKILL');
    await new Promise((r) => vg.once('exit', r));
    if (FUNCTIONS > 0) {
      const { self: fns, events: names, selfEvents, calls } = CF.profileOf(keep, CF.readPerfMap(`${file}.map`));
      const owners = new Map();
      for (const [k, v] of fns) owners.set(ownerOfName(k), (owners.get(ownerOfName(k)) ?? 0) + v);
      const simFns = new Map();
      const simOwners = new Map();
      if (SIM) {
        for (const [k, v] of selfEvents) {
          const f = simFigures(Object.fromEntries(names.map((e, i) => [e, v[i]])));
          simFns.set(k, f);
          simOwners.set(ownerOfName(k), add(simOwners.get(ownerOfName(k)), f));
        }
      }
      byCase[`${label}:${route}`] = { fns, owners, calls, simFns, simOwners };
    }
    let stored = '';
    if (L.VARIANTS[name].osp === 'discard') stored = ', points dropped in the server (discard://)';
    else if (L.VARIANTS[name].osp) {
      await new Promise((r) => setTimeout(r, 300));
      stored = `, ${(await L.countStoredAndFlush(redis.port, 1)) / 2} points stored`;
    }
    out[`${label}:${route}`] = total / COUNT;
    console.log(`${`${label} /${route}`.padEnd(18)} ${(total / COUNT / 1000).toFixed(0).padStart(6)}k instructions/request${stored}; ` +
      `other threads ${(others.total / COUNT / 1000).toFixed(1)}k (${others.threads.map((t) => (t / COUNT / 1000).toFixed(1)).join(' + ')})`);
    if (SIM) {
      const f = simFigures(events);
      const per = (k) => (f[k] / COUNT).toFixed(k === 'LLm' ? 1 : 0);
      sim[`${label}:${route}`] = f;
      console.log(`${''.padEnd(18)} per request: I1 misses ${per('I1m')}, D1 misses ${per('D1m')}, LL misses ${per('LLm')}, ` +
        `mispredicted Bcm ${per('Bcm')} of ${(events.Bc / COUNT).toFixed(0)}, Bim ${per('Bim')} of ${(events.Bi / COUNT).toFixed(0)}; CEst ${(f.CEst / COUNT / 1000).toFixed(0)}k`);
    }
  }
  const ratio = (a, b) => (out[a] && out[b] ? (out[a] / out[b]).toFixed(3) : '-');
  console.log(`ratios: noheader/plain hello ${ratio('noheader:hello', 'plain:hello')} (goal <= 1.02), ` +
    `agent/plain hello ${ratio('agent:hello', 'plain:hello')} (goal <= 1.10), agent/plain nested ${ratio('agent:nested', 'plain:nested')} (goal <= 1.25), ` +
    `header/plain hello ${ratio('header:hello', 'plain:hello')}`);
  if (SIM) {
    for (const [name, route, build] of CASES) {
      const a = sim[`plain:${route}`];
      const label = build ? `${name}@${build}` : name;
      const b = sim[`${label}:${route}`];
      if (name === 'plain' || !a) continue;
      const r = (k) => (a[k] > 0 ? (b[k] / a[k]).toFixed(3) : '-');
      console.log(`${label}/plain /${route}: Ir ${r('Ir')}, I1m ${r('I1m')}, D1m ${r('D1m')}, LLm ${r('LLm')}, Bcm ${r('Bcm')}, Bim ${r('Bim')}, CEst ${r('CEst')}`);
    }
  }
  if (FUNCTIONS > 0) {
    for (const [plainName, route, build] of CASES) {
      const name = build ? `${plainName}@${build}` : plainName;
      const base = byCase[`plain:${route}`];
      const c = byCase[`${name}:${route}`];
      if (name === 'plain' || !base) continue;
      if (SIM) {
        console.log(`\n${name} /${route} against plain /${route}, main thread, simulated, per request, by owner:\n${SIM_HEADER}`);
        for (const [k, x, y] of simDiffRows(base.simOwners, c.simOwners, 20)) console.log(simLine(k, x, y));
        console.log(`  the ${FUNCTIONS} functions whose CEst differs most:\n${SIM_HEADER}`);
        for (const [k, x, y] of simDiffRows(base.simFns, c.simFns, FUNCTIONS)) console.log(simLine(k, x, y));
      }
      console.log(`\n${name} /${route} against plain /${route}, main thread, instructions per request (k): plain, ${name}, difference`);
      for (const [k, x, y] of diffRows(base.owners, c.owners, 20)) console.log(`${(x / 1000).toFixed(2).padStart(9)}${(y / 1000).toFixed(2).padStart(9)}${((y - x) / 1000).toFixed(2).padStart(9)}  ${k}`);
      console.log(`  the ${FUNCTIONS} functions that differ most:`);
      for (const [k, x, y] of diffRows(base.fns, c.fns, FUNCTIONS)) {
        console.log(`${(x / 1000).toFixed(2).padStart(9)}${(y / 1000).toFixed(2).padStart(9)}${((y - x) / 1000).toFixed(2).padStart(9)}  ${k}`);
        // Who called it more (inclusive): a builtin, runtime or Node function is not ours,
        // its callers may be.
        if (!k.includes('/packages/') && Math.abs(y - x) > 500) {
          const callers = (calls) => new Map(CF.callersOf(calls, k).map(([f, , inc]) => [f, inc]));
          for (const [f, cx, cy] of diffRows(callers(base.calls), callers(c.calls), 4)) {
            console.log(`${''.padStart(9)}${(cx / 1000).toFixed(2).padStart(9)}${(cy / 1000).toFixed(2).padStart(9)}    from ${f} (inclusive ${((cy - cx) / 1000).toFixed(2)})`);
          }
        }
      }
    }
  }
  process.exit(0);
}

module.exports = {
  main: () =>
    main().catch((err) => {
      console.error(err);
      process.exit(1);
    }),
};
