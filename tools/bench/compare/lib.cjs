// Shared parts of the comparison's two modes (run.cjs: wrk windows; instructions.cjs:
// callgrind counts): the variants and how each server is started, the bench's own
// redis-server and agent, /proc readings, the signed-headers file.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { CLK_TCK, procCpuUs, procThreads, procRssMb, freePort, waitFor } = require('../lib/proc.cjs');
const { startRedisServer } = require('../lib/redis-server.cjs');
const { redisCommand } = require('../lib/redis-command.cjs');
const { DAEMON, beforeDaemon, agentEnv } = require('../lib/agent-build.cjs');
const { nodeUnderTest } = require('../lib/node-under-test.cjs');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');
const APP = path.join(__dirname, 'app.cjs');
const KEY = 'bench-key';
/** The control store's preload (discard.cjs). */
const DISCARD = path.join(__dirname, 'discard.cjs');

/**
 * Each variant: what is preloaded into app.cjs and with what environment. OSProfiler.js
 * runs in automatic mode (`--require @osprofiler/auto`, OSPROFILER_* only) with the Knex
 * adapter's register entry and the driver of its store; `sampling: '1/1'` traces every
 * request without a header; `headers` sends a distinct signed header on every request.
 */
const VARIANTS = {
  plain: { label: 'plain Express' },
  noheader: { label: 'OSProfiler.js enabled, no header', osp: 'agent' },
  agent: { label: 'OSProfiler.js every request, agent://', osp: 'agent', sampling: true },
  redis: { label: 'OSProfiler.js every request, direct redis://', osp: 'redis', sampling: true },
  header: { label: 'OSProfiler.js signed header per request, agent://', osp: 'agent', headers: true },
  otel: { label: 'OpenTelemetry JS (BatchSpanProcessor, OTLP/HTTP protobuf)', preload: 'otel.cjs', sink: 'otlp' },
  dd: { label: 'dd-trace (to a fake agent)', preload: 'dd.cjs', sink: 'dd' },
  // Control, only when asked for (BENCH_VARIANTS / BENCH_IR_CASES): promise hooks on, no tracer.
  'plain-als': { label: 'plain Express, AsyncLocalStorage in use', preload: 'als.cjs', optional: true },
  // Control for `header`: plain Express sent the same requests. wrk builds each request in
  // Lua only when it carries a header, so its own CPU per request differs from plain's
  // static request, on the same two cores as the server (the `wrk µs/req` column).
  // Control for the sidecars: plain Express with burner.cjs beside it, using about the CPU
  // the agent and redis-server use for `agent` (BENCH_BUSY_DUTY_MS of every 10 ms): what
  // sharing the two cores alone costs the server (its column `agent µs/req` is the burner's).
  // Control for the traced request's allocation: plain Express allocating and dropping about
  // what a traced /nested request does (alloc.cjs), no tracer work.
  'plain-alloc': { label: 'plain Express, allocating a traced request\'s garbage', preload: 'alloc.cjs', optional: true },
  'plain-busy': { label: 'plain Express, a CPU burner beside it', busy: true, optional: true },
  // Control for `agent`: the same, through a second agent whose store keeps no search index
  // (redis://…?index=false): what the index's agent and Redis CPU cost the server's req/s.
  'agent-noindex': { label: 'OSProfiler.js every request, agent:// to redis:// ?index=false', osp: 'agent', sampling: true, agent: 'noindex', optional: true },
  // Control for `agent`: the same, through a second agent run at nice 10 (the default is 0):
  // what the agent's priority below the app's is worth to the app's req/s.
  'agent-nice10': { label: 'OSProfiler.js every request, agent:// at nice 10', osp: 'agent', sampling: true, agent: 'nice10', optional: true },
  // Control for `agent`: the same, through a second agent under SCHED_IDLE (`chrt --idle`, all
  // its threads): the kernel counts a CPU running only idle-class tasks as idle when it places
  // a waking task (wrk, Redis, the app's helper threads), so those take the agent's CPU rather
  // than preempt the app's main thread. What that placement is worth to the app's req/s.
  'agent-idle': { label: 'OSProfiler.js every request, agent:// under SCHED_IDLE', osp: 'agent', sampling: true, agent: 'idle', optional: true },
  // Control for `agent`: the same, through a second agent under SCHED_BATCH (`chrt --batch`, all
  // its threads): its fair share of the CPUs as at nice 0, but its wake-ups (a frame from
  // the app, Redis's answer) never preempt the task running there (the kernel's wake-up
  // preemption skips batch tasks). What that is worth to the app's req/s.
  'agent-batch': { label: 'OSProfiler.js every request, agent:// under SCHED_BATCH', osp: 'agent', sampling: true, agent: 'batch', optional: true },
  // Control for `agent`: the same, through a second agent run with node's --single-threaded-gc
  // (V8 collects on the agent's main thread only): at 6 points a trace and 10k traces/s its
  // other threads read 0.30–0.32 µs a point against 1.09–1.58 (agent.cjs service, session 30).
  // Whether fewer helper-thread wake-ups beside the server are worth anything to its req/s.
  'agent-stgc': { label: 'OSProfiler.js every request, agent:// with --single-threaded-gc', osp: 'agent', sampling: true, agent: 'stgc', optional: true },
  // Controls for `noheader` after a first trace (session 31): the server makes one trace at
  // start-up (osprofiler.cjs BENCH_TRACE_ONCE), as a header-triggered process has after its
  // first traced request; Node 20 then runs AsyncLocalStorage's promise hooks on every promise
  // until core turns them off when no trace is at work (`contextIdleMs`, 1 s here) — or never
  // (`-on`: contextIdleMs 0, what every such process did before).
  'noheader-once': { label: 'OSProfiler.js enabled, no header, one trace at start-up (contextIdleMs 1000)', osp: 'agent', traceOnce: true, contextIdleMs: 1000, optional: true },
  'noheader-once-on': { label: 'OSProfiler.js enabled, no header, one trace at start-up (contextIdleMs 0)', osp: 'agent', traceOnce: true, contextIdleMs: 0, optional: true },
  // Controls for `agent` (session 32), splitting its cost: `discard` formats every line in
  // the server as for any store and drops it there (discard.cjs: no socket, no agent, no
  // Redis), the app's own cost of tracing; `agent-discard` is `agent` through a second agent
  // whose store is discard:// (the app, the protocol and the agent's decode, no driver
  // writes, no Redis).
  discard: { label: 'OSProfiler.js every request, lines dropped in the server (discard://)', osp: 'discard', sampling: true, optional: true },
  'agent-discard': { label: 'OSProfiler.js every request, agent:// to discard://', osp: 'agent', sampling: true, agent: 'discard', optional: true },
  // Control for `agent` on Node 24 or later (BENCH_NODE, lib/node-under-test.cjs):
  // the same with `--no-async-context-frame`, AsyncLocalStorage on promise hooks as on Node
  // 20, so the pair shows what that mechanism costs a traced route in one run.
  'agent-hooks': { label: 'OSProfiler.js every request, agent://, --no-async-context-frame', osp: 'agent', sampling: true, nodeArgs: ['--no-async-context-frame'], minNode: 24, optional: true },
  // Control for `agent` (session 32): the same, through a second agent of an older build
  // (BENCH_AGENT_BEFORE, laid out as agent.cjs's: DIR/node_modules/@osprofiler/{agent,core,drivers}).
  'agent-before': { label: 'OSProfiler.js every request, agent:// to an agent of BENCH_AGENT_BEFORE', osp: 'agent', sampling: true, agent: 'before', optional: true },
  'plain-headers': { label: 'plain Express, sent the signed headers', headers: true, optional: true },
  // Control for `header` against `agent`: every request traced by sampling, sent the same
  // bytes under other names (X-Other-Info/-HMAC), so nothing is verified: what the header's
  // bytes and wrk's per-request Lua cost a traced server, apart from verifying them.
  'agent-headers': { label: 'OSProfiler.js every request, agent://, sent the header bytes under other names', osp: 'agent', sampling: true, headers: true, headerPrefix: 'X-Other-', optional: true },
};

