// Shared parts of the HTTP server benchmarks (express.cjs, nestjs.cjs): the keep-alive load
// process, and an orchestrator that forks one server process per variant plus a "pair"
// process, then measures windows of load as req/s and the server's CPU µs per request.
'use strict';
const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

/** The load process: on each message, `connections` keep-alive loops GET `/hello` for `seconds`. */
function load(connections) {
  process.on('message', ({ port, seconds, headers }) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const end = Date.now() + seconds * 1000;
    let done = 0;
    let errors = 0;
    const one = () =>
      new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/hello', agent, headers }, (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode === 200) done++;
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
      process.send({ done, errors });
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

module.exports = { load, ask, median, startHarness };
