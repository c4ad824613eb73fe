// Express "hello" three ways (`npm run bench` or `node tools/bench/express.cjs`):
//   plain      express() with no profiler at all
//   plain-b    the same again, in another process: an A/A control that shows how far two
//              identical servers differ on this machine (the noise floor of the ratios)
//   no-header  app.use(profiler()) with tracing enabled, requests carry no trace header
//   traced     the middleware app, every request carries a valid signed header (stored in
//              the embedded file:// backend, in a temporary directory)
// Then, because separate processes differ by a few % even when identical (see plain-b),
// the untraced cost is also measured inside ONE server process: three apps on three ports
// (plain; app.use(profiler()); instrumentApp(app), which is what automatic mode does),
// nothing ever traced there, alternating short windows in rotating order.
// Each variant is its own server process on 127.0.0.1 (a traced process turns promise hooks
// on, which must not leak into the others); the load comes from a separate process (a
// keep-alive HTTP loop). Rounds alternate the variants (rotating the order), and the
// figure to trust is the server's CPU time per request (process.cpuUsage in the server):
// req/s depends on whatever else the machine is doing. Bounded: about 80 s by default.
// BENCH_CPU_PROF=<dir> writes a --cpu-prof profile of each server process there.
'use strict';
const { load, median, startHarness } = require('./lib/http-bench.cjs');
const os = require('node:os');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 8);
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS || 14);
const PAIR_SECONDS = Number(process.env.BENCH_PAIR_SECONDS || 0.6);
const SECONDS = Number(process.env.BENCH_SECONDS || 1.2);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 1.5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const KEY = 'bench-key';
const VARIANTS = ['plain', 'plain-b', 'no-header', 'traced'];

// ---------------------------------------------------------------------------- server
function server(variant, storeDir) {
  const express = require('express');
  if (variant === 'pair') {
    // Apps in one process: plain, with the middleware, with instrumentApp(app). Nothing is
    // ever traced here, so promise hooks stay off as in the plain process.
    require('@osprofiler/core').configure({ enabled: true, hmacKeys: [KEY], connectionString: `file://${storeDir}` });
    const adapter = require('@osprofiler/express');
    const ports = [];
    const kinds = ['plain', 'middleware', 'instrumentApp'];
    kinds.forEach((kind, i) => {
      const app = express();
      if (kind === 'middleware') app.use(adapter.profiler());
      app.get('/hello', (req, res) => res.send('hello'));
      if (kind === 'instrumentApp') adapter.instrumentApp(app);
      const srv = app.listen(0, '127.0.0.1', () => {
        srv.keepAliveTimeout = 60_000;
        ports[i] = srv.address().port;
        if (ports.filter(Boolean).length === kinds.length) process.send({ port: ports });
      });
    });
    process.on('message', (m) => {
      if (m === 'cpu') {
        const u = process.cpuUsage();
        process.send({ cpu: u.user + u.system });
      } else if (m === 'stop') process.exit(0);
    });
    return;
  }
  if (!variant.startsWith('plain')) {
    const core = require('@osprofiler/core');
    core.configure({ enabled: true, hmacKeys: [KEY], connectionString: `file://${storeDir}`, host: 'bench', service: 'bench' });
  }
  const app = express();
  if (variant === 'no-header' || variant === 'traced') app.use(require('@osprofiler/express').profiler());
  app.get('/hello', (req, res) => res.send('hello'));
  const srv = app.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
  srv.keepAliveTimeout = 60_000;
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpu: u.user + u.system });
    } else if (m === 'stop') {
      const finish = () => srv.close(() => process.exit(0));
      if (variant.startsWith('plain')) finish();
      else require('@osprofiler/core').flush().then(finish, finish);
      srv.closeAllConnections();
    }
  });
}

