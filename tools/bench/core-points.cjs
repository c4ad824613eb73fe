// Micro-benchmark of the trace-point hot path (`npm run bench`). Reports ns per
// start+stop pair and, as ratios, against one AsyncLocalStorage lookup measured in the
// same process. Phases run in a fixed order, because on Node 20 the first
// AsyncLocalStorage.run() switches promise hooks on for the whole process.
// `--instructions`: instead, instructions per start+stop pair (request path + deferred
// raw-line format, no I/O) of the main thread under callgrind (lib/callgrind.cjs;
// load-independent; node with lib/callgrind.cjs PREDICTABLE_NODE_ARGS, one build repeating
// within 0.2 %), per info shape: BENCH_IR_WARMUP (20000) pairs, then BENCH_IR_COUNT
// (20000) counted. BENCH_CORE_DIST=<copy of packages/core>: that core build instead
// (lib/core-dist.cjs), to compare two builds run at once.
'use strict';
require('./lib/core-dist.cjs');
const { AsyncLocalStorage } = require('node:async_hooks');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const CG = require('./lib/callgrind.cjs');
const { registerNullDriver } = require('./lib/null-driver.cjs');

const N = Number(process.env.BENCH_N || 2_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ns per iteration of `body(n)`, median of ROUNDS rounds of N iterations. */
function measure(body, n = N) {
  const out = [];
  body(Math.min(n, 100_000)); // warm up / let the JIT settle
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    body(n);
    out.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(out);
}

const probe = new AsyncLocalStorage();
let sink = 0;
const lookup = (n) => { for (let i = 0; i < n; i++) if (probe.getStore() !== undefined) sink++; };
const pair = (n) => { for (let i = 0; i < n; i++) { core.start('bench'); core.stop(); } };
const emptyLoop = (n) => { for (let i = 0; i < n; i++) sink += i & 1; };

async function main() {
  // The default backend (file://), in a temporary directory removed at the end.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  core.configure({ connectionString: `file://${dir}`, host: 'bench', flushIntervalMs: 1000, maxBufferPoints: 10_000_000 });
  const rows = [];
  const empty = measure(emptyLoop);

  // 1. Nothing has ever been traced in this process.
  const lookupCold = measure(lookup);
  const untracedCold = measure(pair);

  // 2. Tracing has happened (promise hooks on), but this code path is untraced.
  await core.run({ hmacKey: 'k' }, async () => { core.traced('warm', () => 1); await null; });
  probe.run(1, () => {}); // enable the probe ALS too, so its lookup is the real cost
  const lookupWarm = measure(lookup);
  const untracedWarm = measure(pair);

  // 3. Traced: the request path only. Points are flushed between chunks (untimed), as the
  //    notifier's timer does in a service, so the buffer stays at a realistic size.
  const CHUNK = 1000;
  const traced = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ns = 0;
    for (let c = 0; c < 100; c++) {
      await core.run({ hmacKey: 'k' }, async () => {
        const t0 = process.hrtime.bigint();
        pair(CHUNK);
        ns += Number(process.hrtime.bigint() - t0);
      });
      await core.flush(60_000); // off the measured path
    }
    traced.push(ns / (100 * CHUNK));
  }
  const tracedPath = median(traced);

  // 4. The deferred part: formatting + handing batches to the driver, per point, in
  //    batches of the size a busy service flushes (CHUNK points per flush).
  const flushCost = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ns = 0;
    for (let c = 0; c < 50; c++) {
      await core.run({ hmacKey: 'k' }, async () => pair(CHUNK / 2));
      const c0 = process.cpuUsage();
      await core.flush(60_000);
      const c = process.cpuUsage(c0);
      ns += (c.user + c.system) * 1000; // CPU, not wall: the write's I/O wait costs the app nothing
    }
    flushCost.push(ns / (50 * CHUNK));
  }

  // 5. Formatting alone, no I/O: a driver that takes lines (the raw path: memory, file,
  //    redis, agent) against one that takes notification objects and serialises them
  //    itself with pyDumps (what every driver did before the raw path).
  let stored = 0;
  const notify = (batch) => { for (const n of batch) stored += core.pyDumps(n).length; };
  registerNullDriver(instrument, 'benchlines', { notify, notifyLines: (b) => { stored += b.lines.length; } });
  registerNullDriver(instrument, 'benchobjects', { notify });
  const formatCost = async (cs) => {
    core.configure({ connectionString: cs, host: 'bench', service: 'svc', flushIntervalMs: 1000, maxBufferPoints: 10_000_000 });
    const out = [];
    for (let r = 0; r < ROUNDS; r++) {
      let ns = 0;
      for (let c = 0; c < 50; c++) {
        await core.run({ hmacKey: 'k' }, async () => {
          for (let i = 0; i < CHUNK / 2; i++) {
            core.start('wsgi', { request: { method: 'GET', path: '/x', query: '', scheme: 'http' } });
            core.stop();
          }
        });
        const c0 = process.cpuUsage();
        await core.flush(60_000);
        const c = process.cpuUsage(c0);
        ns += (c.user + c.system) * 1000;
      }
      out.push(ns / (50 * CHUNK));
    }
    return median(out);
  };
  const formatObjects = await formatCost('benchobjects://x');
  const formatLines = await formatCost('benchlines://x');
  if (stored === 0) throw new Error('the null drivers stored nothing');

  // Reference for the deferred cost: native JSON.stringify of one typical notification.
  const sample = {
    name: 'wsgi-start', base_id: '0b5d4f1e-4c1a-4f3e-9a57-9e4f3c2b1a00', trace_id: '5f0e9d2c-3b1a-4e8f-8d7c-6b5a4f3e2d1c',
    parent_id: '0b5d4f1e-4c1a-4f3e-9a57-9e4f3c2b1a00', timestamp: '2026-11-23T02:40:49.450322',
    info: { request: { method: 'GET', path: '/x', query: '', scheme: 'http' }, host: 'bench' }, project: null, service: 'svc',
  };
  const stringify = measure((n) => { for (let i = 0; i < n; i++) sink += JSON.stringify(sample).length; }, 200_000);

  rows.push(['empty loop iteration (baseline)', empty, '']);
  rows.push(['ALS lookup, no trace ever in process', lookupCold, '']);
  rows.push(['untraced start+stop, no trace ever in process', untracedCold, `goal <= 25 ns`]);
  rows.push(['ALS lookup after traced work', lookupWarm, '']);
  rows.push(['untraced start+stop after traced work', untracedWarm, `${(untracedWarm / lookupWarm).toFixed(2)}x lookup (goal <= 2x)`]);
  rows.push(['traced start+stop, request path', tracedPath, `goal <= 1000 ns`]);
  rows.push(['deferred format+write per point (file://)', median(flushCost), `CPU ns, off the request path; ${(median(flushCost) / stringify).toFixed(1)}x one JSON.stringify`]);
  rows.push(['deferred format, object path + pyDumps', formatObjects, `CPU ns per point, no I/O`]);
  rows.push(['deferred format, raw line path', formatLines, `CPU ns per point, no I/O; ${(formatLines / stringify).toFixed(2)}x one JSON.stringify`]);
  rows.push(['JSON.stringify of one notification (reference)', stringify, '']);
  console.log(`core trace points — node ${process.version}, N=${N}, rounds=${ROUNDS}, median ns per iteration`);
  for (const [name, ns, note] of rows) console.log(`  ${name.padEnd(48)} ${ns.toFixed(1).padStart(8)} ns  ${note}`);
  const verdict = {
    untracedCold: untracedCold <= 25,
    untracedWarm: untracedWarm <= 2 * lookupWarm,
    traced: tracedPath <= 1000,
  };
  console.log(`  goals: ${JSON.stringify(verdict)} (sink ${sink & 1})`);
  await core.shutdown();
}

