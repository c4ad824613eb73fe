// Micro-benchmark of the trace-point hot path (`npm run bench`). Reports ns per
// start+stop pair and, as ratios, against one AsyncLocalStorage lookup measured in the
// same process. Phases run in a fixed order, because on Node 20 the first
// AsyncLocalStorage.run() switches promise hooks on for the whole process.
'use strict';
const { AsyncLocalStorage } = require('node:async_hooks');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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
  const nullDriver = (withLines) => () => ({
    scheme: 'x', flush: async () => {}, close: async () => {},
    getReport: async () => ({}), listTraces: async () => [], listErrorTraces: async () => [],
    notify(batch) { for (const n of batch) stored += core.pyDumps(n).length; },
    ...(withLines ? { notifyLines(b) { stored += b.lines.length; } } : {}),
  });
  instrument.registerDriver('benchlines', nullDriver(true));
  instrument.registerDriver('benchobjects', nullDriver(false));
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
main();
