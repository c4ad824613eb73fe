// The collector path's redis:// write in instructions a point under callgrind (the machine's
// load does not change them; tools/bench/lib/callgrind.cjs), next to collector.cjs, whose
// CPU-time figures swing with the load (`node tools/bench/collector-ir.cjs`):
//   collector      the collector's per-message work in one process, main thread: check a
//                  schema-3 message (inflate, decode, validate: packages/collector's
//                  checkMessage) and write it through redis:// notifyLinesOnce (two
//                  messages a write, as the partitions' writes do). 'L' bodies: lines alone,
//                  what agents publish by default (apps send the search index only to an
//                  agent started with --client-index), so the collector derives the index
//                  from the lines; `collector, 'I' bodies`: the same points with the
//                  client's index carried ('I', PROTOCOL.md), nothing derived from the lines
//   redis-server   a redis-server of its own under callgrind, main thread: the same writes
//                  (`once`), and the direct agent's plain notifyLines of the same points (`lines`)
//   agent          the publishing agent's split of client batches (50 traces, 2,000 points)
//                  into 16 partitions' messages and their DEFLATE (packages/agent/src/upstream:
//                  splitBatch, encodeBody; NATS's client not included)
//   agent upstream the same batches through the agent's Upstream.writeRecords into a
//                  nats-server of its own (split, DEFLATE, JetStream publish, acks awaited):
//                  the agent's whole upstream work, its NATS client included
// Messages as collector.cjs's client makes them: traces of 20 start/stop pairs, 7 traces
// (280 points) a message. BENCH_BEFORE=DIR (a copy of an older build laid out as collector.cjs
// wants it) counts that build's collector, drivers and agent split in the same runs, alternated.
// Env: BENCH_IR_MESSAGES (per counted step, default 40), BENCH_IR_ROUNDS (3). ~4 min (valgrind).
// Runs its own redis-server and nats-server (/usr/sbin/nats-server, JetStream on), loopback, temp dirs.
'use strict';
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { deflateRawSync } = require('node:zlib');
const CG = require('./lib/callgrind.cjs');
const { startRedisServer } = require('./lib/redis-server.cjs');
const { freePort, waitFor } = require('./lib/proc.cjs');

const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : '';
const MESSAGES = Number(process.env.BENCH_IR_MESSAGES || 40);
const ROUNDS = Number(process.env.BENCH_IR_ROUNDS || 3);
// The wire format's encoder (the same for every build): 'I' bodies are made with this build's.
const AGENT_LINES = require('../../packages/agent/dist/lines.js');
const AGENT_PROTOCOL = require('../../packages/agent/dist/protocol.js');
const LIMITS = { partitions: 1, maxPointBytes: 65_536, maxMessagePoints: 100_000, maxInflatedBytes: 1 << 26 };

/** `n` 'L' bodies (`indexed`: 'I', the lines with core's index) of `traces` traces × 40 points each. */
function bodies(n, traces, indexed = false) {
  const instrument = require('@osprofiler/core/instrument');
  const out = [];
  for (let m = 0; m < n; m++) {
    const objs = [];
    for (let t = 0; t < traces; t++) {
      const base = randomUUID();
      for (let i = 0; i < 20; i++) {
        const id = randomUUID();
        const ts = instrument.formatTimestamp(Date.now());
        // Keys in core's order (the line format starts with "name").
        const point = (name, info) => ({ name, base_id: base, trace_id: id, parent_id: base, timestamp: ts, info, project: null, service: 'bench' });
        objs.push(point('function-start', { function: { name: 'f' }, host: 'bench' }), point('function-stop', { host: 'bench' }));
      }
    }
    const batch = instrument.linesOfNotifications(objs);
    const text = batch.lines.join('\n') + '\n';
    if (indexed) {
      // The client's frame with the index ('I'), as encodeLineBatch writes it; the body after the frame header.
      const part = { text, count: objs.length, errors: null, index: batch.index, from: 0 };
      out.push({ body: AGENT_LINES.encodeLineBatch(Buffer.alloc(16), 1, [part], true).frame.subarray(AGENT_PROTOCOL.BATCH_BODY_OFFSET), count: objs.length });
      continue;
    }
    const body = Buffer.alloc(5 + Buffer.byteLength(text));
    body[0] = 0x4c; // 'L', no error indexes
    body.write(text, 5, 'latin1');
    out.push({ body, count: objs.length });
  }
  return out;
}

