// Queries/s through Knex and TypeORM on SQLite in-memory (better-sqlite3): untraced vs
// traced (`db` points only) vs traced with trace_db (`db` + `sql` points). The modes are
// alternated round by round in one process, each segment a fixed time slice, and the
// median per mode is reported (bounded: ROUNDS x 6 segments x SEGMENT_MS, ~40 s).
// "Traced" = the queries run inside a trace, REQ queries per traced request, as a
// request handler making DB calls would. Points go, through core's batching notifier, to
// a backend that takes them as Python-format lines (core's raw path, what the text-storing
// drivers get) and drops them (the CPU any backend pays, no I/O), so the figures are the
// adapter's and core's cost;
// BENCH_BACKEND=file uses the default file:// backend (one file per trace) in a temp dir.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const knexFactory = require('knex');
const typeorm = require('typeorm');
const { instrumentKnex, setTraceDb: setKnexTraceDb } = require('@osprofiler/knex');
const { instrumentDataSource, setTraceDb: setTypeormTraceDb } = require('@osprofiler/typeorm');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const SEGMENT_MS = Number(process.env.BENCH_SEGMENT_MS || 900);
const REQ = 10; // queries per traced request
const ROWS = 1000;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function segment(op, traced) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SEGMENT_MS;
  let k = 0;
  while (performance.now() < end) {
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
  // The backend's work for this segment's points (flushed during the segment, and what
  // is left at its end) is counted in its CPU time.
  await core.flush();
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  return { wall: n / wall, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

async function main() {
  const started = Date.now();
  const backend = process.env.BENCH_BACKEND === 'file' ? 'file' : 'serialise';
  if (backend === 'file') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-db-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    core.configure({ connectionString: `file://${dir}`, host: 'bench', maxBufferPoints: 10_000_000 });
  } else {
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
  }

  const db = instrumentKnex(knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }));
  await db.schema.createTable('items', (t) => {
    t.increments('id');
    t.integer('key').unique();
    t.string('name');
  });
  for (let i = 0; i < ROWS; i += 100) {
    await db('items').insert(Array.from({ length: 100 }, (_, j) => ({ key: i + j, name: `item ${i + j}` })));
  }

  const Item = new typeorm.EntitySchema({
    name: 'Item',
    tableName: 'items',
    columns: { id: { type: Number, primary: true, generated: true }, key: { type: Number, unique: true }, name: { type: String } },
  });
  const ds = instrumentDataSource(new typeorm.DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [Item], synchronize: true }));
  await ds.initialize();
  const repo = ds.getRepository(Item);
  for (let i = 0; i < ROWS; i += 100) await repo.insert(Array.from({ length: 100 }, (_, j) => ({ key: i + j, name: `item ${i + j}` })));

  const ops = {
    knex: (k) => db('items').where({ key: k }).first(),
    typeorm: (k) => repo.findOneBy({ key: k }),
  };
  const setTraceDb = (on) => {
    setKnexTraceDb(on);
    setTypeormTraceDb(on);
  };
  const modes = [
    ['untraced', false, false],
    ['traced (db)', true, false],
    ['traced + trace_db (db+sql)', true, true],
  ];

  // Warm up every path (and switch Node 20's promise hooks on, as in a service that traces).
  for (const op of Object.values(ops)) {
    for (const [, traced, sql] of modes) {
      setTraceDb(sql);
      for (let i = 0; i < 2000; i++) {
        if (traced) await core.run({ hmacKey: 'k' }, () => op(i % ROWS));
        else await op(i % ROWS);
      }
    }
  }
  await core.flush();

  const results = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [lib, op] of Object.entries(ops)) {
      // Rotate the mode order each round, so no mode always runs first.
      for (let m = 0; m < modes.length; m++) {
        const [name, traced, sql] = modes[(m + r) % modes.length];
        setTraceDb(sql);
        const q = await segment(op, traced);
        ((results[lib] ??= {})[name] ??= { wall: [], cpu: [] }).wall.push(q.wall);
        results[lib][name].cpu.push(q.cpu);
      }
    }
  }
  setTraceDb(undefined);

  console.log(`node ${process.version}, SQLite in-memory, indexed select by key, ${REQ} queries per traced request, ${ROUNDS} rounds x ${SEGMENT_MS} ms per mode, backend: ${backend}`);
  // Queries per CPU-second is the steadier figure on a shared machine (a descheduled
  // process loses wall time, not CPU time); wall-clock queries/s is shown beside it.
  console.log('| library | mode | queries per CPU-second | vs untraced | CPU per query | added CPU per query | wall queries/s | vs untraced |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  for (const [lib, byMode] of Object.entries(results)) {
    const baseCpu = median(byMode.untraced.cpu);
    const baseWall = median(byMode.untraced.wall);
    for (const [name] of modes) {
      const c = median(byMode[name].cpu);
      const w = median(byMode[name].wall);
      const added = name === 'untraced' ? '' : `${(1e6 / c - 1e6 / baseCpu).toFixed(1)} µs`;
      console.log(`| ${lib} | ${name} | ${fmt(c)} | ${(c / baseCpu).toFixed(3)} | ${(1e6 / c).toFixed(1)} µs | ${added} | ${fmt(w)} | ${(w / baseWall).toFixed(3)} |`);
    }
  }
  const rounds = (k) => Object.fromEntries(Object.entries(results).map(([l, m]) => [l, Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v[k].map(Math.round)]))]));
  console.log(`(every round, per CPU-second: ${JSON.stringify(rounds('cpu'))})`);
  console.log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await db.destroy();
  await ds.destroy();
  await core.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