// ------------------------------------------------------------------------ orchestrator
async function main() {
  const started = Date.now();
  const { signedPack } = require('@osprofiler/core');
  const base = require('node:crypto').randomUUID();
  const { info, hmac } = signedPack({ base_id: base, parent_id: base }, KEY);
  const headersFor = { plain: {}, 'plain-b': {}, 'no-header': {}, traced: { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } };
  const { servers, pairChild, pairPorts, loader, window, timer } = await startHarness({
    name: 'express', script: __filename, variants: VARIANTS, headersFor, limitSeconds: 120,
  });

  for (const v of VARIANTS) await window(v, WARMUP_SECONDS);
  const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
    for (const v of order) results[v].push(await window(v, SECONDS));
  }

  // Same process, rotating windows: plain app, middleware app, instrumentApp app.
  const pair = [[], [], []];
  for (const i of [0, 1, 2]) await window('no-header', WARMUP_SECONDS, { child: pairChild, port: pairPorts[i] });
  for (let r = 0; r < PAIR_ROUNDS; r++) {
    for (let k = 0; k < 3; k++) {
      const i = (k + r) % 3;
      pair[i].push(await window('no-header', PAIR_SECONDS, { child: pairChild, port: pairPorts[i] }));
    }
  }

  for (const v of VARIANTS) servers[v].child.send('stop');
  pairChild.send('stop');
  loader.kill();

  const plainCpu = median(results.plain.map((x) => x.cpuPerReq));
  const plainRps = median(results.plain.map((x) => x.rps));
  console.log(`Express ${require('express/package.json').version}, Node ${process.version}, ${os.cpus().length} CPUs, ` +
    `${ROUNDS} rounds x ${SECONDS} s per variant, ${CONNECTIONS} keep-alive connections, load from a separate process`);
  // Paired ratios: each variant against plain measured in the same round (the machine's
  // background load drifts between rounds much more than these costs differ).
  const paired = (v, key) => median(results[v].map((x, i) => x[key] / results.plain[i][key]));
  console.log('variant      req/s  ratio*  CPU µs/req  ratio*   (CPU µs/req per round)');
  for (const v of VARIANTS) {
    const rps = median(results[v].map((x) => x.rps));
    const cpu = median(results[v].map((x) => x.cpuPerReq));
    const rounds = results[v].map((x) => x.cpuPerReq.toFixed(0)).join(' ');
    console.log(
      `${v.padEnd(10)} ${rps.toFixed(0).padStart(7)}  ${paired(v, 'rps').toFixed(3)}  ${cpu.toFixed(1).padStart(10)}  ${paired(v, 'cpuPerReq').toFixed(3)}   (${rounds})`,
    );
  }
  console.log(`* median of per-round ratios to plain (medians of the columns: req/s ${plainRps.toFixed(0)}, CPU ${plainCpu.toFixed(1)} µs for plain)`);
  const pairCpu = pair.map((xs) => median(xs.map((x) => x.cpuPerReq)));
  const pairRatio = (i) => median(pair[i].map((x, r) => x.cpuPerReq / pair[0][r].cpuPerReq));
  console.log(`one process, ${PAIR_ROUNDS} rounds of ${PAIR_SECONDS} s windows, no trace headers: plain ${pairCpu[0].toFixed(1)} µs/req; ` +
    `app.use(profiler()) ${pairCpu[1].toFixed(1)} µs/req, ratio ${pairRatio(1).toFixed(3)}; ` +
    `instrumentApp(app) ${pairCpu[2].toFixed(1)} µs/req, ratio ${pairRatio(2).toFixed(3)}`);
  const goal = pairRatio(1);
  console.log(`goal: no-header CPU per request <= 1.02 x plain (one-process comparison): ${goal.toFixed(3)} ${goal <= 1.02 ? 'met' : 'MISSED'}` +
    ` (separate processes: ${paired('no-header', 'cpuPerReq').toFixed(3)}, A/A control plain-b ${paired('plain-b', 'cpuPerReq').toFixed(3)})`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  clearTimeout(timer);
  await new Promise((r) => setTimeout(r, 300));
}

if (process.argv[2] === '--server') server(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') load(CONNECTIONS);
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
