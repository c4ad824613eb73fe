// Shared parts of the HTTP server benchmarks (express.cjs, nestjs.cjs): the keep-alive load
// process, and an orchestrator that forks one server process per variant plus a "pair"
// process, then measures windows of load as req/s and the server's CPU µs per request.
'use strict';
const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

/**
 * The load process: on each message `{port, seconds, headers, route}` it runs `connections`
 * keep-alive request loops for `seconds` (route defaults to /hello) and replies
 * `{done, errors, p50, p99}` (latencies of the successful requests, µs).
 */
function load(connections) {
  process.on('message', ({ port, seconds, headers, route = '/hello' }) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const end = Date.now() + seconds * 1000;
    const lat = [];
    let errors = 0;
    const one = () =>
      new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        const req = http.get({ host: '127.0.0.1', port, path: route, agent, headers }, (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode === 200) lat.push(Number(process.hrtime.bigint() - t0) / 1000);
            else errors++;
            resolve();
          });
        });
        req.on('error', () => {
          errors++;
          resolve();
        });
      });
    const loop = async () => {
      while (Date.now() < end) await one();
    };
    Promise.all(Array.from({ length: connections }, loop)).then(() => {
      agent.destroy();
      lat.sort((a, b) => a - b);
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
      process.send({ done: lat.length, errors, p50: q(0.5), p99: q(0.99) });
    });
  });
}

/** Sends `msg` (if any) to `child` and resolves with its first reply that has `key`. */
function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && m[key] !== undefined) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (msg !== undefined) child.send(msg);
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Forks `script --server <variant> <store dir>` for each variant and for 'pair', and
 * `script --load`; kills them all (by handle) and removes the temp dir on exit, and stops
 * the whole run after `limitSeconds`. `window(v, seconds)` loads one server and measures it.
 */
async function startHarness({ name, script, variants, headersFor, limitSeconds }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `osp-bench-${name}-`));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const timer = setTimeout(() => {
    console.error(`${name} bench: over ${limitSeconds} s, stopping`);
    process.exit(1);
  }, limitSeconds * 1000);

  const servers = {};
  for (const v of variants) {
    const prof = process.env.BENCH_CPU_PROF;
    const execArgv = prof ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(prof), '--cpu-prof-name', `${name}-${v}.cpuprofile`] : [];
    const c = fork(script, ['--server', v, path.join(dir, v)], { stdio: 'inherit', execArgv });
    children.push(c);
    servers[v] = { child: c, port: (await ask(c, undefined, 'port')).port };
  }
  const pairChild = fork(script, ['--server', 'pair', path.join(dir, 'pair')], { stdio: 'inherit' });
  children.push(pairChild);
  const pairPorts = (await ask(pairChild, undefined, 'port')).port;
  const loader = fork(script, ['--load'], { stdio: 'inherit' });
  children.push(loader);

  async function window(v, seconds, s = servers[v]) {
    const before = (await ask(s.child, 'cpu', 'cpu')).cpu;
    const t0 = process.hrtime.bigint();
    const r = await ask(loader, { port: s.port, seconds, headers: headersFor[v] }, 'done');
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = (await ask(s.child, 'cpu', 'cpu')).cpu;
    if (r.errors > 0) throw new Error(`${v}: ${r.errors} failed requests`);
    return { rps: r.done / elapsed, cpuPerReq: (after - before) / r.done };
  }

  return { servers, pairChild, pairPorts, loader, window, timer };
}

/** Warms each variant up, then `rounds` rounds of one window per variant, rotating the order. */
async function rotatingRounds(window, variants, { rounds, seconds, warmupSeconds }) {
  for (const v of variants) await window(v, warmupSeconds);
  const results = Object.fromEntries(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) results[v].push(await window(v, seconds));
  }
  return results;
}

/** The apps of the 'pair' process (one per port), untraced, in rotating short windows. */
async function pairRounds(window, pairChild, pairPorts, { rounds, seconds, warmupSeconds }) {
  const n = pairPorts.length;
  const pair = pairPorts.map(() => []);
  for (let i = 0; i < n; i++) await window('no-header', warmupSeconds, { child: pairChild, port: pairPorts[i] });
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < n; k++) {
      const i = (k + r) % n;
      pair[i].push(await window('no-header', seconds, { child: pairChild, port: pairPorts[i] }));
    }
  }
  return pair;
}

