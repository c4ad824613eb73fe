// The redis:// driver's client-side cost per stored line, in instructions of the writing
// process' main thread under callgrind (tools/bench/lib/callgrind.cjs; the machine's load
// does not change them), into a redis-server of its own (free port, temp dir, removed at
// the end). Batches as a warm agent hands them over at service rates: 1-point traces
// (wsgi start + stop), 100 traces (200 lines) per batch, each line's bytes (`buffers`)
// with the search index's fields (the agent protocol carries them). Cases:
//   bytes + index   notifyLines, this build
//   bytes, index off  the same with the driver's index work switched off: the index's
//                   client-side cost is the difference
//   lines           notifyLines of the lines as strings, no index (the driver derives it)
//   once            notifyLinesOnce (the collector's idempotent write), each batch cut into 4
//                   items of 50 lines (one WATCH/MULTI/EXEC transaction each, packages/drivers/src/redis/once.ts), bytes + index
//   before, …       the same with BENCH_BEFORE=<an older build's packages/drivers/dist>
// Env: BENCH_IR_BATCHES (counted batches per case, default 20), BENCH_IR_TRACES (traces per
// batch, 100), BENCH_IR_POINTS (points per trace, 1; 10 as search.cjs's upkeep), BENCH_IR_SPLIT=1
// (each trace's later half in the next batch: every batch marks its traces split), BENCH_IR_CASES (see ORDER),
// BENCH_IR_PAUSE_MS (a pause after a case's first warm-up batches, 2000), BENCH_IR_VARIED=1 (traces as search.cjs's upkeep writes them: 5 services, 20 hosts, a path
// and statement of their own, durations 1–1000 ms, 1 % failed; a wsgi root and POINTS - 1 sql
// children, so BENCH_IR_POINTS=5 is search.cjs's 10-line trace: "bytes + index" minus "bytes,
// index off" is the index's client work for its traces).
// BENCH_ALLOC=1: bytes allocated on V8's heap a line instead of instructions (no valgrind;
// ./lib/allocated.cjs, V8's sampling heap profiler in this process, objects already collected
// included: garbage costs the process time callgrind does not count), each case's largest
// functions after it (BENCH_ALLOC_FRAMES, 12), in bytes a line; BENCH_BEFORE's cases the same.
// Bounded: ~3 min (valgrind).
'use strict';
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
require('@osprofiler/drivers');
const CG = require('./lib/callgrind.cjs');
const { allocated } = require('./lib/allocated.cjs');
const ST = require('./lib/search-traces.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');

const TRACES = Number(process.env.BENCH_IR_TRACES || 100);
const POINTS = Number(process.env.BENCH_IR_POINTS || 1); // points per trace: a wsgi root and POINTS - 1 db children
const BATCHES = Number(process.env.BENCH_IR_BATCHES || 20);
const WARMUP = 30;
const PAUSE_MS = Number(process.env.BENCH_IR_PAUSE_MS ?? 2000);
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const host = os.hostname();
const ALLOC = process.env.BENCH_ALLOC === '1';
const ALLOC_FRAMES = Number(process.env.BENCH_ALLOC_FRAMES ?? 12);

const SPLIT = process.env.BENCH_IR_SPLIT === '1';
const VARIED = process.env.BENCH_IR_VARIED === '1';
/** Varied traces made so far (each its own path, duration, service and host, as search.cjs's trace i). */
let seq = 0;
const T0 = Date.now();
/** Varied trace i (search.cjs's trace with POINTS - 1 sql children). */
const variedTrace = (i) => ST.variedTrace(i, POINTS - 1, T0);
/** BENCH_IR_CASES: the cases to run, `|`-separated, in this order (a case may repeat: ABBA pairs of this build and BENCH_BEFORE's). */
const ORDER = process.env.BENCH_IR_CASES ? process.env.BENCH_IR_CASES.split('|') : null;
/** BENCH_IR_SPLIT=1: each trace's later half, held for the next batch (marked split there, as an agent's flushes split longer requests). */
let held = [];

/** TRACES 1-point traces: lines, their bytes and their index, as the agent decodes a frame. */
function batch() {
  const objects = [...held];
  held = [];
  const t0 = Date.now();
  for (let i = 0; i < TRACES; i++) {
    if (VARIED) {
      objects.push(...variedTrace(seq++));
      if (SPLIT) held.push(...objects.splice(objects.length - POINTS, POINTS));
      continue;
    }
    const base = randomUUID();
    const id = randomUUID();
    const info = { request: { method: 'GET', path: `/orders/${i}`, query: '', scheme: 'http' }, host };
    objects.push({ name: 'wsgi-start', base_id: base, trace_id: id, parent_id: base, timestamp: instrument.formatTimestamp(t0 + i), info, project: 'bench', service: 'orders' });
    for (let k = 1; k < POINTS; k++) {
      const q = randomUUID();
      objects.push({ name: 'db-start', base_id: base, trace_id: q, parent_id: id, timestamp: instrument.formatTimestamp(t0 + i + 0.01 * k), info: { db: { statement: `SELECT * FROM orders WHERE id = ${i}`, params: '<hidden>' }, host }, project: 'bench', service: 'orders' });
      objects.push({ name: 'db-stop', base_id: base, trace_id: q, parent_id: id, timestamp: instrument.formatTimestamp(t0 + i + 0.01 * k + 0.005), info: { host }, project: 'bench', service: 'orders' });
    }
    objects.push({ name: 'wsgi-stop', base_id: base, trace_id: id, parent_id: base, timestamp: instrument.formatTimestamp(t0 + i + 0.5), info: { host }, project: 'bench', service: 'orders' });
    if (SPLIT) held.push(...objects.splice(objects.length - POINTS, POINTS));
  }
  const indexed = instrument.linesOfNotifications(objects);
  const { index: _index, ...lines } = indexed;
  const bytes = { ...indexed, buffers: indexed.lines.map((l) => Buffer.from(l, 'latin1')) };
  const items = [];
  const per = Math.ceil(bytes.lines.length / 4);
  for (let i = 0; i < bytes.lines.length; i += per) items.push({ key: randomUUID(), batch: sliceBatch(bytes, i, i + per) });
  return { bytes, lines, items };
}