/** `n` schema-3 messages (raw DEFLATE of an 'L' body, `indexed`: 'I') of 7 traces × 40 points. */
function messages(n, indexed = false) {
  return bodies(n, 7, indexed).map((b) => ({ data: deflateRawSync(b.body, { level: 1 }), count: b.count }));
}

/** The publishing agent's split of client batches (50 traces × 40 points) into 16 partitions' messages, compressed: resolves with the points. */
function split(records, agent, deflater) {
  const { splitBatch, encodeBody } = agent;
  let points = 0;
  for (const r of records) {
    for (const m of splitBatch(r.body, r.count, { subjectPrefix: 'bench', partitions: 16, agentId: 'bench' }, randomUUID())) {
      encodeBody(m, 'deflate', deflater);
      points += m.count;
    }
  }
  return points;
}

/** This build's and BENCH_BEFORE's collector check and redis:// driver, each on its own db of `port`. */
async function builds(port) {
  // The publisher's reused deflate handle (session 12), when the build has one.
  const deflater = (root) => {
    const f = path.join(root, '@osprofiler/agent/dist/upstream/deflate.js');
    return fs.existsSync(f) ? new (require(f).RawDeflater)() : undefined;
  };
  const dist = (root) => ({ check: require(path.join(root, '@osprofiler/collector/dist/validate.js')).checkMessage, drivers: require(path.join(root, '@osprofiler/drivers')), agent: require(path.join(root, '@osprofiler/agent')), deflater: deflater(root) });
  const all = { this: dist(path.join(__dirname, '../../node_modules')) };
  if (BEFORE) all.before = dist(path.join(BEFORE, 'node_modules'));
  let db = 0;
  for (const b of Object.values(all)) b.driver = await b.drivers.createRedisDriver(new URL(`redis://127.0.0.1:${port}/${db++}`), {});
  return all;
}

/** Checks and writes the messages two at a time, as the collector does; `lines`: the direct agent's plain write of the same points instead. Resolves with the points. */
async function write(b, msgs, mode) {
  let points = 0;
  for (let i = 0; i < msgs.length; i += 2) {
    const items = msgs.slice(i, i + 2).map((m) => {
      const c = b.check(m.data, '3', String(m.count), 0, LIMITS, undefined);
      if (!c.ok || c.bad.length > 0) throw new Error('bench message refused');
      points += c.points.count;
      return { key: randomUUID(), batch: c.points };
    });
    if (mode === 'lines') await Promise.all(items.map((it) => b.driver.notifyLines(it.batch)));
    else if (!(await b.driver.notifyLinesOnce(items)).every(Boolean)) throw new Error('a fresh batch was not written');
  }
  return points;
}

