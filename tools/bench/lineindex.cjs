// The search index carried over agent:// and NATS (`node tools/bench/lineindex.cjs`):
// CPU per point of each step it changes, with and without the index, alternated in one
// process (paired, so the machine's load hits both alike):
//   client frame      encodeLineBatch of core's batches ('L'), vs reading the notifier's
//                     lazy LineIndex + encoding it into the frame ('I')
//   agent/collector   decode the body + the redis driver's search deltas (deltasOfBatch):
//                     'L' parses every line (indexOfLines), 'I' reads the carried index
//   upstream split    splitBatch into per-subject messages: 'L' + MD5 id per message (the
//                     old publisher) vs 'I' + `<agent>:<key>.<n>` ids
// The points are made by core itself (start/stop in traces, info of the shapes adapters
// write: an HTTP request with its route, SQL, a function), captured from its notifier.
// Env: BENCH_TRACES (per batch set, default 2000), BENCH_ROUNDS (9), BENCH_PPT (points per trace, 6),
// BENCH_SHAPE=nested (traces as compare's /nested makes them: a request to one route and
// BENCH_PPT - 1 nested function calls, each named apart: f5 … f1).
// `--instructions`: the same steps counted by callgrind instead (load-independent): one
// valgrind run per step (none, clientL, clientI, recvL, recvI: each adds one step to the
// one before it in its column), instructions per line = difference / lines.
'use strict';
const path = require('node:path');
const core = require('@osprofiler/core');
const { searchIndex } = require('@osprofiler/core/instrument');
const lines = require(path.join(__dirname, '../../packages/agent/dist/lines.js'));
const { splitBatch } = require(path.join(__dirname, '../../packages/agent/dist/upstream/publisher.js'));

const TRACES = Number(process.env.BENCH_TRACES || 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 9);
const PPT = Number(process.env.BENCH_PPT || 6);
const NESTED = process.env.BENCH_SHAPE === 'nested';
const CLIENT = Buffer.alloc(16, 1);
const O = { subjectPrefix: 'osprofiler', partitions: 16, agentId: 'bench-node' };

const captured = [];
const driver = {
  scheme: 'bench',
  notify() {},
  notifyLines(b) {
    captured.push(b);
  },
  flush: async () => undefined,
  close: async () => undefined,
  getReport: async () => ({}),
  listTraces: async () => [],
  listErrorTraces: async () => [],
};

/** Core's batches for TRACES traces (the notifier's own LineBatch objects, index not read yet). */
async function makeBatches() {
  captured.length = 0;
  for (let t = 0; t < TRACES; t++) {
    if (NESTED) {
      core.run({ hmacKey: 'k' }, () => {
        core.start('wsgi', { request: { path: '/nested', query: '', method: 'GET', scheme: 'http' } });
        const nest = (k) => (k === 0 ? 0 : core.traced('fn', { function: { name: `f${k}` } }, () => nest(k - 1) + 1));
        nest(PPT - 1);
        core.stop({ response: { status_code: 200 }, request: { route: '/nested' } });
      });
      continue;
    }
    core.run({ hmacKey: 'k' }, () => {
      core.start('wsgi', { request: { method: 'GET', path: `/items/${t}` } });
      for (let k = 1; k < PPT; k++) {
        if (k % 2) {
          core.start('db', { db: { statement: 'SELECT * FROM items WHERE id = $1', params: [t] } });
          core.stop();
        } else {
          core.start('rpc', { function: { name: 'svc.call' } });
          core.stop();
        }
      }
      core.stop({ request: { route: '/items/:id' } });
    });
  }
  await core.flush(10_000);
  return captured.splice(0);
}

function parts(b, withIndex) {
  const errors = [];
  if (b.errors !== null) b.errors.forEach((e, i) => e === 1 && errors.push(i));
  return [{ text: b.lines.join('\n') + '\n', count: b.lines.length, errors: errors.length ? errors : null, index: withIndex ? b.index : undefined, from: 0 }];
}

const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const STEP = process.env.BENCH_STEP || '';

/** Under callgrind (the parent's --instructions): only the steps of BENCH_STEP, whole process counted. */
async function step() {
  core.configure({ driver, host: 'bench-host', service: 'bench', project: 'shop', flushIntervalMs: 50, maxBufferPoints: 1_000_000 });
  const v = STEP.endsWith('I') ? 'I' : 'L';
  let lines_ = 0;
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const bs = await makeBatches();
    lines_ += bs.reduce((a, b) => a + b.lines.length, 0);
    if (STEP === 'none') continue;
    const bodies = bs.map((b) => ({ count: b.lines.length, body: lines.encodeLineBatch(CLIENT, 1, parts(b, v === 'I'), v === 'I').frame.subarray(29) }));
    if (!STEP.startsWith('recv')) continue;
    for (const { count, body } of bodies) {
      const d = new lines.DecodedLines();
      d.append(body, count);
      sink += searchIndex.deltasOfBatch(d).size;
    }
  }
  process.stdout.write(JSON.stringify({ lines: lines_, sink }) + '\n');
}

