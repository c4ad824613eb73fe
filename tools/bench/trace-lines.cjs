// A traced request's own cost in the app, without the app (issue 15): instructions per
// request-shaped trace of the main thread under callgrind (lib/callgrind.cjs) — its points
// on the request path, core's deferred formatting of their lines, and the agent:// client's
// text and BATCH frame (packages/agent src/lines.ts, no socket). Shapes, as the compare app's
// routes trace them (tools/bench/compare/app.cjs):
//   hello    a `wsgi` point (Python's start info, the stop's status and route)
//   nested   the same with five nested `fn` points inside (6 points, 12 lines)
//   header   hello continuing a distinct signed X-Trace-Info/X-Trace-HMAC per request
//            (verified by core's incomingTrace; the headers are made before counting)
//   nested-header  nested continuing such a header (not in the default BENCH_SHAPES)
// Each shape runs in a process of its own under `node --predictable` (compilation and GC
// on the main thread, in the same order every run) with a fixed 16 MB young generation and
// a 256 MB initial old generation (no full GC in the window): counts of one build repeat
// within ~1 %, where the compare app's move ±5 % between runs with the scavenges. That
// is also why they are higher than the compare's (the GC and compiler threads' work is on
// the main thread here): read differences between builds of the same run, not totals.
// BENCH_BEFORE=<an older checkout's root, its packages built>: that build's core and agent
// are counted too, alternated per round (ABBA from round 2 on: the first build of round r is
// the last of round r-1). BENCH_IR_SIM=1: callgrind also simulates the caches and branch
// predictors (lib/callgrind.cjs SIM_ARGS, ~2x slower) and each shape reports, per trace, Ir,
// LL misses (ILmr+DLmr+DLmw) and CEst = Ir + 10 (L1 misses + mispredictions) + 100 LL misses
// (compare/instructions.cjs's figures). Env: BENCH_IR_WARMUP (8000), BENCH_IR_COUNT (3000)
// traces, BENCH_ROUNDS (2), BENCH_SHAPES (hello,nested,header), BENCH_TRACE_INDEX=1 (each batch's
// search index made too, LineBatch.index). ~1 min a shape and build.
// BENCH_IR_FUNCTIONS=N: each shape's child also runs with --perf-basic-prof, and after the
// rounds the N functions with the most instructions a trace are listed per build and shape
// (the last round's; JIT code named from V8's perf map, lib/callgrind-functions.cjs), and with
// BENCH_BEFORE the N that differ most between the builds.
// BENCH_ALLOC=1: bytes instead of instructions, no callgrind — each shape's process (the same
// child, node flags and warm-up) counts the bytes its BENCH_IR_COUNT traces allocate on V8's
// heap, collected objects included (lib/allocated.cjs, V8's sampling heap profiler), and
// prints bytes a trace per round and build (ABBA as above), then, for each build and shape,
// the BENCH_ALLOC_TOP (12) functions that allocate most (bytes a trace, the last round's).
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const CG = require('./lib/callgrind.cjs');
const { registerNullDriver } = require('./lib/null-driver.cjs');
const { diffRows } = require('./lib/callgrind-functions.cjs');

