// Cost of the `exec` and `thread` points of @osprofiler/node (`npm run bench`) relative to
// what they measure: spawning a process or starting a worker thread. Goal: < 2% added.
// The three modes alternate operation by operation (order rotated each time), so the load
// of a shared machine hits them alike:
//   plain     the original child_process / worker_threads functions
//   untraced  the instrumented ones, called outside any trace (no point, no work)
//   traced    inside a trace: the point (start+stop), the signed context handed over (env
//             copy / worker environment data + config snapshot). The store write of this
//             process's points happens off the request path, in batches: it is measured
//             apart (a flush after every 10 traced operations, timed, per operation)
// Workloads, one operation at a time, each awaited to exit:
//   spawn true             /bin/true: the parent-side cost only
//   spawn node + register  a Node child preloading @osprofiler/node/register: in traced
//                          mode it verifies the context, records its `process` point and
//                          writes it to the store before exiting (all counted)
//   worker, no preload     a worker thread that does not load the profiler: the creator's
//                          side only
//   worker + register      a worker preloading the register entry: its `worker` point,
//                          its own store set-up and write at exit (counted)
// Figures: median wall time per operation and its ratio to plain; mean CPU of this process
// (worker threads included). Bounded: each workload stops at its time budget.
'use strict';
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const workerThreads = require('node:worker_threads');
const core = require('@osprofiler/core');
const osp = require('@osprofiler/node');

const ORIGINAL = Symbol.for('osprofiler.node.original');
const REGISTER = require.resolve('@osprofiler/node/register');
const KEY = 'K';
const START = Date.now();

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function exited(emitter) {
  return new Promise((resolve, reject) => {
    emitter.once('error', reject);
    emitter.once('exit', resolve);
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-exec-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const url = `file://${dir}`;
  core.configure({ connectionString: url, hmacKeys: [KEY], host: 'bench' });
  const childEnv = { ...process.env, OSPROFILER_HMAC_KEYS: KEY, OSPROFILER_CONNECTION_STRING: url, OSPROFILER_HOST: 'bench' };
  osp.instrumentChildProcess();
  osp.instrumentWorkerThreads();
  const spawn = { instrumented: childProcess.spawn, plain: childProcess.spawn[ORIGINAL] };
  const Worker = { instrumented: workerThreads.Worker, plain: workerThreads.Worker[ORIGINAL] };
  const impl = (o, mode) => (mode === 'plain' ? o.plain : o.instrumented);

  const WORKLOADS = [
    { name: 'spawn true', n: 300, budgetMs: 15_000, op: (m) => exited(impl(spawn, m)('true', [], { stdio: 'ignore' })) },
    {
      name: 'spawn node + register',
      n: 45,
      budgetMs: 25_000,
      op: (m) => exited(impl(spawn, m)(process.execPath, ['--require', REGISTER, '-e', '0'], { stdio: 'ignore', env: childEnv })),
    },
    { name: 'worker, no preload', n: 90, budgetMs: 15_000, op: (m) => exited(new (impl(Worker, m))('0', { eval: true, execArgv: [] })) },
    {
      name: 'worker + register',
      n: 60,
      budgetMs: 20_000,
      op: (m) => exited(new (impl(Worker, m))('0', { eval: true, execArgv: ['--require', REGISTER], env: childEnv })),
    },
  ];
  const MODES = ['plain', 'untraced', 'traced'];
  // Traced: the operation runs in a trace (as inside a request), its point the only one made.
  const run = (mode, fn) => (mode === 'traced' ? core.run({ hmacKey: KEY }, fn) : fn());

  await run('traced', async () => null); // as in a service: promise hooks are on for every mode
  const lines = [];
  for (const w of WORKLOADS) {
    const r = Object.fromEntries(MODES.map((m) => [m, { wall: [], cpu: [] }]));
    const write = { wall: 0, cpu: 0, ops: 0 };
    for (const m of MODES) await run(m, () => w.op(m)); // warm-up
    await core.flush(10_000);
    const until = Date.now() + w.budgetMs;
    let i = 0;
    for (; i < w.n && Date.now() < until; i++) {
      for (let k = 0; k < MODES.length; k++) {
        const m = MODES[(i + k) % MODES.length];
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await run(m, () => w.op(m));
        const c = process.cpuUsage(c0);
        r[m].wall.push(Number(process.hrtime.bigint() - t0) / 1e3);
        r[m].cpu.push(c.user + c.system);
        if (m === 'traced' && ++write.ops % 10 === 0) {
          const f0 = process.cpuUsage();
          const ft = process.hrtime.bigint();
          await core.flush(10_000);
          const fc = process.cpuUsage(f0);
          write.wall += Number(process.hrtime.bigint() - ft) / 1e3;
          write.cpu += fc.user + fc.system;
        }
      }
    }
    const pw = median(r.plain.wall);
    const pc = mean(r.plain.cpu);
    lines.push(`  ${w.name} (${i} per mode)`);
    for (const m of MODES) {
      const wall = median(r[m].wall);
      const cpu = mean(r[m].cpu);
      const added = ((wall - pw) / pw) * 100;
      lines.push(
        `    ${m.padEnd(9)} ${wall.toFixed(0).padStart(7)} µs wall  ${(wall / pw).toFixed(3)}x (${added >= 0 ? '+' : ''}${added.toFixed(1)}%)` +
          `   ${cpu.toFixed(0).padStart(6)} µs CPU  (${cpu - pc >= 0 ? '+' : ''}${(cpu - pc).toFixed(0)} µs)`,
      );
    }
    const batches = Math.floor(write.ops / 10) * 10;
    if (batches > 0) {
      lines.push(`    + store write of the traced points, batched by 10 ops: ${(write.wall / batches).toFixed(0)} µs wall, ${(write.cpu / batches).toFixed(0)} µs CPU per op (off the request path)`);
    }
  }
  osp.uninstrumentChildProcess();
  osp.uninstrumentWorkerThreads();
  const stored = fs.readdirSync(dir, { recursive: true }).length;
  console.log(`@osprofiler/node exec/thread points — node ${process.version}, ${((Date.now() - START) / 1000).toFixed(0)} s,`);
  console.log('modes alternated per operation; median wall µs per operation (ratio to plain), mean CPU µs of this process');
  for (const l of lines) console.log(l);
  console.log(`  (${stored} entries in the store: the traced operations' points were written)`);
  await core.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
