// Queries/s through Knex and TypeORM on SQLite in-memory (better-sqlite3) and on
// PostgreSQL (127.0.0.1:5432, user postgres, db test; a table of its own, dropped at the
// end): untraced vs traced (`db` points only) vs traced with trace_db (`db` + `sql`
// points). The modes are alternated round by round in one process, each segment a fixed
// time slice, and the median per mode is reported (bounded: ROUNDS x 12 segments x
// SEGMENT_MS, ~80 s). BENCH_DB=sqlite or pg runs one database only.
// `--instructions`: instead, instructions per query of the main thread under callgrind
// (tools/bench/lib/callgrind.cjs; load-independent): this script re-run under valgrind,
// per database x library x mode WARMUP queries with instrumentation off, then COUNT
// queries counted (the points' flush included). Env BENCH_IR_WARMUP (3000), BENCH_IR_COUNT (1000).
// "Traced" = the queries run inside a trace, REQ queries per traced request, as a
// request handler making DB calls would. Points go, through core's batching notifier, to
// a backend that takes them as Python-format lines (core's raw path, what the text-storing
// drivers get) and drops them (the CPU any backend pays, no I/O), so the figures are the
// adapter's and core's cost;
// BENCH_BACKEND=file uses the default file:// backend (one file per trace) in a temp dir.
// BENCH_KNEX_DIST / BENCH_TYPEORM_DIST: load that adapter build instead (e.g. an older
// dist/index.js copied aside), to compare two builds — run both at once under --instructions
// (load-independent), or alternate them for CPU time. BENCH_CORE_DIST: the same for core
// (a copy of packages/core with its dist/; lib/core-dist.cjs), adapters included.
'use strict';
require('./lib/core-dist.cjs');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const knexFactory = require('knex');
const typeorm = require('typeorm');
const CG = require('./lib/callgrind.cjs');
const { instrumentKnex, setTraceDb: setKnexTraceDb } = require(process.env.BENCH_KNEX_DIST || '@osprofiler/knex');
const { instrumentDataSource, setTraceDb: setTypeormTraceDb } = require(process.env.BENCH_TYPEORM_DIST || '@osprofiler/typeorm');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const SEGMENT_MS = Number(process.env.BENCH_SEGMENT_MS || 900);
const REQ = 10; // queries per traced request
const ROWS = 1000;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** `n` queries in requests of REQ (each in its own trace when `traced`); returns how many ran. */
async function queries(op, traced, until, k0 = 0) {
  let n = 0;
  let k = k0;
  while (until(n)) {
    if (traced) {
      await core.run({ hmacKey: 'k' }, async () => {
        for (let i = 0; i < REQ; i++) await op(k++ % ROWS);
      });
    } else {
      for (let i = 0; i < REQ; i++) await op(k++ % ROWS);
    }
    n += REQ;
    // Between requests the event loop turns, as in a service: better-sqlite3 answers
    // synchronously, so without this the whole segment would run in microtasks and the
    // notifier's timer and early flush could never run (every point buffered to the end).
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The backend's work for these points (flushed on the way, and what is left) is counted.
  await core.flush();
  return n;
}

async function segment(op, traced) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SEGMENT_MS;
  const n = await queries(op, traced, () => performance.now() < end);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  return { wall: n / wall, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

function configureBackend() {
  const backend = process.env.BENCH_BACKEND === 'file' ? 'file' : 'serialise';
  if (backend === 'file') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-db-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    core.configure({ connectionString: `file://${dir}`, host: 'bench', maxBufferPoints: 10_000_000 });
    return backend;
  }
  let bytes = 0;
  const driver = {
    scheme: 'serialise',
    notify(batch) {
      for (const n of batch) bytes += core.pyDumps(n).length;
    },
    // Core's raw path, as the text-storing drivers (file, redis, agent) take it.
    notifyLines(batch) {
      for (const l of batch.lines) bytes += l.length;
    },
    getReport: async () => core.buildReport([]),
    listTraces: async () => [],
    listErrorTraces: async () => [],
    flush: async () => {},
    close: async () => {},
    get bytes() {
      return bytes;
    },
  };
  core.configure({ driver, host: 'bench', maxBufferPoints: 10_000_000 });
  return backend;
}

const Item = (tableName) =>
  new typeorm.EntitySchema({
    name: 'Item',
    tableName,
    columns: { id: { type: Number, primary: true, generated: true }, key: { type: Number, unique: true }, name: { type: String } },
  });

/** One database: Knex and TypeORM on a table of ROWS rows; `ops` run one indexed select each. */
async function openDatabase(kind) {
  const rows = (i) => Array.from({ length: 100 }, (_, j) => ({ key: i + j, name: `item ${i + j}` }));
  if (kind === 'sqlite') {
    // Two in-memory databases (one per library: each connection has its own).
    const db = instrumentKnex(knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }));
    await db.schema.createTable('items', (t) => {
      t.increments('id');
      t.integer('key').unique();
      t.string('name');
    });
    for (let i = 0; i < ROWS; i += 100) await db('items').insert(rows(i));
    // TypeORM's SQLite driver writes numbers into the SQL (a statement per key) and its one
    // runner keeps 100 prepared statements: with ROWS keys every query prepared one again,
    // and the evicted better-sqlite3 statements were freed by whichever major GC fell in a
    // counted window (one traced window read +70k instructions a query over its twin,
    // all of it `free`/`Statement::~Statement`). A cache for every key keeps windows alike.
    const ds = instrumentDataSource(new typeorm.DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [Item('items')], synchronize: true, statementCacheSize: ROWS + 100 }));
    await ds.initialize();
    const repo = ds.getRepository('Item');
    for (let i = 0; i < ROWS; i += 100) await repo.insert(rows(i));
    return {
      ops: { knex: (k) => db('items').where({ key: k }).first(), typeorm: (k) => repo.findOneBy({ key: k }) },
      close: async () => {
        await db.destroy();
        await ds.destroy();
      },
    };
  }
  // PostgreSQL: one table of this run, shared by both libraries, dropped at the end.
  const table = `osp_bench_db_${process.pid}_${Date.now()}`;
  const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
  const db = instrumentKnex(knexFactory({ client: 'pg', connection, pool: { min: 1, max: 1 } }));
  await db.schema.createTable(table, (t) => {
    t.increments('id');
    t.integer('key').unique();
    t.string('name');
  });
  for (let i = 0; i < ROWS; i += 100) await db(table).insert(rows(i));
  const ds = instrumentDataSource(new typeorm.DataSource({ type: 'postgres', ...connection, username: 'postgres', entities: [Item(table)], synchronize: false, poolSize: 1 }));
  await ds.initialize();
  const repo = ds.getRepository('Item');
  return {
    ops: { knex: (k) => db(table).where({ key: k }).first(), typeorm: (k) => repo.findOneBy({ key: k }) },
    close: async () => {
      await ds.destroy();
      await db.schema.dropTableIfExists(table);
      await db.destroy();
    },
  };
}