// The info shapes of the instruction count: an HTTP start (a fresh object per request),
// and a `db` start as the Knex adapter passes it — one frozen object per (client, method,
// table), whose text core makes once — beside the same shape built fresh per query; and a
// `trace()`-wrapped function, whose default start info core shares once its name repeats.
const knexInfo = () => ({ function: { name: 'knex.first' }, db: { system: 'sqlite', client: 'better-sqlite3', operation: 'select', table: 'items', database: ':memory:' } });
const frozenKnex = knexInfo();
Object.freeze(frozenKnex.function);
Object.freeze(frozenKnex.db);
Object.freeze(frozenKnex);
// A function wrapped by core's `trace()` decorator with its defaults (arguments hidden).
const work = core.trace('fn')(function work() {
  return 1;
});
const SHAPES = [
  ['wsgi start, fresh info; stop, none', () => { core.start('wsgi', { request: { method: 'GET', path: '/x', query: '', scheme: 'http' } }); core.stop(); }],
  ['db start, one frozen info (knex); stop {db: {rows}}', () => { core.start('db', frozenKnex); core.stop({ db: { rows: 1 } }); }],
  ['db start, same shape fresh per query; stop {db: {rows}}', () => { core.start('db', knexInfo()); core.stop({ db: { rows: 1 } }); }],
  ['fn, a trace()-wrapped function (default options: its name only)', () => work()],
];
const IR_WARMUP = Number(process.env.BENCH_IR_WARMUP || 20_000);
const IR_COUNT = Number(process.env.BENCH_IR_COUNT || 20_000);

/** `n` pairs of `shape`, in traces of 50 pairs, flushed every 500 (to a driver taking lines, no I/O). */
async function pairs(shape, n) {
  for (let done = 0; done < n; done += 500) {
    for (let t = 0; t < 10; t++) core.run({ hmacKey: 'k' }, () => { for (let i = 0; i < 50; i++) shape(); });
    await core.flush(60_000);
  }
  return n;
}

async function instructionsChild() {
  let stored = 0;
  registerNullDriver(instrument, 'benchlines', { notifyLines: (b) => { stored += b.lines.length; } });
  core.configure({ connectionString: 'benchlines://x', host: 'bench', service: 'svc', flushIntervalMs: 1000, maxBufferPoints: 10_000_000 });
  await core.run({ hmacKey: 'k' }, async () => { await null; }); // promise hooks on, as in a service
  const steps = CG.stepper();
  for (const [label, shape] of SHAPES) {
    await pairs(shape, IR_WARMUP);
    await steps.step(label, () => pairs(shape, IR_COUNT));
  }
  steps.end();
  if (stored !== 2 * SHAPES.length * (IR_WARMUP + IR_COUNT)) throw new Error(`stored ${stored} lines`);
  await core.shutdown();
  process.exit(0);
}

async function instructionsMain() {
  console.log(`core trace points — instructions per start+stop pair (request path + raw-line format, no I/O), main thread, callgrind (${CG.version()}), node ${process.version} ${CG.PREDICTABLE_NODE_ARGS.join(' ')}, ${IR_WARMUP} warm-up + ${IR_COUNT} counted pairs per shape${process.env.BENCH_CORE_DIST ? `, core from ${process.env.BENCH_CORE_DIST}` : ''}`);
  await CG.runSteps(__filename, (label, per) => console.log(`  ${label.padEnd(56)} ${(per / 1000).toFixed(2).padStart(7)}k`), { nodeArgs: CG.PREDICTABLE_NODE_ARGS });
}

(process.env.BENCH_IR_CHILD ? instructionsChild : process.argv.includes('--instructions') ? instructionsMain : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