/**
 * Prints req/s and CPU µs per request per variant, with the median of per-round ratios to
 * `plain` (the machine's background load drifts between rounds much more than these costs
 * differ); returns that paired-ratio function.
 */
function printVariants(results, variants) {
  const plainCpu = median(results.plain.map((x) => x.cpuPerReq));
  const plainRps = median(results.plain.map((x) => x.rps));
  const paired = (v, key) => median(results[v].map((x, i) => x[key] / results.plain[i][key]));
  console.log('variant           req/s  ratio*  CPU µs/req  ratio*   (CPU µs/req per round)');
  for (const v of variants) {
    const rps = median(results[v].map((x) => x.rps));
    const cpu = median(results[v].map((x) => x.cpuPerReq));
    const rounds = results[v].map((x) => x.cpuPerReq.toFixed(0)).join(' ');
    console.log(
      `${v.padEnd(15)} ${rps.toFixed(0).padStart(7)}  ${paired(v, 'rps').toFixed(3)}  ${cpu.toFixed(1).padStart(10)}  ${paired(v, 'cpuPerReq').toFixed(3)}   (${rounds})`,
    );
  }
  console.log(`* median of per-round ratios to plain (medians of the columns: req/s ${plainRps.toFixed(0)}, CPU ${plainCpu.toFixed(1)} µs for plain)`);
  return paired;
}

/**
 * The whole orchestrator of express.cjs and nestjs.cjs: rotating rounds over `variants`
 * (plain, plain-b, no-header, traced), then the one-process pair comparison; prints the
 * table, the pair line (`pairLabels` name the pair apps after plain) and the goal line.
 */
async function runServerBench({ name, script, title, pairLabels, variants, key, limitSeconds, rounds, seconds, warmupSeconds, pairRoundCount, pairSeconds, connections }) {
  const started = Date.now();
  const { signedPack } = require('@osprofiler/core');
  const base = require('node:crypto').randomUUID();
  const { info, hmac } = signedPack({ base_id: base, parent_id: base }, key);
  // Every variant named traced… carries the signed header (traced-base: the baseline build).
  const headersFor = Object.fromEntries(variants.map((v) => [v, v.startsWith('traced') ? { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } : {}]));
  const { servers, pairChild, pairPorts, loader, window, timer } = await startHarness({ name, script, variants, headersFor, limitSeconds });

  const results = await rotatingRounds(window, variants, { rounds, seconds, warmupSeconds });
  const pair = await pairRounds(window, pairChild, pairPorts, { rounds: pairRoundCount, seconds: pairSeconds, warmupSeconds });

  for (const v of variants) servers[v].child.send('stop');
  pairChild.send('stop');
  loader.kill();

  console.log(`${title}, Node ${process.version}, ${os.cpus().length} CPUs, ` +
    `${rounds} rounds x ${seconds} s per variant, ${connections} keep-alive connections, load from a separate process`);
  const paired = printVariants(results, variants);
  const pairCpu = pair.map((xs) => median(xs.map((x) => x.cpuPerReq)));
  const pairRatio = (i) => median(pair[i].map((x, r) => x.cpuPerReq / pair[0][r].cpuPerReq));
  console.log(`one process, ${pairRoundCount} rounds of ${pairSeconds} s windows, no trace headers: plain ${pairCpu[0].toFixed(1)} µs/req; ` +
    pairLabels.map((label, i) => `${label} ${pairCpu[i + 1].toFixed(1)} µs/req, ratio ${pairRatio(i + 1).toFixed(3)}`).join('; '));
  const goal = pairRatio(1);
  console.log(`goal: no-header CPU per request <= 1.02 x plain (one-process comparison): ${goal.toFixed(3)} ${goal <= 1.02 ? 'met' : 'MISSED'}` +
    ` (separate processes: ${paired('no-header', 'cpuPerReq').toFixed(3)}, A/A control plain-b ${paired('plain-b', 'cpuPerReq').toFixed(3)})`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  clearTimeout(timer);
  await new Promise((r) => setTimeout(r, 300));
}

module.exports = { load, ask, median, startHarness, rotatingRounds, pairRounds, printVariants, runServerBench };
