// `npm start`: starts the two services (orders → inventory) on 127.0.0.1, sends
// requests signed with the HMAC key (as a Python OpenStack client would with --profile),
// all in one trace: GET /orders/42 (orders → inventory, which reads its table), then
// POST /items and GET /items on inventory. Waits for the points, prints the trace tree
// with `osprofiler trace show`, stops both services. `--check` (npm test) also asserts
// the tree: both services, `db` points under inventory's `wsgi` points, `sql` points
// under them when OSPROFILER_TRACE_DB=true, PostgreSQL when DATABASE_URL is set (the
// run's table is then dropped at the end).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
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

const pg = process.env.DATABASE_URL;
// PostgreSQL is shared: one table per run, dropped by inventory when it stops.
const table = pg ? `items_${randomBytes(6).toString('hex')}` : 'items';
const traceDb = getConfig().traceDb;

let code = 1;
try {
  const inventory = await startService('inventory', { ITEMS_TABLE: table });
  const orders = await startService('orders', { INVENTORY_URL: inventory });

  const baseId = randomUUID();
  const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, 'SECRET_KEY');
  const headers = { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac };
  const res = await fetch(`${orders}/orders/42`, { headers });
  const order = await res.text();
  console.log(`GET ${orders}/orders/42 -> ${res.status} ${order}`);
  const sku = `sku-${randomBytes(3).toString('hex')}`;
  const created = await fetch(`${inventory}/items`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sku, count: 5 }),
  });
  const item = await created.text();
  console.log(`POST ${inventory}/items -> ${created.status} ${item}`);
  const listed = await fetch(`${inventory}/items`, { headers });
  const items = await listed.text();
  console.log(`GET ${inventory}/items -> ${listed.status} ${items}`);

  // Points are written in batches by each service: wait (bounded) until all have arrived.
  const connection = getConfig().connectionString;
  const driver = await createDriver(connection, {});
  let report;
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    report = await driver.getReport(baseId);
    const s = report.stats;
    const sqlOk = traceDb ? s.sql?.count === 3 : s.sql === undefined;
    if (s.wsgi?.count === 4 && s.rpc?.count === 1 && s.driver?.count === 2 && s.db?.count === 3 && sqlOk
      && !JSON.stringify(report).includes('"finished": null')) break;
  }
  await driver.close();
  await stopAll();
  let tableLeft = false;
  if (pg) {
    const { default: knex } = await import('knex');
    const db = knex({ client: 'pg', connection: pg, pool: { min: 0, max: 1 } });
    tableLeft = await db.schema.hasTable(table);
    await db.destroy();
  }

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
    const want = ['wsgi@orders', 'rpc@orders', 'driver@orders', 'wsgi@inventory', 'driver@inventory', 'db@inventory'];
    if (traceDb) want.push('sql@inventory');
    const failures = want.filter((w) => !services.has(w)).map((w) => `no ${w} point`);
    const ordersWsgi = report.children.find((c) => c.info.service === 'orders');
    const rpc = ordersWsgi?.children.find((c) => c.info.name === 'rpc');
    if (rpc?.children[0]?.info.service !== 'inventory') failures.push("inventory's wsgi is not under orders' rpc");
    // Every db point hangs directly under an inventory wsgi point, one per operation:
    // first (GET /stock), insert (POST /items), select (GET /items); with trace_db each
    // has exactly one sql point under it, on the expected database system.
    const dbPoints = [];
    const collect = (n, parent) => {
      for (const c of n.children) {
        if (c.info.name === 'db') dbPoints.push([c, parent]);
        collect(c, c);
      }
    };
    collect(report, null);
    const system = pg ? 'postgresql' : 'sqlite';
    const methods = dbPoints.map(([c]) => c.info['meta.raw_payload.db-start']?.info?.function?.name).sort();
    if (methods.join() !== 'knex.first,knex.insert,knex.select') failures.push(`db points: ${methods.join()}`);
    for (const [c, parent] of dbPoints) {
      const start = c.info['meta.raw_payload.db-start']?.info ?? {};
      if (parent?.info.name !== 'wsgi' || parent.info.service !== 'inventory') failures.push('a db point is not under inventory wsgi');
      if (start.db?.system !== system || start.db?.table !== table) failures.push(`db point on ${start.db?.system}/${start.db?.table}`);
      const sql = c.children.filter((k) => k.info.name === 'sql');
      if (sql.length !== (traceDb ? 1 : 0)) failures.push(`${sql.length} sql points under ${start.function?.name}`);
    }
    if (created.status !== 201 || !items.includes(`"${sku}"`) || !order.includes('"stock":6')) failures.push('routes answered wrong');
    if (tableLeft) failures.push(`table ${table} was not dropped`);
    console.log(failures.length === 0
      ? `check: ok (${system}, trace_db ${traceDb ? 'on' : 'off'})`
      : `check: FAILED: ${failures.join('; ')} (saw ${[...services].join(', ')})`);
    if (failures.length > 0) code = 1;
  }
} catch (err) {
  console.error(err);
  code = 1;
} finally {
  await stopAll();
}
process.exitCode = code;
