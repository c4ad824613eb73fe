// Cost of an outgoing request through @osprofiler/node (`npm run bench`), as client CPU µs
// per request (process.cpuUsage: the stable figure on these noisy machines) and ratios to
// the plain request. Modes are alternated round by round in one process, against a local
// keep-alive server in its own process (so its CPU is not counted):
//   plain          not instrumented at all
//   untraced       instrumented, request made outside any trace (the common case)
//   traced, no rpc inside a trace with traceRequests off: signed headers of the current point
//   traced + rpc   inside a trace: an rpc point (start+stop) and that point's signed headers
// Points go to the default file:// backend (a temp dir): the deferred write is counted.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const core = require('@osprofiler/core');
const osp = require('@osprofiler/node');

const N = Number(process.env.BENCH_N || 2000); // requests per mode per round
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const CONCURRENCY = 8;
const DEADLINE = Date.now() + 55_000; // the whole run stays under a minute

const SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;

function startServer() {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    child.stdout.once('data', (b) => resolve({ port: Number(String(b).trim()), stop: () => child.stdin.end() }));
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let agent;
function oneHttp(port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/bench', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}
async function oneFetch(port) {
  const res = await fetch(`http://127.0.0.1:${port}/bench`);
  await res.arrayBuffer();
}

/** n requests, CONCURRENCY in flight; each worker runs in `wrap` (a trace or not). */
async function batch(n, call, wrap) {
  let left = n;
  const worker = async () => {
    while (left > 0) {
      left--;
      await call();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => wrap(worker)));
}

const outside = (fn) => fn();
const inTrace = (fn) => core.run({ hmacKey: 'K' }, () => core.traced('bench', fn));

const MODES = [
  { name: 'plain', setup: () => osp.uninstrumentHttpClient(), wrap: outside },
  { name: 'untraced', setup: () => osp.instrumentHttpClient({ traceRequests: true }), wrap: outside },
  { name: 'traced, no rpc', setup: () => osp.instrumentHttpClient({ traceRequests: false }), wrap: inTrace },
  { name: 'traced + rpc', setup: () => osp.instrumentHttpClient({ traceRequests: true }), wrap: inTrace },
];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osp-bench-http-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  core.configure({ connectionString: `file://${dir}`, hmacKeys: ['K'], host: 'bench' });
  const server = await startServer();
  agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const clients = [
    ['http.request', () => oneHttp(server.port)],
    ['fetch', () => oneFetch(server.port)],
  ];
  // As in a service: tracing has happened, so promise hooks are on for every mode.
  await inTrace(async () => null);
  const results = {};
  let rounds = 0;
  for (const [client, call] of clients) {
    for (const m of MODES) {
      m.setup();
      await batch(Math.min(N, 500), call, m.wrap); // warm-up
    }
    results[client] = Object.fromEntries(MODES.map((m) => [m.name, { cpu: [], wall: [] }]));
  }
  for (let r = 0; r < ROUNDS && Date.now() < DEADLINE; r++) {
    for (const [client, call] of clients) {
      // Rotate the order each round so no mode always follows the same one.
      for (let i = 0; i < MODES.length; i++) {
        const m = MODES[(i + r) % MODES.length];
        m.setup();
        await core.flush(10_000);
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await batch(N, call, m.wrap);
        await core.flush(10_000); // the deferred write of this mode's points, counted
        const c = process.cpuUsage(c0);
        results[client][m.name].cpu.push((c.user + c.system) / N);
        results[client][m.name].wall.push(Number(process.hrtime.bigint() - t0) / 1e3 / N);
      }
    }
    rounds++;
  }
  osp.uninstrumentHttpClient();
  agent.destroy();
  server.stop();
  console.log(`@osprofiler/node client — node ${process.version}, ${N} requests per mode per round, ${rounds} rounds alternated,`);
  console.log(`${CONCURRENCY} in flight, keep-alive local server in its own process; median client CPU µs per request`);
  for (const [client] of clients) {
    const plain = median(results[client].plain.cpu);
    console.log(`  ${client}`);
    for (const m of MODES) {
      const cpu = median(results[client][m.name].cpu);
      const rps = 1e6 / median(results[client][m.name].wall);
      console.log(`    ${m.name.padEnd(16)} ${cpu.toFixed(1).padStart(7)} µs CPU  ${(cpu / plain).toFixed(3)}x plain   ${rps.toFixed(0).padStart(6)} req/s`);
    }
  }
  await core.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