const ROOT = path.resolve(__dirname, '../..');
const WARMUP = Number(process.env.BENCH_IR_WARMUP || 8000);
const COUNT = Number(process.env.BENCH_IR_COUNT || 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const SHAPES = (process.env.BENCH_SHAPES || 'hello,nested,header').split(',');
const SIM = process.env.BENCH_IR_SIM === '1';
const WITH_INDEX = process.env.BENCH_TRACE_INDEX === '1';
const ALLOC = process.env.BENCH_ALLOC === '1';
const ALLOC_TOP = Number(process.env.BENCH_ALLOC_TOP || 12);
const FUNCTIONS = Number(process.env.BENCH_IR_FUNCTIONS || 0);
const KEY = 'bench-key';
const PER_FLUSH = 40; // traces between flushes: ~240 points, a busy service's batch

async function child() {
  const root = process.env.BENCH_TRACE_ROOT;
  const shape = process.env.BENCH_TRACE_SHAPE;
  const core = require(path.join(root, 'packages/core/dist/index.js'));
  const instrument = require(path.join(root, 'packages/core/dist/instrument.js'));
  const lines = require(path.join(root, 'packages/agent/dist/lines.js'));
  const clientId = Buffer.alloc(16, 1);
  let seq = 0;
  let framed = 0;
  // The client's text of a batch: builds whose frame adds the last LF take the lines joined.
  const textOf = lines.encodeLineBatch.toString().includes('endsWithLf') ? (b) => b.lines.join('\n') : (b) => b.lines.join('\n') + '\n';
  registerNullDriver(instrument, 'benchframes', {
    notifyLines(b) {
      // BENCH_TRACE_INDEX=1: the batch's search index read too, as a driver that keeps one
      // in the app's process does (direct redis://, an agent asking for the client's index).
      if (WITH_INDEX && b.index.names.length !== b.lines.length) throw new Error('index and lines differ in length');
      framed += lines.encodeLineBatch(clientId, ++seq, [{ text: textOf(b), count: b.lines.length, errors: null }], false).count;
    },
  });
  core.configure({ enabled: true, connectionString: 'benchframes://x', host: 'bench', service: 'bench', hmacKeys: [KEY], maxBufferPoints: 1e6, flushIntervalMs: 60_000 });
  const nested = (k) => (k === 0 ? 0 : core.traced('fn', { function: { name: `f${k}` } }, () => nested(k - 1) + 1));
  const isNested = shape === 'nested' || shape === 'nested-header';
  const withHeader = shape === 'header' || shape === 'nested-header';
  const depth = isNested ? 5 : 0;
  const route = isNested ? '/nested' : '/hello';
  const request = (trace) => core.run(trace, () => {
    core.start('wsgi', { request: { path: route, query: '', method: 'GET', scheme: 'http' } });
    nested(depth);
    core.stop({ response: { status_code: 200 }, request: { route } });
  });
  const sampled = { hmacKey: KEY };
  const headers = (n) => Array.from({ length: n }, () => {
    const id = require('node:crypto').randomUUID();
    const { info, hmac } = core.signedPack({ base_id: id, parent_id: id }, KEY);
    return { 'x-trace-info': info, 'x-trace-hmac': hmac };
  });
  const traces = async (n, carriers) => {
    const before = framed;
    for (let i = 0; i < n; i += PER_FLUSH) {
      for (let j = i; j < Math.min(n, i + PER_FLUSH); j++) request(carriers ? instrument.incomingTrace(carriers[j]) : sampled);
      await core.flush(30_000);
    }
    if (framed - before !== n * 2 * (depth + 1)) throw new Error(`framed ${framed - before} lines for ${n} traces`);
    return n;
  };
  await core.run(sampled, async () => { await null; }); // promise hooks on, as in a service
  const steps = ALLOC ? undefined : CG.stepper();
  // The counted traces' headers made before the warm-up, so that its scavenges have moved
  // them to the old generation: made after it, the window's first scavenges copied them
  // (~2.4k instructions a trace of scavenger work in nested-header, whose window holds
  // scavenges where header's holds none), which a server's per-request headers never cost.
  const carriers = withHeader ? headers(COUNT) : undefined;
  await traces(WARMUP, withHeader ? headers(WARMUP) : undefined);
  if (ALLOC) {
    const { allocated } = require('./lib/allocated.cjs');
    const { bytes, frames } = await allocated(() => traces(COUNT, carriers));
    process.stdout.write(`${JSON.stringify({ bytes: bytes / COUNT, frames: frames.slice(0, ALLOC_TOP).map(([f, b]) => [f, b / COUNT]) })}\n`);
  } else {
    await steps.step(shape, () => traces(COUNT, carriers));
    steps.end();
  }
  process.exit(0);
}

const NODE_ARGS = CG.PREDICTABLE_NODE_ARGS;

/** BENCH_ALLOC=1: bytes a trace of `shape` with the build at `root`, and the top functions' ({ bytes, frames }). */
function allocatedPerTrace(root, shape) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, __filename], { env: { ...process.env, BENCH_TRACE_ROOT: root, BENCH_TRACE_SHAPE: shape, BENCH_IR_CHILD: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      if (code !== 0 || !last) reject(new Error(`${shape}: the child exited with ${code}`));
      else resolve(JSON.parse(last));
    });
  });
}

