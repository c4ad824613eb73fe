// The compared app (Express 5 + Knex on SQLite), the same code for every variant; a
// variant differs only in what `run.cjs` preloads (nothing, OSProfiler.js automatic mode,
// OpenTelemetry, dd-trace). The preload sets globalThis.__bench = {traced, flush}: the
// tracer's own API for the app's nested function calls, and a flush for the counts.
//   /hello   one response, no work
//   /db      three Knex queries on an in-memory SQLite table
//   /chain   one outgoing HTTP call (to this server's /hello)
//   /nested  five nested traced function calls
// Listens on 127.0.0.1:BENCH_PORT (0: any) and sends {port} over IPC when forked; IPC
// 'flush' → {flushed, served, client} (client: the agent:// client's sampled state since
// 'sample' → {sampling}, with BENCH_CLIENT_STATE=1); without IPC (callgrind mode) it prints
// "listening <port>".
'use strict';
const http = require('node:http');
const express = require('express');
const knex = require('knex');

const bench = globalThis.__bench ?? { traced: (_name, fn) => fn(), flush: async () => {} };
// BENCH_SQLITE_BINDING: the addon built for another Node release (lib/node-under-test.cjs).
const sqliteOptions = process.env.BENCH_SQLITE_BINDING ? { nativeBinding: process.env.BENCH_SQLITE_BINDING } : undefined;
const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:', options: sqliteOptions }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
const upstream = new http.Agent({ keepAlive: true, maxSockets: 64 });

// Requests answered per route, counted in the handlers (no extra listener or layer): the
// denominator of "exported per request" (wrk does not count what is in flight at its end).
const served = { hello: 0, db: 0, chain: 0, nested: 0 };

function nested(k) {
  return k === 0 ? 0 : bench.traced(`f${k}`, () => nested(k - 1) + 1);
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: upstream }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function main() {
  await db.schema.createTable('items', (t) => {
    t.increments('id');
    t.string('name');
    t.integer('qty');
  });
  await db('items').insert(Array.from({ length: 100 }, (_, i) => ({ name: `item${i}`, qty: i % 7 })));

  const app = express();
  let port = 0;
  app.get('/hello', (req, res) => {
    served.hello++;
    res.send('hello');
  });
  app.get('/db', async (req, res, next) => {
    try {
      served.db++;
      const id = 1 + (Math.floor(Math.random() * 100) | 0);
      const item = await db('items').where({ id }).first();
      const [{ n }] = await db('items').where('qty', item.qty).count({ n: '*' });
      const few = await db('items').select('id', 'name').where('qty', '>', 3).orderBy('id').limit(5);
      res.json({ item: item.name, n, few: few.length });
    } catch (err) {
      next(err);
    }
  });
  app.get('/chain', async (req, res, next) => {
    try {
      served.chain++;
      res.send(`chain ${await get(port, '/hello')}`);
    } catch (err) {
      next(err);
    }
  });
  app.get('/nested', (req, res) => {
    served.nested++;
    res.send(`nested ${nested(5)}`);
  });

  const server = app.listen(Number(process.env.BENCH_PORT || 0), '127.0.0.1', () => {
    port = server.address().port;
    if (process.send) process.send({ port });
    else console.log(`listening ${port}`);
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (m) => {
    if (m === 'sample') {
      bench.sampleClient?.();
      process.send({ sampling: bench.sampleClient !== undefined });
    } else if (m === 'flush') {
      const client = bench.clientSamples?.();
      const done = () => process.send({ flushed: true, served, client, discarded: globalThis.__benchDiscarded?.() });
      Promise.resolve(bench.flush()).then(done, done);
    } else if (m === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
