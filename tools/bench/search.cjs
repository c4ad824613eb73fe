// Trace search (`npm run bench search`): a page of 50 summaries out of N stored traces
// (default 100,000) on redis:// (its own redis-server on a free port) and postgresql://
// (tables of its own prefix, dropped at the end), per filter; the index's cost as the
// driver's points/s with the index vs without it, in the same run (the viewer's pages:
// tools/bench/viewer.cjs). Figures are indicative on a shared machine. Bounded: N traces,
// 5 rounds per query.
'use strict';
const { spawn } = require('node:child_process');
const { randomUUID, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
require('@osprofiler/drivers');

const N = Number(process.env.BENCH_TRACES || 100_000);
const BATCH_TRACES = 100; // traces per notify batch (10 points each: 1000 points, as core's notifier sends under load)
const ROUNDS = 5;
const FILL_BATCH = 500;
const ONLY = (process.env.BENCH_SEARCH || 'redis,postgresql').split(',');
const T0 = Date.UTC(2026, 5, 1);
const SERVICES = ['api', 'billing', 'orders', 'search', 'users'];

function ts(ms) {
  const us = Math.round(ms * 1000);
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
}

/** Trace i: a wsgi root and four sql children (10 points, as tools/bench/drivers.cjs); 1 % fail; durations 1..1000 ms. */
function traceEvents(i, small = false) {
  const baseId = randomUUID();
  const w = randomUUID();
  const s = randomUUID();
  const start = T0 + i * 10;
  const dur = 1 + (i * 7919) % 1000;
  const service = SERVICES[i % SERVICES.length];
  const err = i % 100 === 0;
  const mk = (name, id, parent, t, info) => ({ name, base_id: baseId, trace_id: id, parent_id: parent, timestamp: ts(t), info: { ...info, host: `host${i % 20}` }, project: 'bench', service });
  const out = [mk('wsgi-start', w, baseId, start, { request: { method: 'GET', path: `/items/${i}`, query: '', scheme: 'http' } })];
  for (let k = 0; k < (small ? 0 : 4); k++) {
    const id = k === 0 ? s : randomUUID();
    out.push(mk('sql-start', id, w, start + 1 + k, { db: { statement: `SELECT * FROM items WHERE id = ${i}` } }), mk('sql-stop', id, w, start + 1 + k + dur / 8, {}));
  }
  out.push(mk('wsgi-stop', w, baseId, start + dur, err ? { etype: 'ValueError', message: 'boom' } : { request: { route: '/items/:id' } }));
  return out;
}

const QUERIES = {
  'no filter': {},
  'service=billing': { service: 'billing' },
  'errors only (1 %)': { errorsOnly: true },
  'root=wsgi': { root: 'wsgi' },
  'host=host7': { host: 'host7' },
  'min duration 990 ms (1 %)': { minDurationMs: 990 },
  'since/until (last 10 %)': { since: T0 + N * 9, until: T0 + N * 10 },
  'text "/items/4242" (bounded scan)': { text: '/items/4242' },
};

async function timeQueries(driver) {
  const rows = [];
  for (const [label, q] of Object.entries(QUERIES)) {
    const times = [];
    let hits = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t = process.hrtime.bigint();
      const page = await driver.searchTraces({ ...q, limit: 50 });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      hits = page.traces.length;
    }
    times.sort((a, b) => a - b);
    rows.push({ query: label, hits, 'median ms': times[Math.floor(times.length / 2)].toFixed(1), 'max ms': times[times.length - 1].toFixed(1) });
  }
  console.table(rows);
}

async function fill(driver, useLines) {
  const t = process.hrtime.bigint();
  let points = 0;
  for (let i = 0; i < N; i += FILL_BATCH) {
    const batch = [];
    // Filling uses 2-point traces (a root start and stop) to keep the run short.
    for (let j = i; j < Math.min(N, i + FILL_BATCH); j++) batch.push(...traceEvents(j, true));
    points += batch.length;
    if (useLines) await driver.notifyLines(require('@osprofiler/core/instrument').linesOfNotifications(batch));
    else await driver.notify(batch);
  }
  await driver.flush(60_000);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  return points / s;
}

/** Points/s of the same writes with and without the index, alternating, same run. */
async function indexCost(make, disable, useLines) {
  const rate = { with: [], without: [] };
  for (let r = 0; r < 3; r++) {
    for (const mode of ['without', 'with']) {
      const d = await make();
      if (mode === 'without') disable(d);
      const t = process.hrtime.bigint();
      let points = 0;
      for (let k = 0; k < 20; k++) {
        const batch = [];
        for (let j = 0; j < BATCH_TRACES; j++) batch.push(...traceEvents(N + r * 100_000 + k * BATCH_TRACES + j));
        points += batch.length;
        if (useLines) await d.notifyLines(require('@osprofiler/core/instrument').linesOfNotifications(batch));
        else await d.notify(batch);
      }
      await d.flush(60_000);
      rate[mode].push(points / (Number(process.hrtime.bigint() - t) / 1e9));
      await d.close();
    }
  }
  const med = (a) => a.sort((x, y) => x - y)[1];
  const w = med(rate.with);
  const wo = med(rate.without);
  console.log(`  points/s with index ${Math.round(w)}, without ${Math.round(wo)}: index costs ${(((wo - w) / wo) * 100).toFixed(1)} % (median of 3 alternating runs)`);
}

function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function benchRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-search-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((res) => proc.stdout.on('data', (d) => d.toString().includes('Ready to accept') && res()));
  try {
    const url = `redis://127.0.0.1:${port}`;
    const d = await core.createDriver(url, { project: 'bench', service: 'bench' });
    const rate = await fill(d, true);
    console.log(`redis://: stored ${N} traces (${Math.round(rate)} points/s incl. index)`);
    await timeQueries(d);
    await d.close();
    await indexCost(
      () => core.createDriver(`${url}/1`, {}),
      (drv) => {
        drv.index.addToPipeline = () => undefined; // the baseline: the same driver, no index
      },
      true,
    );
  } finally {
    proc.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
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
    await d.pool.query(`ANALYZE ${d.tables.tags}`);
    await timeQueries(d);
    await indexCost(
      () => core.createDriver(url, {}),
      (drv) => {
        drv.upsertSummaries = async () => undefined;
      },
      false,
    );
  } finally {
    for (const t of Object.values(d.tables)) await d.pool.query(`DROP TABLE IF EXISTS ${t}`);
    await d.close();
  }
}

(async () => {
  if (ONLY.includes('redis')) await benchRedis();
  if (ONLY.includes('postgresql')) await benchPostgres();
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