const setTraceDb = (on) => {
  setKnexTraceDb(on);
  setTypeormTraceDb(on);
};
const MODES = [
  ['untraced', false, false],
  ['traced (db)', true, false],
  ['traced + trace_db (db+sql)', true, true],
];
const DATABASES = (process.env.BENCH_DB || 'sqlite,pg').split(',');

async function warmUp(op, n) {
  for (const [, traced, sql] of MODES) {
    setTraceDb(sql);
    await queries(op, traced, (i) => i < n);
  }
}

async function cpuMain() {
  const started = Date.now();
  const backend = configureBackend();
  const results = {};
  for (const kind of DATABASES) {
    const d = await openDatabase(kind);
    // Warm up every path (and switch Node 20's promise hooks on, as in a service that traces).
    for (const op of Object.values(d.ops)) await warmUp(op, 2000);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [lib, op] of Object.entries(d.ops)) {
        // Rotate the mode order each round, so no mode always runs first.
        for (let m = 0; m < MODES.length; m++) {
          const [name, traced, sql] = MODES[(m + r) % MODES.length];
          setTraceDb(sql);
          const q = await segment(op, traced);
          const slot = ((results[`${kind} ${lib}`] ??= {})[name] ??= { wall: [], cpu: [] });
          slot.wall.push(q.wall);
          slot.cpu.push(q.cpu);
        }
      }
    }
    setTraceDb(undefined);
    await d.close();
  }

  console.log(`node ${process.version}, ${DATABASES.join(' + ')}, indexed select by key, ${REQ} queries per traced request, ${ROUNDS} rounds x ${SEGMENT_MS} ms per mode, backend: ${backend}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  // Queries per CPU-second is the steadier figure on a shared machine (a descheduled
  // process loses wall time, not CPU time); wall-clock queries/s is shown beside it.
  console.log('| database library | mode | queries per CPU-second | vs untraced | CPU per query | added CPU per query | wall queries/s | vs untraced |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  for (const [lib, byMode] of Object.entries(results)) {
    const baseCpu = median(byMode.untraced.cpu);
    const baseWall = median(byMode.untraced.wall);
    for (const [name] of MODES) {
      const c = median(byMode[name].cpu);
      const w = median(byMode[name].wall);
      const added = name === 'untraced' ? '' : `${(1e6 / c - 1e6 / baseCpu).toFixed(1)} µs`;
      console.log(`| ${lib} | ${name} | ${fmt(c)} | ${(c / baseCpu).toFixed(3)} | ${(1e6 / c).toFixed(1)} µs | ${added} | ${fmt(w)} | ${(w / baseWall).toFixed(3)} |`);
    }
  }
  const rounds = (k) => Object.fromEntries(Object.entries(results).map(([l, m]) => [l, Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v[k].map(Math.round)]))]));
  console.log(`(every round, per CPU-second: ${JSON.stringify(rounds('cpu'))})`);
  console.log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await core.shutdown();
}

const IR_WARMUP = Number(process.env.BENCH_IR_WARMUP || 3000);
const IR_COUNT = Number(process.env.BENCH_IR_COUNT || 1000);

/** Under callgrind: per case, warm up, then one counted step (lib/callgrind.cjs `stepper`). */
async function instructionsChild() {
  configureBackend();
  const steps = CG.stepper();
  for (const kind of DATABASES) {
    const d = await openDatabase(kind);
    for (const [lib, op] of Object.entries(d.ops)) {
      await warmUp(op, IR_WARMUP);
      for (const [name, traced, sql] of MODES) {
        setTraceDb(sql);
        await queries(op, traced, (i) => i < IR_WARMUP / 4);
        await steps.step(`${kind} ${lib}|${name}`, () => queries(op, traced, (i) => i < IR_COUNT));
      }
    }
    setTraceDb(undefined);
    await d.close();
  }
  steps.end();
  await core.shutdown();
  process.exit(0);
}

async function instructionsMain() {
  const valgrind = CG.version();
  console.log(`instructions per query, main thread, callgrind (${valgrind}), node ${process.version}, ${DATABASES.join(' + ')}, indexed select by key, ${REQ} queries per traced request, ${IR_WARMUP} warm-up queries per library, ${IR_COUNT} counted per mode`);
  console.log('| database library | mode | instructions per query | vs untraced | added per query |');
  console.log('|---|---|---:|---:|---:|');
  const base = {};
  await CG.runSteps(__filename, (label, per) => {
    const [lib, name] = label.split('|');
    if (name === 'untraced') base[lib] = per;
    const added = name === 'untraced' ? '' : `+${((per - base[lib]) / 1000).toFixed(1)}k`;
    console.log(`| ${lib} | ${name} | ${(per / 1000).toFixed(1)}k | ${(per / base[lib]).toFixed(3)} | ${added} |`);
  });
}

const main = process.env.BENCH_IR_CHILD ? instructionsChild : process.argv.includes('--instructions') ? instructionsMain : cpuMain;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
