// `npm start`: starts the two services (orders → inventory) on 127.0.0.1, sends one
// request signed with the HMAC key (as a Python OpenStack client would with --profile),
// waits for the points, prints the trace tree with `osprofiler trace show`, stops both
// services. `--check` (npm test) also asserts the tree holds both services.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createDriver, defaultStateDir, getConfig, signedPack } from '@osprofiler/core';
import { main as osprofiler } from '@osprofiler/cli';

const here = fileURLToPath(new URL('.', import.meta.url));
const children = [];

function startService(service, env = {}) {
  const child = spawn(process.execPath, [`${here}services.mjs`], {
    env: { ...process.env, SERVICE: service, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${service} did not start`)), 15_000);
    child.stdout.setEncoding('utf8').on('data', (s) => {
      out += s;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`${service} exited (${code})`)));
  });
}

function stopAll() {
  return Promise.all(
    children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 3000).unref();
    }))),
  );
}

let code = 1;
try {
  const inventory = await startService('inventory');
  const orders = await startService('orders', { INVENTORY_URL: inventory });

  const baseId = randomUUID();
  const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, 'SECRET_KEY');
  const res = await fetch(`${orders}/orders/42`, { headers: { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } });
  console.log(`GET ${orders}/orders/42 -> ${res.status} ${await res.text()}`);

  // Points are written in batches by each service: wait (bounded) until all have arrived.
  const connection = getConfig().connectionString;
  const driver = await createDriver(connection, {});
  let report;
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    report = await driver.getReport(baseId);
    const s = report.stats;
    if (s.wsgi?.count === 2 && s.rpc?.count === 1 && s.driver?.count === 2 && !JSON.stringify(report).includes('"finished": null')) break;
  }
  await driver.close();
  await stopAll();

  const where = connection === 'file://' ? `file:// (${defaultStateDir()})` : connection;
  console.log(`\nTrace ID: ${baseId} (stored in ${where})\n`);
  code = await osprofiler(['node', 'osprofiler', 'trace', 'show', baseId]);

  if (process.argv.includes('--check')) {
    const services = new Set();
    const walk = (n) => {
      for (const c of n.children) {
        services.add(`${c.info.name}@${c.info.service}`);
        walk(c);
      }
    };
    walk(report);
    const want = ['wsgi@orders', 'rpc@orders', 'driver@orders', 'wsgi@inventory', 'driver@inventory'];
    const rpc = report.children[0]?.children.find((c) => c.info.name === 'rpc');
    const ok = want.every((w) => services.has(w)) && rpc?.children[0]?.info.service === 'inventory';
    console.log(ok ? 'check: ok' : `check: FAILED, saw ${[...services].join(', ')}`);
    if (!ok) code = 1;
  }
} catch (err) {
  console.error(err);
  code = 1;
} finally {
  await stopAll();
}
process.exitCode = code;