/**
 * Whose code a profiled function is (OSProfiler.js, Express, Node, …), from its script URL
 * and name: profile.cjs (sampled CPU) and instructions.cjs (callgrind) sum per owner.
 */
function ownerOf(u, f) {
  if (f === '(garbage collector)') return 'GC';
  if (f === '(program)') return 'native/program';
  if (f === '(idle)') return 'idle';
  if (/packages\/(core|express|knex|node|agent|auto|drivers)\/dist|@osprofiler/.test(u)) {
    return `OSProfiler.js ${/packages\/([a-z]+)\//.exec(u)?.[1] ?? ''}`.trim();
  }
  if (/node_modules\/(express|router|body-parser|finalhandler|send|serve-static|on-finished|path-to-regexp|qs|depd|debug|parseurl|encodeurl|etag|fresh|content-type|mime-types|type-is|accepts|negotiator|vary|statuses|http-errors|merge-descriptors|cookie|proxy-addr|range-parser)\//.test(u)) return 'Express + router + deps';
  if (/node_modules\/(knex|better-sqlite3)/.test(u)) return 'Knex + better-sqlite3';
  if (u.startsWith('node:')) {
    if (/async_hooks|promise_hooks/.test(u)) return 'Node async_hooks / ALS';
    return 'Node internals (http, net, streams, events)';
  }
  if (u.includes('compare/app.cjs')) return 'the app';
  if (u === '') return `V8/native: ${f || '(anonymous)'}`.slice(0, 40);
  return 'other JS';
}

/**
 * BENCH_PIN=1: every thread of process `pid` on CPU `cpu` only (the server on 0; wrk, the
 * agents, redis-server and the burner on 1), so the server's main thread is never preempted
 * by them: what is left of a variant's gap is the server's own. No-op without BENCH_PIN.
 */
function pin(pid, cpu) {
  if (!PIN) return;
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`BENCH_PIN: taskset could not pin ${pid} to CPU ${cpu}`);
}
const PIN = process.env.BENCH_PIN === '1';

