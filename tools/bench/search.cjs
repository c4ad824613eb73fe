// Trace search (`npm run bench search`): a page of 50 summaries out of N stored traces
// (default 100,000) on redis:// (its own redis-server on a free port) and postgresql://
// (tables of its own prefix, dropped at the end), per filter; the index's upkeep cost,
// paired in the same run (the same writes with and without the index, alternating): the
// writer's CPU (and its GC pauses) and the server's CPU per point (Redis' own counters; the
// driver's PostgreSQL backends from /proc) and points/s; with BENCH_SEARCH=redis-ir, Redis'
// instructions per point under callgrind (load-independent). BENCH_BEFORE=<an older build's
// packages/drivers/dist> adds that build's redis:// index to the same run (its own dbs:
// filled and queried alternately with this build's, its upkeep and instructions alternated
// too). The viewer's pages: tools/bench/viewer.cjs. BENCH_SEARCH=redis-layout2: the index's
// layout 2 (src/redis/index-layout.ts) written directly (batches of BATCH_TRACES traces, the
// lines by a driver with ?index=false) and searched, each query's client and Redis CPU
// beside its wall time (until the driver writes layout 2 itself).
// Bounded: N traces, 5 rounds per query, BENCH_COST_ROUNDS (5) × BENCH_COST_BATCHES (30) batches.
'use strict';
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
require('@osprofiler/drivers');
const { procCpuUs, waitFor } = require('./lib/proc.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');
const { variedTrace } = require('./lib/search-traces.cjs');
const { PerformanceObserver } = require('node:perf_hooks');
const v8 = require('node:v8');
const vm = require('node:vm');

/** V8's full GC (as --expose-gc's gc()), for indexCost. */
const fullGc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
})();
/** Milliseconds the main thread spent in GC pauses so far (indexCost's GC column). */
let gcPauseMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauseMs += e.duration;
}).observe({ entryTypes: ['gc'] });
/** Resolves once the GC entries so far were delivered (the observer gets them a tick later). */
const gcEntriesIn = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

const N = Number(process.env.BENCH_TRACES || 100_000);
const BATCH_TRACES = 100; // traces per notify batch (10 points each: 1000 points, as core's notifier sends under load)
const ROUNDS = 5;
const COST_ROUNDS = Number(process.env.BENCH_COST_ROUNDS || 5);
const COST_BATCHES = Number(process.env.BENCH_COST_BATCHES || 30);
const FILL_BATCH = 500;
const ONLY = (process.env.BENCH_SEARCH || 'redis,postgresql').split(',');
const T0 = Date.UTC(2026, 5, 1);

/** Trace i: a wsgi root and four sql children (10 points, as tools/bench/drivers.cjs), or with `small` the root alone; 1 % fail; durations 1..1000 ms. */
const traceEvents = (i, small = false) => variedTrace(i, small ? 0 : 4, T0);

const QUERIES = {
  'no filter': {},
  'service=billing': { service: 'billing' },
  'errors only (1 %)': { errorsOnly: true },
  'root=wsgi': { root: 'wsgi' },
  'host=host7': { host: 'host7' },
  'min duration 990 ms (1 %)': { minDurationMs: 990 },
  'min duration 5 s (none)': { minDurationMs: 5000 },
  'max duration 2 ms (0.2 %)': { maxDurationMs: 2 },
  'since/until (last 10 %)': { since: T0 + N * 9, until: T0 + N * 10 },
  'text "/items/4242" (bounded scan)': { text: '/items/4242' },
};

