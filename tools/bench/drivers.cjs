// Storage driver write throughput (`npm run bench drivers`): points/s each driver stores
// from one process, fed through its own notify() in batches (as core's notifier does),
// then flush(). Drivers take turns in time slices, round after round, so machine noise
// hits all alike; afterwards the points are COUNTED IN THE STORE, and points/s = stored
// points / time spent writing them. Everything it creates (its redis-server, its own SQL
// tables, a temp dir) is removed at the end. Bounded: < 90 s.
//
// Needs the real servers: redis-server (started here: its own, on a free port, removed at
// the end), PostgreSQL 127.0.0.1:5432 (postgres/test), MariaDB 127.0.0.1:3306 (root/test).
// BENCH_DRIVERS=redis,file limits the set.
// BENCH_LINES=1 feeds what the agent and the collector hand a driver instead: stored lines
// without a LineIndex, through notifyLines, or parsed back into objects for a driver
// without it (as the agent's backend does). BENCH_BEFORE=<an older build's
// packages/drivers/dist, with NODE_PATH=node_modules when it lies outside the repository> adds `redis@before`,
// `postgresql@before` and `mysql@before` (that build's drivers; a database or tables of their
// own) to the same rounds: a paired A/B of a driver change.
'use strict';
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
const { traceBatch } = require('./lib/batches.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');
require('@osprofiler/drivers');

const BATCH = Number(process.env.BENCH_BATCH || 1000); // points per notify()
const DEPTH = Number(process.env.BENCH_DEPTH || 2); // notify() batches in flight at once
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS || 2500); // per driver per round
/** The bench's own redis-server (main() starts it): db 0 for this build, 1 for BENCH_BEFORE's. */
let redisPort = 0;
let redisProc;
const PREFIX = `osp_bench${randomBytes(3).toString('hex')}_`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-drivers-'));

const TARGETS = {
  redis: { cs: () => `redis://127.0.0.1:${redisPort}/0`, goal: 100_000 },
  postgresql: { cs: `postgresql://postgres@127.0.0.1:5432/test?table_prefix=${PREFIX}`, goal: 50_000 },
  mysql: { cs: `mysql://root@127.0.0.1:3306/test?table_prefix=${PREFIX}` },
  file: { cs: `file://${dir}` },
};
const LINES = process.env.BENCH_LINES === '1';
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
if (BEFORE !== undefined) {
  TARGETS['redis@before'] = { cs: () => `redis://127.0.0.1:${redisPort}/1`, create: (cs, o) => require(path.join(BEFORE, 'redis/driver.js')).createRedisDriver(new URL(cs), o) };
  TARGETS['postgresql@before'] = { cs: `postgresql://postgres@127.0.0.1:5432/test?table_prefix=${PREFIX}b_`, create: (cs, o) => require(path.join(BEFORE, 'sql/postgres.js')).createPostgresDriver(new URL(cs), o) };
  TARGETS['mysql@before'] = { cs: `mysql://root@127.0.0.1:3306/test?table_prefix=${PREFIX}b_`, create: (cs, o) => require(path.join(BEFORE, 'sql/mysql.js')).createMysqlDriver(new URL(cs), o) };
}
const names = (process.env.BENCH_DRIVERS || Object.keys(TARGETS).join(',')).split(',').filter((n) => TARGETS[n]);
if (BEFORE !== undefined) for (const n of ['redis', 'postgresql', 'mysql']) if (names.includes(n) && !names.includes(`${n}@before`)) names.push(`${n}@before`);
/** The store a target writes: its server and table prefix. */
const storeOf = (name) => ({ kind: name.split('@')[0], prefix: name.endsWith('@before') ? `${PREFIX}b_` : PREFIX, db: name.endsWith('@before') ? 1 : 0 });

const baseIds = []; // every trace written, to count and clean up
const host = os.hostname();


/** One batch into the driver: objects, or with BENCH_LINES the lines as the agent forwards them (the lines are made outside the timed write's CPU only in spirit: both sides pay the same). */
function write(driver, batch) {
  if (!LINES) return driver.notify(batch);
  const { index: _index, ...lines } = instrument.linesOfNotifications(batch);
  if (typeof driver.notifyLines === 'function') return driver.notifyLines(lines);
  return driver.notify(lines.lines.map((l) => instrument.parseStoredEvent(l)));
}