/** node flags and environment of one variant's server; `ctx` holds socket, ports. */
function serverSpec(name, ctx) {
  const v = VARIANTS[name];
  const env = {};
  for (const [k, val] of Object.entries(process.env)) if (!/^(OSPROFILER_|DD_|OTEL_)/.test(k)) env[k] = val;
  Object.assign(env, nodeUnderTest().env);
  if (v.nodeArgs !== undefined && Number(/^v(\d+)/.exec(nodeUnderTest().version)[1]) < v.minNode) {
    throw new Error(`variant ${name} needs Node ${v.minNode} or later (BENCH_NODE), this run's is ${nodeUnderTest().version}`);
  }
  const requires = [];
  if (v.osp) {
    // discard:// is registered before auto checks the connection string; agent:// and
    // redis:// are packages auto knows and loads itself.
    if (v.osp === 'discard') requires.push(DISCARD);
    requires.push(require.resolve('@osprofiler/auto'), require.resolve('@osprofiler/knex/register'));
    if (v.osp !== 'discard') requires.push(require.resolve(v.osp === 'agent' ? '@osprofiler/agent/register' : '@osprofiler/drivers/register'));
    requires.push(path.join(__dirname, 'osprofiler.cjs'));
    Object.assign(env, {
      OSPROFILER_ENABLED: 'true',
      OSPROFILER_HMAC_KEYS: KEY,
      OSPROFILER_SERVICE: 'bench',
      OSPROFILER_HOST: 'bench',
      OSPROFILER_CONNECTION_STRING: { agent: () => `agent://${agentOf(ctx, v).socket}`, redis: () => `redis://127.0.0.1:${ctx.redisPort}/2`, discard: () => 'discard://' }[v.osp](),
    });
    if (v.sampling) env.OSPROFILER_SAMPLING = '1/1';
    if (v.traceOnce) env.BENCH_TRACE_ONCE = '1';
    if (v.contextIdleMs !== undefined) env.OSPROFILER_CONTEXT_IDLE_MS = String(v.contextIdleMs);
  } else if (v.preload) {
    requires.push(path.join(__dirname, v.preload));
    if (v.sink === 'otlp') env.BENCH_OTLP_URL = `http://127.0.0.1:${ctx.otlpPort}/v1/traces`;
    else
      Object.assign(env, {
        DD_TRACE_AGENT_URL: `http://127.0.0.1:${ctx.ddPort}`,
        DD_SERVICE: 'bench',
        DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
        DD_REMOTE_CONFIGURATION_ENABLED: 'false',
        DD_RUNTIME_METRICS_ENABLED: 'false',
        DD_PROFILING_ENABLED: 'false',
        DD_TRACE_STARTUP_LOGS: 'false',
        DD_DATA_STREAMS_ENABLED: 'false',
        DD_TRACE_STATS_COMPUTATION_ENABLED: 'false',
      });
  }
  return { execArgv: [...(process.env.BENCH_SERVER_NODE_ARGS || '').split(' ').filter(Boolean), ...(v.nodeArgs ?? []), ...requires.flatMap((r) => ['--require', r])], env };
}

/**
 * BENCH_STORE_PURGE=0: a counted db is emptied key by key (DEL) instead of by FLUSHDB. Redis
 * 7's FLUSHDB also hands the freed memory back to the OS (jemalloc's purge), so each window's
 * store then grows from nothing and faults every page in again: Redis CPU a stored 4.2 KB
 * list 20 µs after a FLUSHALL against 6.5–8.5 after DELs (redis-cli --pipe, 20,000 LPUSHes,
 * ~1.3 against 0.2–0.4 page faults each; session 32). With DEL, Redis reuses its memory, as
 * a store holding its retention period does in steady state; FLUSHDB (the default, as every
 * published run) is a store growing from empty.
 */
