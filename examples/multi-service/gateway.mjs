// gateway: the Express front door. Per request it reads its SQLite table through Knex,
// runs one external command, hands one job to a worker thread and calls `api` — all in
// the request's trace (@osprofiler/node/register is preloaded: exec and thread points,
// fetch carries the trace). /callback is what the Python service calls back.
import express from 'express';
import knex from 'knex';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { configure, flush } from '@osprofiler/core';
import { profiler } from '@osprofiler/express';
import { instrumentKnex } from '@osprofiler/knex';

const env = process.env;
configure({
  enabled: true,
  project: 'multi-service',
  service: 'gateway',
  hmacKeys: [env.HMAC_KEY],
  connectionString: env.AGENT_URL,
  traceDb: env.TRACE_DB === 'true',
  flushIntervalMs: 20,
});

const db = instrumentKnex(knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }));
await db.schema.createTable('prices', (t) => {
  t.integer('id').primary();
  t.integer('cents').notNullable();
});
await db('prices').insert([{ id: 7, cents: 1250 }, { id: 42, cents: 990 }]);

const run = promisify(execFile);
const jobFile = new URL('./job.mjs', import.meta.url);

/** One job on a worker thread: resolves with its answer once the thread has exited. */
function threadJob(id) {
  return new Promise((resolve, reject) => {
    let answer;
    const w = new Worker(jobFile, { workerData: { id } });
    w.once('message', (m) => (answer = m));
    w.once('error', reject);
    w.once('exit', () => resolve(answer));
  });
}

const app = express();
app.use(profiler());
app.get('/order/:id', async (req, res) => {
  const id = Number(req.params.id);
  const price = await db('prices').where({ id }).first('cents');
  const { stdout } = await run('uname', ['-s']);
  const job = await threadJob(id);
  const r = await fetch(`${env.API_URL}/orders/${id}`);
  res.status(r.status).json({ id, cents: price?.cents ?? null, os: stdout.trim(), checksum: job.checksum, api: await r.json() });
});
app.get('/callback', (req, res) => {
  res.json({ gateway: 'ok' });
});

const server = app.listen(Number(env.PORT ?? 0), '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  await flush().catch(() => undefined);
  await db.destroy();
  process.exit(0);
});