/** Feeds the driver batches for `ms`, DEPTH in flight; returns [points handed over, ms incl. flush]. */
async function slice(driver, ms) {
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inflight = new Set();
  while (performance.now() - t0 < ms) {
    const batch = traceBatch(BATCH, host, (b) => baseIds.push(b));
    const p = Promise.resolve(write(driver, batch)).finally(() => inflight.delete(p));
    inflight.add(p);
    sent += batch.length;
    if (inflight.size >= DEPTH) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await driver.flush(30_000);
  const cpu = process.cpuUsage(cpu0);
  return [sent, performance.now() - t0, (cpu.user + cpu.system) / 1000];
}

async function countStored(name) {
  const { kind, prefix, db } = storeOf(name);
  if (kind === 'redis') {
    const { Redis } = require('ioredis');
    const r = new Redis({ host: '127.0.0.1', port: redisPort, db });
    let n = 0;
    for (let i = 0; i < baseIds.length; i += 1000) {
      const p = r.pipeline();
      for (const b of baseIds.slice(i, i + 1000)) p.llen(`osprofiler_opt:${b}`);
      for (const [, v] of await p.exec()) n += Number(v);
    }
    await r.quit();
    return n;
  }
  if (kind === 'postgresql') {
    const pg = require('pg');
    const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/test' });
    await c.connect();
    const n = Number((await c.query(`SELECT COUNT(*) AS n FROM ${prefix}osprofiler_points`)).rows[0].n);
    await c.end();
    return n;
  }
  if (kind === 'mysql') {
    const mysql = require('mysql2/promise');
    const c = await mysql.createConnection({ uri: 'mysql://root@127.0.0.1:3306/test' });
    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${prefix}osprofiler_points`);
    await c.end();
    return Number(rows[0].n);
  }
  // file: one line per stored point, in trace files under the store directory
  let n = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (!['index', 'errors'].includes(e.name)) walk(p); }
      else if (e.name.endsWith('.jsonl')) n += fs.readFileSync(p, 'latin1').split('\n').length - 1;
    }
  };
  walk(dir);
  return n;
}

async function cleanup() {
  if (redisProc !== undefined) redisProc.kill('SIGTERM'); // its own server: the data goes with it
  for (const name of names) {
    const { kind, prefix } = storeOf(name);
    if (kind !== 'postgresql' && kind !== 'mysql') continue;
    try {
      if (kind === 'postgresql') {
        const c = new (require('pg').Client)({ connectionString: 'postgresql://postgres@127.0.0.1:5432/test' });
        await c.connect();
        for (const t of ['points', 'errors', 'traces', 'tags']) await c.query(`DROP TABLE IF EXISTS ${prefix}osprofiler_${t}`);
        await c.end();
      } else {
        const c = await require('mysql2/promise').createConnection({ uri: 'mysql://root@127.0.0.1:3306/test' });
        for (const t of ['points', 'errors', 'traces', 'tags']) await c.query(`DROP TABLE IF EXISTS ${prefix}osprofiler_${t}`);
        await c.end();
      }
    } catch (err) {
      console.error(`cleanup ${name}: ${err.message}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const deadline = setTimeout(() => { console.error('drivers bench: over 90 s, stopping'); cleanup().finally(() => process.exit(1)); }, 88_000);
  deadline.unref();
  const drivers = {};
  const stats = {};
  if (names.some((n) => n.startsWith('redis'))) {
    fs.mkdirSync(path.join(dir, 'redis'));
    ({ child: redisProc, port: redisPort } = await startRedisServer(path.join(dir, 'redis')));
  }
  for (const name of names) {
    const options = { project: 'bench', service: 'orders', host };
    const cs = typeof TARGETS[name].cs === 'function' ? TARGETS[name].cs() : TARGETS[name].cs;
    drivers[name] = await (TARGETS[name].create ?? core.createDriver)(cs, options);
    stats[name] = { sent: 0, ms: 0, cpuMs: 0, rounds: [], warmSent: 0, warmStored: 0 };
  }
  // Warm-up: not timed; what it stored is counted now and subtracted later.
  for (const name of names) {
    const [sent] = await slice(drivers[name], 300);
    stats[name].warmSent = sent;
    stats[name].warmStored = await countStored(name);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const [sent, ms, cpuMs] = await slice(drivers[name], SLICE_MS);
      stats[name].sent += sent;
      stats[name].ms += ms;
      stats[name].cpuMs += cpuMs;
      stats[name].rounds.push(Math.round((sent / ms) * 1000));
    }
  }
  for (const name of names) await drivers[name].close();

  console.log(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared with the servers and anything else running); batches of ${BATCH} points per notify(), ${DEPTH} in flight; ${ROUNDS} rounds of ${SLICE_MS} ms per driver, alternated${LINES ? '; lines without an index (notifyLines, or parsed back for notify)' : ''}`);
  console.log('driver            | points stored (timed) | handed over | write s | points/s stored | per round (handed over/s) | client CPU µs/point | goal');
  let missed = 0;
  for (const name of names) {
    const s = stats[name];
    const stored = (await countStored(name)) - s.warmStored;
    const pps = Math.round(stored / (s.ms / 1000));
    const goal = TARGETS[name].goal;
    const verdict = goal === undefined ? '-' : pps >= goal ? `>= ${goal} met` : `< ${goal} MISSED`;
    if (goal !== undefined && pps < goal) missed++;
    console.log(
      `${name.padEnd(17)} | ${String(stored).padStart(21)} | ${String(s.sent).padStart(11)} | ${(s.ms / 1000).toFixed(1).padStart(7)} | ${String(pps).padStart(15)} | ${s.rounds.join(' ').padEnd(25)} | ${((s.cpuMs * 1000) / s.sent).toFixed(2).padStart(19)} | ${verdict}`,
    );
    if (stored !== s.sent) console.log(`  ${name}: ${s.sent - stored} points handed over were not found in the store`);
  }
  await cleanup();
  clearTimeout(deadline);
  process.exitCode = missed > 0 && process.env.BENCH_STRICT ? 1 : 0;
}

main().catch(async (err) => {
  console.error(err);
  await cleanup().catch(() => undefined);
  process.exit(1);
});
