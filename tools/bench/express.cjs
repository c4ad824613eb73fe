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
// BENCH_BASELINE=<another checkout, built> adds no-header-base and traced-base: the same
// variants with @osprofiler/core and @osprofiler/express loaded from that checkout (e.g. a
// git worktree of main), side by side with this build in the same rounds.
'use strict';
const { load, runServerBench } = require('./lib/http-bench.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 8);
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS || 14);
const PAIR_SECONDS = Number(process.env.BENCH_PAIR_SECONDS || 0.6);
const SECONDS = Number(process.env.BENCH_SECONDS || 1.2);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 1.5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const KEY = 'bench-key';
const BASELINE = process.env.BENCH_BASELINE;
const VARIANTS = ['plain', 'plain-b', 'no-header', 'traced', ...(BASELINE ? ['no-header-base', 'traced-base'] : [])];

/** This build's package, or the baseline checkout's for the …-base variants. */
function ours(variant, pkg) {
  if (!variant.endsWith('-base')) return require(pkg);
  return require(require('node:path').join(BASELINE, 'packages', pkg.replace('@osprofiler/', '')));
}

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
    const core = ours(variant, '@osprofiler/core');
    core.configure({ enabled: true, hmacKeys: [KEY], connectionString: `file://${storeDir}`, host: 'bench', service: 'bench' });
  }
  const app = express();
  if (variant.startsWith('no-header') || variant.startsWith('traced')) app.use(ours(variant, '@osprofiler/express').profiler());
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
      else ours(variant, '@osprofiler/core').flush().then(finish, finish);
      srv.closeAllConnections();
    }
  });
}

// ------------------------------------------------------------------------ orchestrator
function main() {
  return runServerBench({
    name: 'express', script: __filename, title: `Express ${require('express/package.json').version}`, pairLabels: ['app.use(profiler())', 'instrumentApp(app)'],
    variants: VARIANTS, key: KEY, limitSeconds: 120, rounds: ROUNDS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS,
    pairRoundCount: PAIR_ROUNDS, pairSeconds: PAIR_SECONDS, connections: CONNECTIONS,
  });
}

if (process.argv[2] === '--server') server(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') load(CONNECTIONS);
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