/** Per trace of `shape` with the build at `root`: its events ({ Ir, and with SIM the simulation's }) and, with FUNCTIONS, its instructions by function. */
async function count(root, shape) {
  let per;
  let fns;
  await CG.runSteps(__filename, (_label, _ir, events, perFunction) => ((per = events), (fns = perFunction)), {
    nodeArgs: NODE_ARGS,
    env: { BENCH_TRACE_ROOT: root, BENCH_TRACE_SHAPE: shape },
    valgrindArgs: SIM ? CG.SIM_ARGS : [],
    functions: FUNCTIONS > 0,
  });
  if (per === undefined) throw new Error(`${shape}: the run under callgrind counted nothing`);
  return { per, fns };
}

/** BENCH_IR_FUNCTIONS: the largest functions of each build and shape, then the largest differences between builds. */
function printFunctions(byBuild) {
  const fmt = (x) => `${(x / 1000).toFixed(2)}k`.padStart(8);
  for (const [key, fns] of byBuild) {
    console.log(`${key}, instructions a trace by function (the last round's; the ${FUNCTIONS} largest):`);
    for (const [f, n] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, FUNCTIONS)) console.log(`  ${fmt(n)}  ${f}`);
  }
  for (const shape of SHAPES) {
    const a = byBuild.get(`before ${shape}`);
    const b = byBuild.get(`this ${shape}`);
    if (a === undefined || b === undefined) continue;
    console.log(`${shape}: the ${FUNCTIONS} functions that differ most (before, this, difference):`);
    for (const [f, x, y] of diffRows(a, b, FUNCTIONS)) console.log(`  ${fmt(x)} ${fmt(y)} ${fmt(y - x)}  ${f}`);
  }
}

/** One shape's figures for the round's line. */
function figures(shape, events) {
  if (!SIM) return `${shape} ${(events.Ir / 1000).toFixed(2)}k`;
  const f = CG.simFigures(events);
  return `${shape} Ir ${(f.Ir / 1000).toFixed(2)}k LL ${f.LLm.toFixed(1)} CEst ${(f.CEst / 1000).toFixed(2)}k`;
}

async function main() {
  const builds = [['this', ROOT]];
  if (process.env.BENCH_BEFORE) builds.unshift(['before', path.resolve(process.env.BENCH_BEFORE)]);
  if (ALLOC) return mainAlloc(builds);
  const sim = SIM ? ` with the cache simulation (${CG.SIM_ARGS.join(' ')})` : '';
  console.log(`${SIM ? 'figures' : 'instructions'} per trace (request path + deferred format + agent:// frame), main thread, callgrind (${CG.version()})${sim}, node ${process.version} --predictable; ${WARMUP} warm-up + ${COUNT} counted traces per shape`);
  const byBuild = new Map();
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, root] of r % 2 === 0 ? [...builds].reverse() : builds) {
      const out = [];
      for (const shape of SHAPES) {
        const { per, fns } = await count(root, shape);
        out.push(figures(shape, per));
        if (fns !== undefined) byBuild.set(`${name} ${shape}`, fns);
      }
      console.log(`  round ${r} ${name.padEnd(6)} ${out.join('  ')}`);
    }
  }
  if (FUNCTIONS > 0) printFunctions(byBuild);
}

/** BENCH_ALLOC=1: bytes a trace per round and build, alternated as instructions are, then where they go. */
async function mainAlloc(builds) {
  console.log(`bytes allocated on V8's heap per trace (request path + deferred format + agent:// frame), main thread, V8's sampling heap profiler (256-byte interval, collected objects included), node ${process.version} --predictable; ${WARMUP} warm-up + ${COUNT} counted traces per shape`);
  const last = new Map();
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, root] of r % 2 === 0 ? [...builds].reverse() : builds) {
      const out = [];
      for (const shape of SHAPES) {
        const a = await allocatedPerTrace(root, shape);
        last.set(`${name} ${shape}`, a.frames);
        out.push(`${shape} ${a.bytes.toFixed(0)} B`);
      }
      console.log(`  round ${r} ${name.padEnd(6)} ${out.join('  ')}`);
    }
  }
  for (const [key, frames] of last) {
    console.log(`${key}, bytes a trace by function (round ${ROUNDS}):`);
    for (const [f, b] of frames) console.log(`  ${b.toFixed(0).padStart(6)}  ${f}`);
  }
}

(process.env.BENCH_IR_CHILD ? child : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