/** Each query ROUNDS times per driver, the drivers alternated within a round; `drivers`: [label, driver]... */
async function timeQueries(driver, others = []) {
  const drivers = [['', driver], ...others];
  const rows = [];
  for (const [label, q] of Object.entries(QUERIES)) {
    const times = drivers.map(() => []);
    const cpu = drivers.map(() => []);
    const hits = drivers.map(() => 0);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, [, d]] of drivers.entries()) {
        const c0 = process.cpuUsage();
        const t = process.hrtime.bigint();
        const page = await d.searchTraces({ ...q, limit: 50 });
        times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
        const cu = process.cpuUsage(c0);
        // The client's CPU (this process): what the machine's load moves least.
        cpu[k].push((cu.user + cu.system) / 1000);
        hits[k] = page.traces.length;
      }
    }
    for (const [k, [name]] of drivers.entries()) {
      const ts = times[k].sort((a, b) => a - b);
      const cs = cpu[k].sort((a, b) => a - b);
      rows.push({ query: label + (name ? ` (${name})` : ''), hits: hits[k], 'median ms': ts[Math.floor(ts.length / 2)].toFixed(1), 'max ms': ts[ts.length - 1].toFixed(1), 'client CPU ms': cs[Math.floor(cs.length / 2)].toFixed(1) });
    }
  }
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.table(rows);
  for (const [name, d] of drivers) {
    if (name) process.stdout.write(`${name}: `);
    await textPaging(d, QUERIES['text "/items/4242" (bounded scan)']);
  }
}

/** The bounded text search followed through its cursor to the end: calls, hits, slowest call, total. */
async function textPaging(driver, q) {
  let cursor;
  let calls = 0;
  let hits = 0;
  let slowest = 0;
  const t0 = process.hrtime.bigint();
  do {
    const t = process.hrtime.bigint();
    const page = await driver.searchTraces({ ...q, limit: 50, ...(cursor ? { cursor } : {}) });
    slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e6);
    calls++;
    hits += page.traces.length;
    cursor = page.cursor;
  } while (cursor !== null && calls < 1000);
  const total = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`text ${JSON.stringify(q.text)} followed to the end: ${calls} calls, ${hits} hits, slowest call ${slowest.toFixed(1)} ms, all ${total.toFixed(0)} ms`);
}

/** postgresql:// before the bound: one LIKE in time order until a page's worth of hits (raw SQL, the same tables). */
async function unboundedLike(d, text) {
  const like = '%' + text.replace(/[!%_]/g, (c) => '!' + c) + '%';
  const times = [];
  let hits = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    const res = await d.pool.query(
      `SELECT base_id, first_ts, last_ts, first_us, last_us, points, error, root_name, root_service, root_detail, route FROM ${d.tables.traces} t
       WHERE (t.search_text LIKE $1 ESCAPE '!' OR lower(t.root_name) LIKE $1 ESCAPE '!') ORDER BY t.first_us DESC, t.base_id DESC LIMIT 51`,
      [like],
    );
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    hits = res.rows.length;
  }
  times.sort((a, b) => a - b);
  console.log(`the former unbounded LIKE (same tables, same run): ${hits} hits, median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`);
}

async function fill(driver, useLines) {
  const t = process.hrtime.bigint();
  let points = 0;
  for (let i = 0; i < N; i += FILL_BATCH) {
    const batch = [];
    // Filling uses 2-point traces (a root start and stop) to keep the run short.
    for (let j = i; j < Math.min(N, i + FILL_BATCH); j++) batch.push(...traceEvents(j, true));
    points += batch.length;
    if (useLines) await driver.notifyLines(instrument.linesOfNotifications(batch));
    else await driver.notify(batch);
  }
  await driver.flush(60_000);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  return points / s;
}

/** Index upkeep cost, paired: the same writes with and without the index, alternating
 * (order swapped each round), on a fresh driver each time. Per point: the writing
 * process' CPU (process.cpuUsage) and the server's CPU (`serverCpuUs()`), so the cost
 * is seen apart from the machine's load; points/s too. Medians of ROUNDS_COST. */