const STORE_PURGE = process.env.BENCH_STORE_PURGE !== '0';

/** Notifications stored in `db` (Python's osprofiler_opt:<base_id> lists), then empties it. */
async function countStoredAndFlush(port, db) {
  const empty = STORE_PURGE ? "redis.call('FLUSHDB')" : "for _, k in ipairs(redis.call('KEYS', '*')) do redis.call('DEL', k) end";
  const script = `local n = 0 for _, k in ipairs(redis.call('KEYS', 'osprofiler_opt:*')) do n = n + redis.call('LLEN', k) end ${empty} return n`;
  return Number((await redisCommand(port, db, 'EVAL', script, 0)).replace(/^:/, ''));
}

async function startRedis(dir, children) {
  const redis = await startRedisServer(dir);
  children.push(redis.child);
  return redis;
}

/**
 * The agents a run may use, by the name variants give in `agent`: the Redis db each writes
 * (its points counted there), the daemon's extra arguments, node's (`nodeArgs`) and its scheduling class (`sched`).
 */
const AGENTS = {
  main: { db: 1, query: '', args: [] },
  noindex: { db: 3, query: '?index=false', args: [] },
  nice10: { db: 4, query: '', args: ['--nice', '10'] },
  idle: { db: 5, query: '', args: [], sched: 'idle' },
  batch: { db: 6, query: '', args: [], sched: 'batch' },
  stgc: { db: 7, query: '', args: [], nodeArgs: ['--single-threaded-gc'] },
  // No Redis db: its store is discard://, its points counted by the agent's own metrics.
  discard: { backend: 'discard://', args: [], nodeArgs: ['--require', DISCARD] },
  before: { db: 8, query: '', args: [], daemon: () => {
    const daemon = beforeDaemon();
    if (daemon === undefined) throw new Error('agent-before: set BENCH_AGENT_BEFORE to a directory holding node_modules/@osprofiler/{agent,core,drivers} of the older build');
    return daemon;
  } },
};

/** Points (start or stop lines) an agent with `--health 127.0.0.1:port` wrote to its store so far. */
async function agentWritten(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^osprofiler_agent_written_points_total (\d+)$/m.exec(text);
  if (m === null) throw new Error(`agent metrics on port ${port}: no osprofiler_agent_written_points_total`);
  return Number(m[1]);
}

/** The agent (`ctx.agents`, by AGENTS' names) variant `v` sends to: its own, else the main one. */
function agentOf(ctx, v) {
  return ctx.agents[v.agent ?? 'main'];
}

async function startAgent(socket, backend, spool, children, args = [], nodeArgs = [], daemon = DAEMON) {
  const child = spawn(nodeUnderTest().execPath, [...nodeArgs, daemon, '--listen', socket, '--backend', backend, '--spool-dir', spool, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: agentEnv() });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await waitFor('agent', () => /listening on/.test(err), 15_000);
  return child;
}

/** A file of `n` lines "<X-Trace-Info> <X-Trace-HMAC>", each a distinct trace, signed with core's signedPack. */
function writeSignedHeaders(file, n) {
  const { signedPack } = require('@osprofiler/core');
  const lines = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    const { info, hmac } = signedPack({ base_id: id, parent_id: id }, KEY);
    lines.push(`${info} ${hmac}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** The comparison's own package (OpenTelemetry, dd-trace) and the built libraries, or a clear failure. */
function ensureDependencies() {
  if (!fs.existsSync(path.join(__dirname, 'node_modules/dd-trace/package.json'))) {
    console.log('installing the comparison tracers (npm ci --prefix tools/bench/compare)');
    const r = spawnSync('npm', ['ci', '--prefix', __dirname, '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm ci --prefix tools/bench/compare failed');
  }
  for (const p of ['core', 'auto', 'express', 'knex', 'agent', 'drivers', 'node']) {
    if (!fs.existsSync(path.join(ROOT, `packages/${p}/dist/index.js`))) {
      throw new Error(`packages/${p} is not built: run \`npx nx run-many -t build --projects=tag:scope:lib\` (npm run bench:compare does)`);
    }
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

module.exports = {
  nodeUnderTest, ROOT, APP, KEY, VARIANTS, AGENTS, STORE_PURGE, agentOf, CLK_TCK, PIN, pin, ownerOf, serverSpec, procCpuUs, procThreads, procRssMb, freePort, waitFor, redisCommand,
  countStoredAndFlush, agentWritten, startRedis, startAgent, writeSignedHeaders, ensureDependencies, median,
};
