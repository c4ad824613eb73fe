// The central collector end to end (`node tools/bench/collector.cjs`), against one agent
// writing the store directly, in the same run.
//
// Variants, alternating in each round (the order rotates):
//   direct-redis      client → agent --backend redis://            (the baseline)
//   collector-redis   client → agent --upstream nats:// → NATS JetStream → 1 collector → redis://
//   direct-pg         client → agent --backend postgresql://
//   collector-pg      client → agent --upstream → NATS → collector → postgresql://
// Each variant sends a FIXED number of notifications (BENCH_POINTS) from client processes
// that make real points (core start/stop inside traces, core's line format, agent://
// framing), as fast as the agent acknowledges; the clock stops when the store holds them
// all (counted in the store: Redis LLEN over the bench's lists, PostgreSQL count(*)).
// Ratio = end-to-end points/s of the collector variant / the direct one of the same round.
//
// Per-part CPU (from /proc, µs per stored point, so "points/s per core" = 1e6 / µs):
// client, agent, nats-server, collector, redis-server. PostgreSQL's backends are not ours
// (shared server), so its cost shows only as the direct-pg rate.
//
// Everything runs against the bench's OWN redis-server and nats-server (temp dirs, free
// ports) and PostgreSQL tables of its own prefix (dropped at the end). Bounded in points
// and time (~1-2 min with the defaults). The machine is shared: figures are indicative.
// Env: BENCH_POINTS (per variant and round, default 100000), BENCH_ROUNDS (2),
// BENCH_CLIENTS (1), BENCH_PARTITIONS (16), BENCH_VARIANTS (comma list), BENCH_PROFILE_DIR.
// BENCH_ROUNDS=0 runs only the per-part drains of the stores named in BENCH_VARIANTS.
'use strict';
const { fork, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort, procCpuUs, waitFor } = require('./lib/proc.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');

const POINTS = Number(process.env.BENCH_POINTS || 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS || 1);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS || 16);
// BENCH_PROFILE_DIR: the publishing agent and the draining collector of the per-part runs write --cpu-prof profiles there.
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR || '';
// BENCH_BEFORE=DIR: a copy of an older build laid out as DIR/node_modules/@osprofiler/{agent,collector,core,drivers}/
// {package.json,dist}; its collector path runs as `collector-<store>-before` in the same rounds (before/after paired).
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : '';
const VARIANTS = (process.env.BENCH_VARIANTS || `direct-redis,collector-redis,${BEFORE ? 'collector-redis-before,' : ''}direct-pg,collector-pg${BEFORE ? ',collector-pg-before' : ''}`).split(',');
const AGENT = path.join(__dirname, '../../packages/agent/dist/daemon.js');
const COLLECTOR = path.join(__dirname, '../../packages/collector/dist/daemon.js');
const builds = (before) =>
  before ? { agent: path.join(BEFORE, 'node_modules/@osprofiler/agent/dist/daemon.js'), collector: path.join(BEFORE, 'node_modules/@osprofiler/collector/dist/daemon.js') } : { agent: AGENT, collector: COLLECTOR };
// BENCH_COLLECTOR_NODE_ARGS: extra node flags for the draining collector (e.g. --max-semi-space-size=32).
const NODE_ARGS = (process.env.BENCH_COLLECTOR_NODE_ARGS || '').split(' ').filter(Boolean);
const PG_BASE = 'postgresql://postgres@127.0.0.1:5432/test';

// ---------------------------------------------------------------------------- client
function client(socket, points) {
  const core = require('@osprofiler/core');
  const { AgentClientDriver, clientOptionsFromUrl } = require('@osprofiler/agent');
  const driver = new AgentClientDriver(clientOptionsFromUrl(new URL(`agent://${socket}?max_points=200000&exit_hooks=0`)), { host: 'bench', service: 'bench', project: null });
  core.configure({ driver, host: 'bench', service: 'bench', flushIntervalMs: 2, maxBufferPoints: 1_000_000 });
  const CHUNK = 2000; // notifications per tick: 50 traces × 20 start/stop pairs
  const info = { function: { name: 'f' } };
  const cpu0 = process.cpuUsage();
  let sent = 0;
  const tick = () => {
    if (sent >= points) {
      core.flush(60_000).then(() => {
        const c = process.cpuUsage(cpu0);
        process.send({ sent, acknowledged: driver.counters.acknowledged, dropped: driver.counters.dropped, cpuUs: c.user + c.system });
        setTimeout(() => process.exit(0), 50);
      });
      return;
    }
    if (driver.pending >= 10 * CHUNK) {
      setTimeout(tick, 2);
      return;
    }
    for (let t = 0; t < 50; t++) {
      core.run({ hmacKey: 'k' }, () => {
        for (let i = 0; i < CHUNK / 100; i++) {
          core.start('fn', info);
          core.stop();
        }
      });
    }
    sent += CHUNK;
    setImmediate(tick);
  };
  tick();
}

