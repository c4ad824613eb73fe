// Instruction counts under `valgrind --tool=callgrind --separate-threads=yes`, which the
// machine's other load does not change (wall-clock CPU does). Shared by
// compare/instructions.cjs (a server, counted per request), and through `stepper`/`runSteps`
// db.cjs (per query) and sql-lines.cjs (per stored point).
// Instrumentation starts off (--instr-atstart=no: start-up and warm-up run ~10x faster);
// `on` + zero before the counted work, `dump` after it, `mainThreadTotal` reads the dump.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { nodeUnderTest } = require('./node-under-test.cjs');

/** valgrind's version line; throws with how to install it when missing. */
function version() {
  const r = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (r.error) throw new Error('valgrind is not installed: apt-get install -y valgrind');
  return r.stdout.trim();
}

/**
 * Node flags for a repeatable count of a child's own work (trace-lines.cjs, core-points.cjs):
 * `--predictable` runs compilation and GC on the main thread in the same order every run, a
 * fixed 16 MB young generation and a 256 MB initial old generation (no full GC in the
 * window). One build's counts then repeat within ~1 %.
 */
const PREDICTABLE_NODE_ARGS = ['--predictable', '--min-semi-space-size=16', '--max-semi-space-size=16', '--initial-old-space-size=256'];

// Simulated caches and branch predictors (`--cache-sim=yes --branch-sim=yes`): each dump then
// also counts cache misses (I1mr D1mr D1mw ILmr DLmr DLmw) and conditional / indirect branches
// and their mispredictions (Bc Bcm Bi Bim) beside Ir. Valgrind models the host's cache sizes
// and a simple predictor, not the CPU's: figures to compare between cases, not cycles.
// The LL simulated is the core's own L2, 1 MB 16-way (BENCH_IR_LL=size,assoc,line to change
// it): this VM's cpuid reports a 512 MB L3, in which valgrind's LL would miss nothing but the
// first touch; /proc/cpuinfo gives "cache size: 1024 KB" (AMD EPYC, 48 KB 12-way D1). An LL
// miss here is a trip to the shared L3 or memory.
const SIM_ARGS = ['--cache-sim=yes', '--branch-sim=yes', `--LL=${process.env.BENCH_IR_LL || '1048576,16,64'}`];

/**
 * Node running `argv` under callgrind, dumps to `${file}.<pid>.<n>-<thread>`; `valgrindArgs`
 * (e.g. SIM_ARGS) go to callgrind.
 */
function spawnNode(file, argv, options, valgrindArgs = []) {
  return spawn('valgrind', ['--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', ...valgrindArgs, `--callgrind-out-file=${file}.%p`, nodeUnderTest().execPath, ...argv], options);
}

function control(args, pid) {
  // The command is picked up when valgrind next polls; retry while it is not yet detected.
  for (let k = 0; k < 50; k++) {
    const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
    if (r.status === 0 && /OK/.test(r.stdout)) return;
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`callgrind_control ${args.join(' ')} ${pid} did not answer`);
}

/** Instrumentation on and counters zeroed. */
function start(pid) {
  control(['-i', 'on'], pid);
  control(['-z'], pid);
}

/** Dumps the counters and returns the main thread's instructions since `start`; `keep` copies the dump there. */
function dumpMainThread(file, pid, keep) {
  return dumpMainThreadEvents(file, pid, keep).Ir;
}

/** As dumpMainThread, every event of the dump's summary: { Ir, and with SIM_ARGS D1mr, Bcm, … }. */
function dumpMainThreadEvents(file, pid, keep) {
  control(['-d'], pid);
  const main = lastDumpFiles(file, pid).find((f) => f.endsWith('-01'));
  const total = main === undefined ? undefined : eventsOf(main);
  if (total === undefined) throw new Error(`no main-thread dump with a summary for ${file}.${pid}`);
  if (keep) fs.copyFileSync(main, keep);
  return total;
}

/**
 * The last dump's files (`--separate-threads=yes` writes `<file>.<pid>.<n>-<tt>`, tt '01'
 * the main thread), in the order the directory lists them.
 */
function lastDumpFiles(file, pid) {
  const dir = path.dirname(file);
  const prefix = path.basename(`${file}.${pid}.`);
  const dumps = fs.readdirSync(dir).filter((f) => f.startsWith(prefix));
  const dump = (f) => Number(f.slice(prefix.length).split('-')[0]);
  const last = Math.max(...dumps.map(dump));
  return dumps.filter((f) => dump(f) === last).map((f) => path.join(dir, f));
}

/** A dump file's totals ({ event: count } from its `events:` and `summary:` lines), undefined without them. */
function eventsOf(f) {
  const text = fs.readFileSync(f, 'utf8');
  const events = /^events: (.*)$/m.exec(text);
  const summary = /^summary: (.*)$/m.exec(text);
  if (events === null || summary === null) return undefined;
  const counts = summary[1].trim().split(' ');
  // Events left out at the end of the line count zero (callgrind's format).
  return Object.fromEntries(events[1].trim().split(' ').map((e, i) => [e, Number(counts[i] ?? 0)]));
}

