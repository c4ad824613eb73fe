// The SQL drivers' client-side cost per stored point, in instructions of the writing
// process' main thread under callgrind (tools/bench/lib/callgrind.cjs; the machine's load
// does not change them): batches of stored lines WITHOUT a LineIndex, as the agent and the
// collector hand them over, written to postgresql:// and mysql:// (tables of its own
// prefix, dropped at the end). Cases:
//   lines      notifyLines(lines): each line stored as it is (this build)
//   lines + index  the same lines with their LineIndex (core's notifier fills it)
//   objects    notify(objects): core's notifier path (serialised once, with an index)
//   before, objects  the older build's notify(objects)
//   before     BENCH_BEFORE=<an older build's packages/drivers/dist> (with NODE_PATH=node_modules
//              when it lies outside the repository): that build's driver, the lines parsed
//              back into objects for its notify(), as the agent did for it
// Env: BENCH_IR_BATCHES (counted batches of 1,000 points per case, default 10),
// BENCH_DRIVERS (postgresql,mysql), BENCH_IR_REVERSE=1. Bounded: ~8 min (valgrind).
'use strict';
const { randomUUID, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
require('@osprofiler/drivers');
const CG = require('./lib/callgrind.cjs');

const BATCH = 1000;
const BATCHES = Number(process.env.BENCH_IR_BATCHES || 10);
const WARMUP = 5;
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const DRIVERS = (process.env.BENCH_DRIVERS || 'postgresql,mysql').split(',');
const URLS = { postgresql: 'postgresql://postgres@127.0.0.1:5432/test', mysql: 'mysql://root@127.0.0.1:3306/test' };
const host = os.hostname();

/** 100 traces of 5 nested spans (10 points each), as tools/bench/drivers.cjs makes them. */
function makeBatch() {
  const out = new Array(BATCH);
  const t0 = Date.now();
  for (let i = 0; i < BATCH; i += 10) {
    const base = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const kinds = ['wsgi', 'rpc', 'driver', 'db', 'sql'];
    for (let s = 0; s < 5; s++) {
      const parent = s === 0 ? base : ids[s - 1];
      const info =
        s === 0 ? { request: { method: 'GET', path: `/orders/${i}`, query: '', scheme: 'http' } }
        : s === 4 ? { db: { statement: 'select * from "orders" where "id" = ?' } }
        : { function: { name: `svc.Orders.method${s}` } };
      const ts = (k) => instrument.formatTimestamp(t0 + s + k / 1000);
      out[i + s] = { name: `${kinds[s]}-start`, base_id: base, trace_id: ids[s], parent_id: parent, timestamp: ts(0), info: { ...info, host }, project: 'bench', service: 'orders' };
      out[i + 9 - s] = { name: `${kinds[s]}-stop`, base_id: base, trace_id: ids[s], parent_id: parent, timestamp: ts(500), info: { host }, project: 'bench', service: 'orders' };
    }
  }
  return out;
}

/** What the agent hands a driver: the lines and their framing fields, no index. */
function linesOf(batch) {
  const { index: _index, ...lines } = instrument.linesOfNotifications(batch);
  return lines;
}

const CASES = {
  lines: (d, b) => d.notifyLines(b.lines),
  'lines + index': (d, b) => d.notifyLines(b.indexed),
  objects: (d, b) => d.notify(b.objects),
  before: (d, b) => d.notify(b.lines.lines.map((l) => instrument.parseStoredEvent(l))),
  'before, objects': (d, b) => d.notify(b.objects),
};

async function open(kind, prefix, before) {
  const url = `${URLS[kind]}?table_prefix=${prefix}`;
  if (!before) return core.createDriver(url, {});
  const m = require(path.join(BEFORE, kind === 'postgresql' ? 'sql/postgres.js' : 'sql/mysql.js'));
  return kind === 'postgresql' ? m.createPostgresDriver(new URL(url), {}) : m.createMysqlDriver(new URL(url), {});
}

async function child() {
  const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const tick = setInterval(() => {}, 20); // valgrind polls callgrind_control while the process wakes
  const prefix = `osp_bsqll${randomBytes(3).toString('hex')}_`;
  for (const kind of DRIVERS) {
    // BENCH_IR_REVERSE=1 runs the cases in reverse order (a check on JIT warm-up order effects).
    const names = process.env.BENCH_IR_REVERSE === '1' ? Object.keys(CASES).reverse() : Object.keys(CASES);
    for (const name of names) {
      const before = name.startsWith('before');
      if (before && BEFORE === undefined) continue;
      const d = await open(kind, `${prefix}${Object.keys(CASES).indexOf(name)}_`, before);
      // Batches made before counting: only the driver's work is counted.
      const batches = Array.from({ length: WARMUP + BATCHES }, () => {
        const objects = makeBatch();
        return { objects, lines: linesOf(objects), indexed: instrument.linesOfNotifications(objects) };
      });
      for (const b of batches.slice(0, WARMUP)) await CASES[name](d, b);
      process.stdout.write(`ready ${kind}|${name}\n`);
      await input.next();
      for (const b of batches.slice(WARMUP)) await CASES[name](d, b);
      await d.flush(30_000);
      process.stdout.write(`done ${BATCHES * BATCH}\n`);
      await input.next();
      for (const t of Object.values(d.tables)) await d.pool.query(`DROP TABLE IF EXISTS ${t}`);
      await d.close();
    }
  }
  clearInterval(tick);
  process.exit(0);
}

async function main() {
  const valgrind = CG.version();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-sql-lines-'));
  const file = path.join(dir, 'cg');
  const vg = CG.spawnNode(file, [__filename], { env: { ...process.env, BENCH_IR_CHILD: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  vg.stderr.on('data', (b) => (log += b));
  process.on('exit', () => {
    if (vg.exitCode === null && vg.signalCode === null) vg.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  console.log(`client instructions per stored point, main thread, callgrind (${valgrind}), node ${process.version}; ${BATCHES} batches of ${BATCH} lines without an index per case`);
  console.log('| driver | case | instructions / point | vs lines |');
  console.log('|---|---|---:|---:|');
  const base = {};
  let label;
  for await (const line of readline.createInterface({ input: vg.stdout })) {
    if (line.startsWith('ready ')) {
      label = line.slice(6);
      CG.start(vg.pid);
      vg.stdin.write('go\n');
    } else if (line.startsWith('done ')) {
      const per = CG.dumpMainThread(file, vg.pid) / Number(line.slice(5));
      const [kind, name] = label.split('|');
      if (name === 'lines') base[kind] = per;
      console.log(`| ${kind} | ${name} | ${(per / 1000).toFixed(1)}k | ${base[kind] === undefined ? '' : (per / base[kind]).toFixed(2)} |`);
      vg.stdin.write('next\n');
    }
  }
  const code = await new Promise((r) => (vg.exitCode !== null ? r(vg.exitCode) : vg.once('exit', r)));
  if (code !== 0) throw new Error(`the run under callgrind exited with ${code}\n${log}`);
}

(process.env.BENCH_IR_CHILD ? child : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