function instructions() {
  const { spawnSync } = require('node:child_process');
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-lineidx-'));
  const steps = ['none', 'clientL', 'clientI', 'recvL', 'recvI'];
  const ir = {};
  let lineCount = 0;
  for (const st of steps) {
    const out = path.join(dir, `cg-${st}`);
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, __filename], { env: { ...process.env, BENCH_STEP: st }, encoding: 'utf8', maxBuffer: 1 << 26 });
    const m = /^totals: (\d+)/m.exec(fs.readFileSync(out, 'utf8'));
    ir[st] = Number(m[1]);
    lineCount = JSON.parse(r.stdout.trim().split('\n').pop()).lines;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const per = (a, b) => ((ir[a] - ir[b]) / lineCount).toFixed(0);
  console.log(`lineindex bench --instructions: ${lineCount} lines (${ROUNDS} rounds × ${TRACES} traces × ${PPT} points), instructions per line (whole process, callgrind)`);
  console.log(`client frame      L ${per('clientL', 'none')}   I (index read + encoded) ${per('clientI', 'none')}`);
  console.log(`decode + deltas   L ${per('recvL', 'clientL')}   I ${per('recvI', 'clientI')}   ratio I/L ${((ir.recvI - ir.clientI) / (ir.recvL - ir.clientL)).toFixed(2)}`);
}

async function main() {
  if (STEP !== '') return step();
  if (process.argv.includes('--instructions')) return instructions();
  core.configure({ driver, host: 'bench-host', service: 'bench', project: 'shop', flushIntervalMs: 50, maxBufferPoints: 1_000_000 });
  const r = { clientL: [], clientI: [], recvL: [], recvI: [], splitL: [], splitI: [] };
  let sink = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    // Fresh batches for each variant (the notifier's index is computed once per batch).
    const bl = await makeBatches();
    const bi = await makeBatches();
    const n = bl.reduce((a, b) => a + b.lines.length, 0);
    const ni = bi.reduce((a, b) => a + b.lines.length, 0);
    const order = round % 2 === 0 ? ['L', 'I'] : ['I', 'L'];
    const bodies = {};
    for (const v of order) {
      const src = v === 'L' ? bl : bi;
      const t0 = cpu();
      bodies[v] = src.map((b) => ({ count: b.lines.length, body: lines.encodeLineBatch(CLIENT, 1, parts(b, v === 'I'), v === 'I').frame.subarray(29) }));
      const us = cpu() - t0;
      if (round > 0) r[`client${v}`].push((us * 1000) / (v === 'L' ? n : ni));
    }
    for (const v of order) {
      const t0 = cpu();
      for (const { count, body } of bodies[v]) {
        const d = new lines.DecodedLines();
        d.append(body, count);
        sink += searchIndex.deltasOfBatch(d).size;
      }
      const us = cpu() - t0;
      if (round > 0) r[`recv${v}`].push((us * 1000) / (v === 'L' ? n : ni));
    }
    for (const v of order) {
      const t0 = cpu();
      let k = 0;
      for (const { count, body } of bodies[v]) sink += splitBatch(body, count, O, v === 'I' ? `run-${++k}` : undefined).length;
      const us = cpu() - t0;
      if (round > 0) r[`split${v}`].push((us * 1000) / (v === 'L' ? n : ni));
    }
  }
  const f = (xs) => `${median(xs).toFixed(0)} ns (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(`lineindex bench: ${TRACES} traces × ${PPT} points a round, ${ROUNDS} rounds (medians, min–max), CPU ns per point, load ${require('node:os').loadavg().map((x) => x.toFixed(1)).join(' ')}; sink ${sink > 0}`);
  console.log(`client frame        L ${f(r.clientL)}   I (index read + encoded) ${f(r.clientI)}`);
  console.log(`decode + deltas     L ${f(r.recvL)}   I ${f(r.recvI)}   ratio I/L ${(median(r.recvI) / median(r.recvL)).toFixed(2)}`);
  console.log(`upstream split      L + md5 ${f(r.splitL)}   I + key ${f(r.splitI)}   ratio ${(median(r.splitI) / median(r.splitL)).toFixed(2)}`);
  const before = median(r.clientL) + median(r.recvL);
  const after = median(r.clientI) + median(r.recvI);
  console.log(`client + receiver   L ${before.toFixed(0)} ns   I ${after.toFixed(0)} ns`);
  await core.close?.();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