/** The last dump's count per thread, in the order the directory lists them. */
function lastDumpThreads(file, pid) {
  return lastDumpFiles(file, pid).map((f) => ({ thread: f.slice(f.lastIndexOf('-') + 1), count: eventsOf(f)?.Ir ?? 0 }));
}

/**
 * The counted side of a stepped run (`runSteps` below), inside the process under callgrind:
 * `step(label, fn)` says `ready <label>`, waits for the counters to be zeroed, runs `fn`
 * (it returns how many units it did), says `done <n>`, waits for the dump. A timer keeps
 * the process waking while it waits, so valgrind polls callgrind_control.
 */
function stepper() {
  const lines = require('node:readline').createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const tick = setInterval(() => {}, 20);
  return {
    async step(label, fn) {
      process.stdout.write(`ready ${label}\n`);
      await lines.next();
      const n = await fn();
      process.stdout.write(`done ${n}\n`);
      await lines.next();
    },
    end() {
      clearInterval(tick);
    },
  };
}

/**
 * The simulation's figures from callgrind's events ({ Ir, I1mr, D1mr, … }, with SIM_ARGS):
 * L1 and LL misses summed over their kinds, and KCachegrind's cycle estimate CEst = Ir +
 * 10 (L1 misses + mispredictions) + 100 LL misses (compare/instructions.cjs's definition).
 */
function simFigures(e) {
  const I1m = e.I1mr ?? 0;
  const D1m = (e.D1mr ?? 0) + (e.D1mw ?? 0);
  const LLm = (e.ILmr ?? 0) + (e.DLmr ?? 0) + (e.DLmw ?? 0);
  const Bcm = e.Bcm ?? 0;
  const Bim = e.Bim ?? 0;
  return { Ir: e.Ir, I1m, D1m, LLm, Bcm, Bim, CEst: e.Ir + 10 * (I1m + D1m + Bcm + Bim) + 100 * LLm };
}

/**
 * Runs `script` under callgrind with BENCH_IR_CHILD=1 (its `stepper()` steps) and calls
 * `onStep(label, instructionsPerUnit, eventsPerUnit)` for each step: the main thread's count
 * between the step's `ready` and `done`, divided by the units it did (`eventsPerUnit`: every
 * event of the dump so divided, e.g. the cache simulation's). Rejects when the run fails.
 * `nodeArgs`: node flags before the script; `env`: added to the child's environment;
 * `valgrindArgs`: to callgrind (e.g. SIM_ARGS). `functions`: node runs with --perf-basic-prof and
 * onStep gets a fourth argument, the step's main-thread instructions per function and unit
 * (a Map, JIT code named from V8's perf map: ./callgrind-functions.cjs).
 */
async function runSteps(script, onStep, { nodeArgs = [], env = {}, valgrindArgs = [], functions = false } = {}) {
  const os = require('node:os');
  const readline = require('node:readline');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-ir-'));
  const file = path.join(dir, 'cg');
  const vg = spawnNode(file, [...nodeArgs, ...(functions ? ['--perf-basic-prof'] : []), script], { env: { ...process.env, ...env, BENCH_IR_CHILD: '1' }, stdio: ['pipe', 'pipe', 'pipe'] }, valgrindArgs);
  let log = ''; // valgrind's banner and summary: shown only when the run fails
  vg.stderr.on('data', (b) => (log += b));
  // V8 writes the perf map to /tmp/perf-<pid>.map only (no path flag in Node 20).
  const perfMap = `/tmp/perf-${vg.pid}.map`;
  const cleanup = () => {
    if (vg.exitCode === null && vg.signalCode === null) vg.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    if (functions) fs.rmSync(perfMap, { force: true });
  };
  process.on('exit', cleanup);
  let label;
  for await (const line of readline.createInterface({ input: vg.stdout })) {
    if (line.startsWith('ready ')) {
      label = line.slice(6);
      start(vg.pid);
      vg.stdin.write('go\n');
    } else if (line.startsWith('done ')) {
      const units = Number(line.slice(5));
      const kept = functions ? `${file}.step` : undefined;
      const events = dumpMainThreadEvents(file, vg.pid, kept);
      let perFunction;
      if (kept !== undefined) {
        const { readPerfMap, profileOf } = require('./callgrind-functions.cjs');
        perFunction = new Map([...profileOf(kept, readPerfMap(perfMap)).self].map(([k, v]) => [k, v / units]));
      }
      onStep(label, events.Ir / units, Object.fromEntries(Object.entries(events).map(([e, v]) => [e, v / units])), perFunction);
      vg.stdin.write('next\n');
    }
  }
  const code = await new Promise((r) => (vg.exitCode !== null || vg.signalCode !== null ? r(vg.exitCode) : vg.once('exit', r)));
  cleanup();
  process.removeListener('exit', cleanup);
  if (code !== 0) throw new Error(`the run under callgrind exited with ${code}\n${log}`);
}

module.exports = { version, PREDICTABLE_NODE_ARGS, SIM_ARGS, simFigures, spawnNode, control, start, dumpMainThread, dumpMainThreadEvents, lastDumpThreads, stepper, runSteps };