async function indexCost(label, make, serverCpuUs, useLines, makeBefore) {
  // BENCH_COST_ROUNDS=0: the pages only (no round, nothing to report).
  if (COST_ROUNDS <= 0) return;
  const modes = makeBefore ? { without: [], with: [], before: [] } : { without: [], with: [] };
  const order = Object.keys(modes);
  let seq = 0;
  for (let r = 0; r < COST_ROUNDS; r++) {
    for (const mode of r % 2 === 0 ? order : [...order].reverse()) {
      const d = await (mode === 'before' ? makeBefore() : make());
      // The baseline: the same driver with no index work at all (no deltas built, nothing
      // sent for them), by the searchIndex entry points every driver calls.
      const si = instrument.searchIndex;
      const saved = { b: si.deltasOfBatch, n: si.deltasOfNotifications };
      if (mode === 'without') si.deltasOfBatch = si.deltasOfNotifications = () => new Map();
      const batches = [];
      for (let k = 0; k < COST_BATCHES; k++) {
        const batch = [];
        for (let j = 0; j < BATCH_TRACES; j++) batch.push(...traceEvents(N + 1_000_000 + seq++));
        batches.push(useLines ? instrument.linesOfNotifications(batch) : batch);
      }
      const points = batches.reduce((n, b) => n + (useLines ? b.lines.length : b.length), 0);
      const s0 = await serverCpuUs(d);
      // The batches made above would sit in V8's young generation, and a scavenge during the
      // timed writes copies them all (~33 ms each, --trace-gc): only the index's runs
      // allocate enough to trigger one, so "with" paid for copying this bench's 30 batches,
      // which an agent (one batch at hand) does not hold. GC pauses with / without the
      // index 3.9 / 0.6 µs a point, with this full GC first 0.15 / 0.00 (session 16, medians
      // of 5 rounds, load 5-8). It moves them to the old generation.
      fullGc();
      await gcEntriesIn();
      const g0 = gcPauseMs;
      const c0 = process.cpuUsage();
      const t = process.hrtime.bigint();
      for (const b of batches) await (useLines ? d.notifyLines(b) : d.notify(b));
      await d.flush(60_000);
      const wall = Number(process.hrtime.bigint() - t) / 1e9;
      const c = process.cpuUsage(c0);
      const s1 = await serverCpuUs(d);
      await gcEntriesIn();
      const gc = gcPauseMs - g0;
      si.deltasOfBatch = saved.b;
      si.deltasOfNotifications = saved.n;
      modes[mode].push({ pps: points / wall, client: (c.user + c.system) / points, gc: (gc * 1000) / points, server: (s1 - s0) / points });
      await d.close();
    }
  }
  const med = (a, k) => {
    const v = a.map((x) => x[k]).sort((x, y) => x - y);
    return v[Math.floor(v.length / 2)];
  };
  const row = (m) => ({ pps: med(modes[m], 'pps'), client: med(modes[m], 'client'), gc: med(modes[m], 'gc'), server: med(modes[m], 'server') });
  const w = row('with');
  const wo = row('without');
  const tw = w.client + w.server;
  const two = wo.client + wo.server;
  console.log(`${label}: index upkeep, ${COST_ROUNDS} paired rounds of ${COST_BATCHES} batches × ${BATCH_TRACES * 10} points (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const table = {
    'without index': { 'points/s': Math.round(wo.pps), 'writer µs/point': wo.client.toFixed(2), 'of it GC pauses': wo.gc.toFixed(2), 'server µs/point': wo.server.toFixed(2), 'total µs/point': two.toFixed(2) },
    'with index': { 'points/s': Math.round(w.pps), 'writer µs/point': w.client.toFixed(2), 'of it GC pauses': w.gc.toFixed(2), 'server µs/point': w.server.toFixed(2), 'total µs/point': tw.toFixed(2) },
    'with / without': { 'points/s': (w.pps / wo.pps).toFixed(3), 'writer µs/point': (w.client / wo.client).toFixed(3), 'server µs/point': (w.server / wo.server).toFixed(3), 'total µs/point': (tw / two).toFixed(3) },
  };
  if (makeBefore) {
    const b = row('before');
    const tb = b.client + b.server;
    table['before (BENCH_BEFORE)'] = { 'points/s': Math.round(b.pps), 'writer µs/point': b.client.toFixed(2), 'of it GC pauses': b.gc.toFixed(2), 'server µs/point': b.server.toFixed(2), 'total µs/point': tb.toFixed(2) };
    table['before / without'] = { 'points/s': (b.pps / wo.pps).toFixed(3), 'writer µs/point': (b.client / wo.client).toFixed(3), 'server µs/point': (b.server / wo.server).toFixed(3), 'total µs/point': (tb / two).toFixed(3) };
  }
  console.table(table);
}

async function benchRedis() {
  // BENCH_BEFORE=<an older build's packages/drivers/dist>: its index filled and searched on db 2,
  // its upkeep on db 3, alternated with this build's.
  const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-search-'));
  const { child: proc, port } = await startRedisServer(dir);
  try {
    const url = `redis://127.0.0.1:${port}`;
    const before = BEFORE ? (db, o) => require(path.join(BEFORE, 'redis/driver.js')).createRedisDriver(new URL(`${url}/${db}`), o) : undefined;
    const d = await core.createDriver(url, { project: 'bench', service: 'bench' });
    const rate = await fill(d, true);
    console.log(`redis://: stored ${N} traces (${Math.round(rate)} points/s incl. index)`);
    const others = [];
    if (before) {
      const b = await before(2, { project: 'bench', service: 'bench' });
      console.log(`redis:// before: stored ${N} traces (${Math.round(await fill(b, true))} points/s incl. index)`);
      others.push(['before', b]);
    }
    await timeQueries(d, others);
    await d.close();
    for (const [, b] of others) await b.close();
    await indexCost(
      'redis://',
      () => core.createDriver(`${url}/1`, {}),
      async (drv) => {
        // Redis' own CPU counters (getrusage, µs): the whole server process.
        const info = await drv.client.info('cpu');
        const f = (k) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)[1]);
        return (f('used_cpu_user') + f('used_cpu_sys')) * 1e6;
      },
      true,
      before && (() => before(3, {})),
    );
  } finally {
    proc.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Redis' instructions per point for the same writes with and without the index, counted by
 * callgrind (the machine's load does not change them): a redis-server of its own under
 * valgrind, counters zeroed before and dumped after each run (`callgrind_control`).
 * BENCH_BEFORE=<an older build's packages/drivers/dist> adds that build's index (on db 1,
 * its own layout) to the same rounds; BENCH_IR_SMALL=1 writes 2-point traces (a root's
 * start and stop, as a /hello request) instead of 10; BENCH_IR_PREFILL=n indexes n traces
 * per db first (sorted sets and sets cost more as they grow; none by default);
 * BENCH_IR_SPLIT=1 sends each trace's later half in the next batch (every counted batch
 * marks split 100 traces written before, as an agent's flushes split longer requests).
 */
async function benchRedisInstructions() {
  const { spawnSync } = require('node:child_process');
  const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
  const SMALL = process.env.BENCH_IR_SMALL === '1';
  const PREFILL = Number(process.env.BENCH_IR_PREFILL || 0);
  const SPLIT = process.env.BENCH_IR_SPLIT === '1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-search-ir-'));
  const { child: proc, port } = await startRedisServer(dir, { wrap: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${dir}/cg.out`], timeoutMs: 60_000 });
  const control = (arg) => {
    for (let k = 0; k < 50; k++) {
      const r = spawnSync('callgrind_control', [arg, String(proc.pid)], { encoding: 'utf8' });
      if (r.status === 0 && /OK/.test(r.stdout)) return;
      spawnSync('sleep', ['0.2']);
    }
    throw new Error(`callgrind_control ${arg} did not answer`);
  };
  const modes = BEFORE ? ['without', 'with', 'before'] : ['without', 'with'];
  const make = (mode) => {
    const opts = { commandTimeoutMs: 60_000 };
    if (mode === 'before') return require(path.join(BEFORE, 'redis/driver.js')).createRedisDriver(new URL(`redis://127.0.0.1:${port}/1`), opts);
    return core.createDriver(`redis://127.0.0.1:${port}/0`, opts);
  };
  try {
    let seq = 0;
    if (PREFILL > 0) {
      for (const mode of modes.filter((m) => m !== 'without')) {
        const d = await make(mode);
        for (let i = 0; i < PREFILL; i += FILL_BATCH) {
          const batch = [];
          for (let j = i; j < Math.min(PREFILL, i + FILL_BATCH); j++) batch.push(...traceEvents(j, true));
          await d.notifyLines(instrument.linesOfNotifications(batch));
        }
        await d.close();
      }
    }
    const ir = Object.fromEntries(modes.map((m) => [m, []]));
    let dumps = 0;
    for (let r = 0; r < 2; r++) {
      for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) {
        const d = await make(mode);
        const batches = [];
        let held = [];
        for (let k = 0; k < 5; k++) {
          const batch = [...held];
          held = [];
          for (let j = 0; j < BATCH_TRACES; j++) {
            const events = traceEvents(N + 2_000_000 + seq++, SMALL);
            // BENCH_IR_SPLIT=1: a trace's later half goes in the next batch (marked split there).
            const cut = SPLIT ? Math.ceil(events.length / 2) : events.length;
            batch.push(...events.slice(0, cut));
            held.push(...events.slice(cut));
          }
          batches.push(instrument.linesOfNotifications(batch));
        }
        const si = instrument.searchIndex;
        const saved = si.deltasOfBatch;
        if (mode === 'without') si.deltasOfBatch = () => new Map();
        await d.notifyLines(batches[0]); // warm-up: scripts loaded, keys created
        control('-z');
        for (const b of batches.slice(1)) await d.notifyLines(b);
        await d.flush(60_000);
        control('-d');
        si.deltasOfBatch = saved;
        dumps++;
        const file = path.join(dir, `cg.out.${dumps}`);
        await waitFor('callgrind dump', () => fs.existsSync(file) && /\ntotals: /.test(fs.readFileSync(file, 'utf8')), 30_000);
        const total = Number(/\ntotals: (\d+)/.exec(fs.readFileSync(file, 'utf8'))[1]);
        const points = batches.slice(1).reduce((n, b) => n + b.lines.length, 0);
        ir[mode].push(total / points);
        if (process.env.BENCH_IR_KEEP) console.log(`dump ${dumps}: ${mode}`);
        await d.close();
      }
    }
    const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    const wo = mean(ir.without);
    const per = SMALL ? 2 : 10;
    const line = (m) => `${m} ${Math.round(mean(ir[m]))} (${ir[m].map(Math.round).join(', ')}; ${Math.round(mean(ir[m]) * per)} a trace)`;
    console.log(`redis://: redis-server instructions per point (callgrind, 2 paired runs of 4 batches × ${BATCH_TRACES} traces of ${per} points${SPLIT ? ', each split over two batches' : ''}${PREFILL ? `, ${PREFILL} traces indexed first` : ''}): ${modes.map(line).join('; ')}`);
    for (const m of modes.filter((x) => x !== 'without')) console.log(`  ${m} / without: ${(mean(ir[m]) / wo).toFixed(3)}×; index ${Math.round((mean(ir[m]) - wo) * per)} instructions a trace`);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((res) => (proc.exitCode !== null ? res() : proc.on('exit', res)));
    // BENCH_IR_KEEP=1 keeps the dumps for callgrind_annotate.
    if (process.env.BENCH_IR_KEEP) console.log(`callgrind dumps kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPostgres() {
  const prefix = `osp_bsearch${randomBytes(3).toString('hex')}_`;
  const url = `postgresql://postgres@127.0.0.1:5432/test?table_prefix=${prefix}`;
  const d = await core.createDriver(url, {});
  try {
    const rate = await fill(d, false);
    console.log(`postgresql://: stored ${N} traces (${Math.round(rate)} points/s incl. summaries)`);
    await d.pool.query(`ANALYZE ${d.tables.traces}`);
    if (d.tagTable !== undefined) await d.pool.query(`ANALYZE ${d.tagTable}`);
    await timeQueries(d);
    await unboundedLike(d, QUERIES['text "/items/4242" (bounded scan)'].text);
    await indexCost(
      'postgresql://',
      () => core.createDriver(url, {}),
      async (drv) => {
        // The CPU of this driver's backends (/proc, 10 ms ticks), the pool opened in full
        // first so the same backends are read before and after.
        const size = drv.settings.poolSize;
        if (drv.pool._clients.length < size) {
          const held = await Promise.all(Array.from({ length: size }, () => drv.pool.connect()));
          for (const c of held) c.release();
        }
        return drv.pool._clients.reduce((sum, c) => sum + procCpuUs(c.processID), 0);
      },
      false,
    );
  } finally {
    for (const t of Object.values(d.tables)) await d.pool.query(`DROP TABLE IF EXISTS ${t}`);
    await d.close();
  }
}

/**
 * Layout 2 filled directly (as test/redis-index-read's fixtures: summaryText of core's
 * deltas, one blob, ids, postings a batch) and searched: per query the median wall time,
 * and the client's and Redis' CPU a call (process.cpuUsage, INFO cpu: less moved by the
 * machine's load than wall time).
 */
async function benchRedisLayout2() {
  const dist = path.join(__dirname, '../../packages/drivers/dist/redis');
  const L = require(path.join(dist, 'index-layout.js'));
  const { summaryText } = require(path.join(dist, 'search.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-search-'));
  const { child: proc, port } = await startRedisServer(dir);
  try {
    const url = `redis://127.0.0.1:${port}`;
    const lines = await core.createDriver(`${url}?index=false`, { project: 'bench', service: 'bench' });
    const d = await core.createDriver(url, { project: 'bench', service: 'bench' });
    const c = d.client;
    for (let i = 0; i < N; i += BATCH_TRACES) {
      const notes = [];
      for (let j = i; j < Math.min(N, i + BATCH_TRACES); j++) notes.push(...traceEvents(j, true));
      const b = instrument.linesOfNotifications(notes);
      await lines.notifyLines(b);
      const rows = [...instrument.searchIndex.deltasOfBatch(b).values()].map((x) => ({ d: x, fu: instrument.timestampMicrosText(x.first), lu: instrument.timestampMicrosText(x.last) }));
      const earliest = rows.reduce((a, r) => (Number(r.fu) < Number(a.fu) ? r : a)).fu;
      const latest = Math.max(...rows.map((r) => Number(r.fu)));
      const member = L.batchMember(earliest, 'bench', i / BATCH_TRACES);
      const keys = new Set();
      for (const { d: x, fu, lu } of rows) {
        for (const v of x.services) keys.add(L.postingKey('service', v));
        for (const v of x.projects) keys.add(L.postingKey('project', v));
        for (const v of x.hosts) keys.add(L.postingKey('host', v));
        if (x.root !== null && x.root.name !== '') keys.add(L.postingKey('root', x.root.name));
        keys.add(L.postingKey('dur', String(L.durClass(Number(lu) - Number(fu)))));
        if (x.error) keys.add(L.ERROR_POSTING);
      }
      const m = c.multi();
      m.set(L.BLOB + member, rows.map((r) => summaryText(r.d, r.fu, r.lu)).join('\n'));
      m.set(L.IDS + member, rows.map((r) => r.d.baseId).join(' '));
      m.zadd(L.BATCHES, latest, member);
      for (const k of keys) m.zadd(k, latest, member).sadd(L.POSTING_KEYS, k);
      m.zadd(L.META, 'GT', latest - Number(earliest), L.SPAN);
      await m.exec();
    }
    await lines.flush(60_000);
    console.log(`redis:// layout 2: stored ${N} traces in ${N / BATCH_TRACES} batches; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const redisCpuUs = async () => {
      const info = await c.info('cpu');
      const f = (k) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)[1]);
      return (f('used_cpu_user') + f('used_cpu_sys')) * 1e6;
    };
    await d.searchTraces({ limit: 50 }); // the fallback scan's first run, out of the figures
    await new Promise((r) => setTimeout(r, 3000));
    const rows = [];
    for (const [label, q] of Object.entries(QUERIES)) {
      const wall = [];
      const client = [];
      const server = [];
      let hits = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const s0 = await redisCpuUs();
        const c0 = process.cpuUsage();
        const t = process.hrtime.bigint();
        const page = await d.searchTraces({ ...q, limit: 50 });
        wall.push(Number(process.hrtime.bigint() - t) / 1e6);
        const cu = process.cpuUsage(c0);
        client.push((cu.user + cu.system) / 1000);
        server.push((await redisCpuUs()) - s0);
        hits = page.traces.length;
      }
      const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
      rows.push({ query: label, hits, 'median ms': med(wall).toFixed(1), 'client CPU ms': med(client).toFixed(1), 'redis CPU ms': (med(server) / 1000).toFixed(1) });
    }
    console.table(rows);
    await textPaging(d, QUERIES['text "/items/4242" (bounded scan)']);
    await d.close();
    await lines.close();
  } finally {
    proc.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  if (ONLY.includes('redis')) await benchRedis();
  if (ONLY.includes('redis-layout2')) await benchRedisLayout2();
  if (ONLY.includes('redis-ir')) await benchRedisInstructions();
  if (ONLY.includes('postgresql')) await benchPostgres();
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