// ---------------------------------------------------------------------- orchestrator

function start(cmd, args, ready, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return waitFor(what, () => {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${out}`);
    return ready.test(out);
  }, 20_000).then(() => Object.assign(child, { output: () => out }));
}

/** One counter of a collector started with --health (its address is in the start-up line). */
async function collectorMetric(child, name) {
  const m = /metrics on (http:\/\/[^\s]+)/.exec(child.output());
  if (!m) return NaN;
  try {
    const text = await (await fetch(m[1])).text();
    const line = text.split('\n').find((l) => l.startsWith(name + ' '));
    return line ? Number(line.split(' ')[1]) : NaN;
  } catch {
    return NaN;
  }
}

async function main() {
  const { Redis } = require('ioredis');
  const pg = require('pg');
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-collector-'));
  const children = [];
  const kill = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.on('exit', kill);
  const timer = setTimeout(() => {
    console.error('bench: time bound (10 min) reached');
    process.exit(1);
  }, 600_000);

  const { child: redisSrv, port: redisPort } = await startRedisServer(dir);
  children.push(redisSrv);
  const natsPort = await freePort();
  const natsSrv = await start('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', path.join(dir, 'nats')], /Server is ready/, 'nats-server');
  children.push(natsSrv);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const redis = new Redis({ host: '127.0.0.1', port: redisPort });
  const prefix = `osp_bench_${crypto.randomBytes(3).toString('hex')}_`;
  const pgc = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  await pgc.connect();
  const pgCs = `${PG_BASE}?table_prefix=${prefix}`;

  const countRedis = async () => Number(await redis.eval("local n = 0; for _, k in ipairs(redis.call('KEYS', 'osprofiler_opt:*')) do n = n + redis.call('LLEN', k) end; return n", 0));
  const countPg = async () => {
    try {
      return (await pgc.query(`SELECT count(*)::int AS n FROM ${prefix}osprofiler_points`)).rows[0].n;
    } catch {
      return 0; // table not created yet
    }
  };
  const clearStores = async () => {
    await redis.flushdb();
    await pgc.query(`DROP TABLE IF EXISTS ${prefix}osprofiler_points, ${prefix}osprofiler_errors, ${prefix}osprofiler_traces, ${prefix}osprofiler_tags`);
  };

  let run = 0;
  async function variant(name) {
    run++;
    await clearStores();
    const isRedis = name.split('-')[1] === 'redis';
    const store = isRedis ? `redis://127.0.0.1:${redisPort}/0` : pgCs;
    const count = isRedis ? countRedis : countPg;
    const viaCollector = name.startsWith('collector');
    const { agent: AGENT, collector: COLLECTOR } = builds(name.endsWith('-before'));
    const socket = path.join(dir, `a${run}.sock`);
    const stream = `BENCH${run}`;
    const prefixSubj = `bench${run}`;
    const procs = {};
    if (viaCollector) {
      procs.collector = await start(process.execPath, [COLLECTOR, '--nats', natsUrl, '--backend', store, '--stream', stream, '--subject-prefix', prefixSubj, '--partitions', String(PARTITIONS), '--health', `127.0.0.1:${await freePort()}`], /consuming/, 'collector');
      children.push(procs.collector);
      await new Promise((r) => setTimeout(r, 300)); // first lease tick
      procs.agent = await start(process.execPath, [AGENT, '--listen', socket, '--upstream', natsUrl, '--subject-prefix', prefixSubj, '--partitions', String(PARTITIONS), '--spool-dir', path.join(dir, `spool${run}`)], /listening on/, 'agent');
    } else {
      procs.agent = await start(process.execPath, [AGENT, '--listen', socket, '--backend', store, '--spool-dir', path.join(dir, `spool${run}`)], /listening on/, 'agent');
    }
    children.push(procs.agent);
    const cpu0 = {};
    const pids = { agent: procs.agent.pid, nats: natsSrv.pid, redis: redisSrv.pid, ...(procs.collector ? { collector: procs.collector.pid } : {}) };
    for (const [k, pid] of Object.entries(pids)) cpu0[k] = procCpuUs(pid);
    const t0 = Date.now();
    const clients = Array.from({ length: CLIENTS }, () => fork(__filename, ['--client', socket, String(Math.ceil(POINTS / CLIENTS))], { stdio: 'inherit' }));
    children.push(...clients);
    const results = Promise.all(clients.map((c) => new Promise((r) => c.once('message', r))));
    const rs = await results;
    const tAcked = Date.now();
    const sent = rs.reduce((a, r) => a + r.sent, 0);
    let stored = 0;
    await waitFor('all stored', async () => (stored = await count()) >= sent, 120_000).catch(() => undefined);
    const secs = (Date.now() - t0) / 1000;
    const cpu = {};
    for (const [k, pid] of Object.entries(pids)) cpu[k] = (procCpuUs(pid) - cpu0[k]) / Math.max(1, stored);
    cpu.client = rs.reduce((a, r) => a + r.cpuUs, 0) / Math.max(1, stored);
    // Messages per stored point (NATS's cost is mostly per message), from the collector's /metrics.
    const msgs = procs.collector ? await collectorMetric(procs.collector, 'osprofiler_collector_messages_total') : NaN;
    const writes = procs.collector ? await collectorMetric(procs.collector, 'osprofiler_collector_write_seconds_count') : NaN;
    for (const p of [procs.agent, procs.collector]) if (p) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    return { name, sent, stored, dropped: rs.reduce((a, r) => a + r.dropped, 0), secs, ackSecs: (tAcked - t0) / 1000, rate: stored / secs, cpu, pointsPerMessage: stored / msgs, pointsPerWrite: stored / writes };
  }

  // Per-part, alone: the collector draining a backlog it did not see arrive (agent done first).
  async function collectorDrain(storeName) {
    run++;
    await clearStores();
    const store = storeName === 'redis' ? `redis://127.0.0.1:${redisPort}/0` : pgCs;
    const count = storeName === 'redis' ? countRedis : countPg;
    const socket = path.join(dir, `a${run}.sock`);
    const stream = `BENCH${run}`;
    const prefixSubj = `bench${run}`;
    // --init first, so the stream exists and keeps the backlog.
    await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [COLLECTOR, '--init', '--nats', natsUrl, '--stream', stream, '--subject-prefix', prefixSubj, '--partitions', String(PARTITIONS)], { stdio: 'ignore' });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--init exited ${code}`))));
    });
    const agentProf = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `agent-publish-${storeName}.cpuprofile`] : [];
    const agent = await start(process.execPath, [...agentProf, AGENT, '--listen', socket, '--upstream', natsUrl, '--subject-prefix', prefixSubj, '--partitions', String(PARTITIONS)], /listening on/, 'agent');
    children.push(agent);
    const a0 = procCpuUs(agent.pid);
    const n0 = procCpuUs(natsSrv.pid);
    const tp = Date.now();
    const c = fork(__filename, ['--client', socket, String(POINTS)], { stdio: 'inherit' });
    children.push(c);
    const r = await new Promise((res) => c.once('message', res));
    const publishSecs = (Date.now() - tp) / 1000;
    const agentUs = (procCpuUs(agent.pid) - a0) / r.sent;
    const natsInUs = (procCpuUs(natsSrv.pid) - n0) / r.sent;
    agent.kill('SIGTERM');
    if (PROFILE_DIR) await new Promise((res) => (agent.exitCode === null ? agent.once('exit', res) : res()));
    const prof = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `collector-drain-${storeName}.cpuprofile`] : [];
    const collector = await start(process.execPath, [...prof, ...NODE_ARGS, COLLECTOR, '--nats', natsUrl, '--backend', store, '--stream', stream, '--subject-prefix', prefixSubj, '--partitions', String(PARTITIONS)], /consuming/, 'collector');
    children.push(collector);
    const c0 = procCpuUs(collector.pid);
    const n1 = procCpuUs(natsSrv.pid);
    const s0 = procCpuUs(redisSrv.pid);
    const t0 = Date.now();
    let stored = 0;
    await waitFor('drained', async () => (stored = await count()) >= r.sent, 120_000).catch(() => undefined);
    const secs = (Date.now() - t0) / 1000;
    const out = {
      store: storeName,
      sent: r.sent,
      stored,
      publishRate: r.sent / publishSecs,
      agentUs,
      natsInUs,
      drainRate: stored / secs,
      collectorUs: (procCpuUs(collector.pid) - c0) / Math.max(1, stored),
      natsOutUs: (procCpuUs(natsSrv.pid) - n1) / Math.max(1, stored),
      redisUs: storeName === 'redis' ? (procCpuUs(redisSrv.pid) - s0) / Math.max(1, stored) : NaN,
    };
    collector.kill('SIGTERM');
    // A profile is written at exit: wait for it.
    if (PROFILE_DIR) await new Promise((res) => (collector.exitCode === null ? collector.once('exit', res) : res()));
    await new Promise((res) => setTimeout(res, 300));
    return out;
  }

  console.log(
    `collector bench: ${POINTS} notifications per variant and round, ${ROUNDS} rounds, ${CLIENTS} client process(es), ${PARTITIONS} partitions; ` +
      `Node ${process.version}, nats-server 2.9 (own), redis-server (own), PostgreSQL (shared), ${os.cpus().length} vCPUs shared with other work: figures are indicative`,
  );
  const all = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const v of order) {
      const r = await variant(v);
      all.push({ round, ...r });
      console.log(
        `round ${round + 1} ${v.padEnd(16)} stored ${r.stored}/${r.sent} (dropped ${r.dropped}) in ${r.secs.toFixed(2)} s (client done at ${r.ackSecs.toFixed(2)} s) = ${r.rate.toFixed(0)} points/s; ` +
          `CPU µs/point: client ${r.cpu.client.toFixed(2)}, agent ${r.cpu.agent.toFixed(2)}, nats ${r.cpu.nats.toFixed(2)}, ` +
          `${r.cpu.collector !== undefined ? `collector ${r.cpu.collector.toFixed(2)}, ` : ''}redis-server ${r.cpu.redis.toFixed(2)}, ` +
          `sum ${Object.values(r.cpu).reduce((a, b) => a + b, 0).toFixed(1)}` +
          `${Number.isNaN(r.pointsPerMessage) ? '' : `; ${r.pointsPerMessage.toFixed(1)} points/message, ${r.pointsPerWrite.toFixed(0)} points/store write`}`,
      );
    }
  }
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log('\nratios (same round, end-to-end stored points/s, collector / direct):');
  for (const store of ['redis', 'pg']) {
    for (const tag of ['', '-before']) {
      const ratios = [];
      for (let round = 0; round < ROUNDS; round++) {
        const d = all.find((x) => x.round === round && x.name === `direct-${store}`);
        const c = all.find((x) => x.round === round && x.name === `collector-${store}${tag}`);
        if (d && c) ratios.push(c.rate / d.rate);
      }
      if (ratios.length > 0) console.log(`  ${store}${tag}: ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${med(ratios).toFixed(2)}; goal >= 0.8: ${med(ratios) >= 0.8 ? 'met' : 'MISSED'})`);
    }
  }
  console.log('\nper part, alone (publish a backlog with no collector running, then one collector drains it):');
  for (const store of ['redis', 'pg']) {
    if (!VARIANTS.some((v) => v.endsWith(store))) continue;
    const d = await collectorDrain(store);
    console.log(
      `  ${store}: agent publish ${d.publishRate.toFixed(0)} points/s (agent ${d.agentUs.toFixed(2)} µs/point, nats-server in ${d.natsInUs.toFixed(2)}); ` +
        `collector drain ${d.drainRate.toFixed(0)} points/s, ${d.stored}/${d.sent} stored (collector ${d.collectorUs.toFixed(2)} µs/point, nats-server out ${d.natsOutUs.toFixed(2)}` +
        `${Number.isNaN(d.redisUs) ? '' : `, redis-server ${d.redisUs.toFixed(2)}`})`,
    );
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await clearStores();
  await pgc.end();
  redis.disconnect();
  clearTimeout(timer);
  kill();
  process.exit(0);
}

if (process.argv[2] === '--client') client(process.argv[3], Number(process.argv[4]));
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
