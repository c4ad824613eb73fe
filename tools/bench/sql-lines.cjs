// The SQL drivers' client-side cost per stored point, in instructions of the writing
// process' main thread under callgrind (tools/bench/lib/callgrind.cjs; the machine's load
// does not change them): batches of stored lines WITHOUT a LineIndex, as the agent and the
// collector hand them over, written to postgresql:// and mysql:// (tables of its own
// prefix, dropped at the end). Cases:
//   lines      notifyLines(lines): each line stored as it is (this build)
//   lines + index  the same lines with their LineIndex (core's notifier fills it)
//   bytes + index  what the collector hands over: each line's bytes (views of one body,
//              `buffers`), strings made only if the driver reads `lines`, with the index
//   before, bytes + index  the same batches to the older build's notifyLines
//   objects    notify(objects): core's notifier path (serialised once, with an index)
//   before, objects  the older build's notify(objects)
//   before     BENCH_BEFORE=<an older build's packages/drivers/dist> (with NODE_PATH=node_modules
//              when it lies outside the repository): that build's driver, the lines parsed
//              back into objects for its notify(), as the agent did for it
// Env: BENCH_IR_BATCHES (counted batches of 1,000 points per case, default 10),
// BENCH_DRIVERS (postgresql,mysql), BENCH_IR_REVERSE=1. Bounded: ~8 min (valgrind).
'use strict';
const { randomBytes } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const instrument = require('@osprofiler/core/instrument');
require('@osprofiler/drivers');
const CG = require('./lib/callgrind.cjs');
const { traceBatch } = require('./lib/batches.cjs');

const BATCH = 1000;
const BATCHES = Number(process.env.BENCH_IR_BATCHES || 10);
const WARMUP = 5;
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const DRIVERS = (process.env.BENCH_DRIVERS || 'postgresql,mysql').split(',');
const URLS = { postgresql: 'postgresql://postgres@127.0.0.1:5432/test', mysql: 'mysql://root@127.0.0.1:3306/test' };
const host = os.hostname();


/**
 * A batch as the collector's PointSet is: `buffers` views of one body, `lines` made from
 * them (latin1) on first read, as the collector does.
 */
class ByteLines {
  constructor(b) {
    const body = Buffer.from(b.lines.join('\n'), 'latin1');
    let pos = 0;
    this.buffers = b.lines.map((l) => body.subarray(pos, (pos += l.length + 1) - 1));
    this.baseIds = b.baseIds;
    this.timestamps = b.timestamps;
    this.errors = b.errors;
    this.index = b.index;
  }

  get lines() {
    return (this.strings ??= this.buffers.map((x) => x.toString('latin1')));
  }
}

/** What the agent hands a driver: the lines and their framing fields, no index. */
function linesOf(batch) {
  const { index: _index, ...lines } = instrument.linesOfNotifications(batch);
  return lines;
}

const CASES = {
  lines: (d, b) => d.notifyLines(b.lines),
  'lines + index': (d, b) => d.notifyLines(b.indexed),
  'bytes + index': (d, b) => d.notifyLines(b.bytes),
  objects: (d, b) => d.notify(b.objects),
  before: (d, b) => d.notify(b.lines.lines.map((l) => instrument.parseStoredEvent(l))),
  'before, objects': (d, b) => d.notify(b.objects),
  'before, bytes + index': (d, b) => d.notifyLines(b.bytes),
};

async function open(kind, prefix, before) {
  const url = `${URLS[kind]}?table_prefix=${prefix}`;
  if (!before) return core.createDriver(url, {});
  const m = require(path.join(BEFORE, kind === 'postgresql' ? 'sql/postgres.js' : 'sql/mysql.js'));
  return kind === 'postgresql' ? m.createPostgresDriver(new URL(url), {}) : m.createMysqlDriver(new URL(url), {});
}

async function child() {
  const steps = CG.stepper();
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
        const objects = traceBatch(BATCH, host);
        const indexed = instrument.linesOfNotifications(objects);
        return { objects, lines: linesOf(objects), indexed, bytes: new ByteLines(indexed) };
      });
      for (const b of batches.slice(0, WARMUP)) await CASES[name](d, b);
      await steps.step(`${kind}|${name}`, async () => {
        for (const b of batches.slice(WARMUP)) await CASES[name](d, b);
        await d.flush(30_000);
        return BATCHES * BATCH;
      });
      for (const t of Object.values(d.tables)) await d.pool.query(`DROP TABLE IF EXISTS ${t}`);
      await d.close();
    }
  }
  steps.end();
  process.exit(0);
}

async function main() {
  const valgrind = CG.version();
  console.log(`client instructions per stored point, main thread, callgrind (${valgrind}), node ${process.version}; ${BATCHES} batches of ${BATCH} lines without an index per case`);
  console.log('| driver | case | instructions / point | vs lines |');
  console.log('|---|---|---:|---:|');
  const base = {};
  await CG.runSteps(__filename, (label, per) => {
    const [kind, name] = label.split('|');
    if (name === 'lines') base[kind] = per;
    console.log(`| ${kind} | ${name} | ${(per / 1000).toFixed(1)}k | ${base[kind] === undefined ? '' : (per / base[kind]).toFixed(2)} |`);
  });
}

(process.env.BENCH_IR_CHILD ? child : main)().catch((err) => {
  console.error(err);
  process.exit(1);
});