/** The same call with the driver's index work switched off (no deltas, nothing sent for them). */
function withoutIndex(write) {
  const si = instrument.searchIndex;
  const saved = si.deltasOfBatch;
  si.deltasOfBatch = () => new Map();
  return write().finally(() => (si.deltasOfBatch = saved));
}

const CASES = {
  'bytes + index': (d, b) => d.notifyLines(b.bytes),
  'bytes, index off': (d, b) => withoutIndex(() => d.notifyLines(b.bytes)),
  lines: (d, b) => d.notifyLines(b.lines),
  once: (d, b) => d.notifyLinesOnce(b.items),
  'before, bytes + index': (d, b) => d.notifyLines(b.bytes),
  'before, lines': (d, b) => d.notifyLines(b.lines),
  'before, once': (d, b) => d.notifyLinesOnce(b.items),
};

/** A LineBatch's lines [from, to), with their index. */
function sliceBatch(b, from, to) {
  const index = {};
  for (const [k, v] of Object.entries(b.index)) index[k] = v.slice(from, to);
  return { baseIds: b.baseIds.slice(from, to), timestamps: b.timestamps.slice(from, to), lines: b.lines.slice(from, to), buffers: b.buffers.slice(from, to), errors: b.errors === null ? null : b.errors.slice(from, to), index };
}

/** BENCH_ALLOC's steps: each case's counted batches under the sampling heap profiler, printed as they end. */
function allocSteps() {
  return {
    async step(label, fn) {
      let n = 0;
      const { bytes, frames } = await allocated(async () => {
        n = await fn();
      });
      console.log(`| ${label} | ${(bytes / n).toFixed(0)} |`);
      for (const [frame, b] of frames.slice(0, ALLOC_FRAMES)) console.log(`|   ${frame.replace(/\|/g, '/')} | ${(b / n).toFixed(1)} |`);
    },
    end() {},
  };
}

async function child() {
  const steps = ALLOC ? allocSteps() : CG.stepper();
  const port = Number(process.env.BENCH_REDIS_PORT);
  let db = 0;
  for (const name of ORDER ?? Object.keys(CASES)) {
    const before = name.startsWith('before');
    if (before && BEFORE === undefined) continue;
    const url = `redis://127.0.0.1:${port}/${db++}`;
    const d = before ? await require(path.join(BEFORE, 'redis/driver.js')).createRedisDriver(new URL(url), {}) : await core.createDriver(url, {});
    const batches = Array.from({ length: WARMUP + BATCHES }, batch);
    for (const b of batches.slice(0, WARMUP - 5)) await CASES[name](d, b);
    // A pause for the compiler thread: valgrind runs one thread at a time, and the index's
    // encode (~180 ms of TurboFan natively) was still compiling in some counted windows
    // (the first case of a build read up to ~0.5k a line more).
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    for (const b of batches.slice(WARMUP - 5, WARMUP)) await CASES[name](d, b);
    await steps.step(name, async () => {
      // One batch at a time, as an agent at service rates writes a frame's points.
      for (const b of batches.slice(WARMUP)) await CASES[name](d, b);
      return BATCHES * TRACES * POINTS * 2;
    });
    await d.close();
  }
  steps.end();
  if (!ALLOC) process.exit(0);
}

async function main() {
  const valgrind = ALLOC ? '' : CG.version();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-redis-lines-'));
  const { child: redis, port } = await startRedisServer(dir);
  process.env.BENCH_REDIS_PORT = String(port);
  try {
    if (ALLOC) {
      console.log(`redis:// client bytes allocated on V8's heap per stored line (sampling heap profiler, collected objects included), node ${process.version}; ${BATCHES} batches of ${TRACES} ${POINTS}-point${VARIED ? ' varied' : ''} traces (${TRACES * POINTS * 2} lines) per case, one at a time`);
      console.log('| case / function | bytes / line |');
      console.log('|---|---:|');
      await child();
      return;
    }
    console.log(`redis:// client instructions per stored line, main thread, callgrind (${valgrind}), node ${process.version}; ${BATCHES} batches of ${TRACES} ${POINTS}-point${VARIED ? ' varied' : ''} traces (${TRACES * POINTS * 2} lines) per case, one at a time`);
    console.log('| case | instructions / line |');
    console.log('|---|---:|');
    await CG.runSteps(__filename, (label, per) => console.log(`| ${label} | ${(per / 1000).toFixed(2)}k |`));
  } finally {
    redis.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(process.env.BENCH_IR_CHILD ? child : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