/** Under callgrind (runSteps): the collector's own instructions a point, per build. */
async function child() {
  const steps = CG.stepper();
  const all = await builds(process.env.BENCH_IR_REDIS_PORT);
  for (const b of Object.values(all)) await write(b, messages(40), 'once'); // JIT warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, b] of Object.entries(all)) {
      const msgs = messages(MESSAGES); // made before the counted step
      await steps.step(k, () => write(b, msgs, 'once'));
    }
  }
  for (const b of Object.values(all)) await write(b, messages(40, true), 'once'); // warm-up, 'I'
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, b] of Object.entries(all)) {
      const msgs = messages(MESSAGES, true);
      await steps.step(`'I' bodies, ${k}`, () => write(b, msgs, 'once'));
    }
  }
  for (const b of Object.values(all)) split(bodies(5, 50), b.agent, b.deflater); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, b] of Object.entries(all)) {
      const records = bodies(Math.ceil(MESSAGES / 7), 50);
      await steps.step(`agent split + deflate, ${k}`, () => split(records, b.agent, b.deflater));
    }
  }
  // The whole upstream path: each build's Upstream (its own NATS connection options) into the
  // bench's nats-server; one stream takes both builds' subjects.
  const { jetstreamManager } = require('@nats-io/jetstream');
  const url = process.env.BENCH_IR_NATS_URL;
  const ups = {};
  for (const [k, b] of Object.entries(all)) {
    ups[k] = new b.agent.Upstream({ url, subjectPrefix: `benchir.${k}`, partitions: 16, agentId: `bench-${k}`, publishTimeoutMs: 60_000 });
    await ups[k].open();
  }
  const nc = await require('@nats-io/transport-node').connect({ servers: url });
  await (await jetstreamManager(nc)).streams.add({ name: 'BENCHIR', subjects: ['benchir.>'], max_bytes: 1 << 30 });
  const publish = async (up, records) => {
    if ((await up.writeRecords(records)) !== 0) throw new Error('bench records refused');
    return records.reduce((a, r) => a + r.count, 0);
  };
  const keyed = (n) => bodies(n, 50).map((r) => ({ ...r, key: randomUUID() }));
  for (const up of Object.values(ups)) await publish(up, keyed(5)); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, up] of Object.entries(ups)) {
      const records = keyed(Math.ceil(MESSAGES / 7));
      await steps.step(`agent upstream (split + deflate + publish), ${k}`, () => publish(up, records));
    }
  }
  steps.end();
  for (const up of Object.values(ups)) await up.close();
  await nc.close();
  for (const b of Object.values(all)) await b.driver.close();
  process.exit(0);
}

/** redis-server's main-thread instructions a point: the collector's writes vs the direct agent's, per build. */
async function redisServer() {
  CG.version();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-collector-ir-'));
  const file = path.join(dir, 'cg');
  // valgrind becomes the process: its pid is redis-server's.
  const { child: srv, port, pid } = await startRedisServer(dir, { wrap: ['valgrind', '--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', `--callgrind-out-file=${file}.%p`], timeoutMs: 60_000 });
  const out = {};
  try {
    const all = await builds(port);
    for (const b of Object.values(all)) for (const mode of ['once', 'lines']) await write(b, messages(10), mode);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, b] of Object.entries(all)) {
        for (const mode of ['once', 'lines']) {
          const msgs = messages(MESSAGES);
          CG.start(pid);
          const points = await write(b, msgs, mode);
          (out[`${k} ${mode}`] ??= []).push(Math.round(CG.dumpMainThread(file, pid) / points));
        }
      }
    }
    for (const b of Object.values(all)) await b.driver.close();
  } finally {
    srv.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main() {
  console.log(`collector-ir: ${MESSAGES} messages of 280 points per step, ${ROUNDS} rounds${BEFORE ? `, this build and ${BEFORE} alternated` : ''}; instructions a point (callgrind, main thread)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-collector-ir-'));
  const { child: redis, port } = await startRedisServer(dir);
  const natsPort = await freePort();
  const nats = require('node:child_process').spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', path.join(dir, 'nats')], { stdio: 'ignore' });
  const collector = {};
  try {
    const listening = () => new Promise((r) => require('node:net').connect(natsPort, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)));
    await waitFor('nats-server', listening, 20_000);
    process.env.BENCH_IR_REDIS_PORT = String(port);
    process.env.BENCH_IR_NATS_URL = `nats://127.0.0.1:${natsPort}`;
    await CG.runSteps(__filename, (label, per) => (collector[label] ??= []).push(Math.round(per)));
  } finally {
    nats.kill('SIGKILL');
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const [k, v] of Object.entries(collector)) console.log(`  ${k.startsWith('agent') ? k : `collector (check + write-once), ${k}`}: ${v.join(' / ')}`);
  const server = await redisServer();
  for (const [k, v] of Object.entries(server)) console.log(`  redis-server, ${k}: ${v.join(' / ')}`);
}

if (process.env.BENCH_IR_CHILD) child();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
