// An app of a user's own, ESM, explicit API: configure(), the Express middleware, a traced
// block in the handler. It sends itself one signed request, prints what it saw, and exits.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { configure, flush, shutdown, signedPack, traced } from '@osprofiler/core';
import { profiler } from '@osprofiler/express';

const KEY = process.env.APP_KEY;
configure({ enabled: true, service: 'pack-esm', hmacKeys: [KEY], connectionString: process.env.APP_STORE, flushIntervalMs: 10 });

const app = express();
app.use(profiler());
app.get('/orders/:id', async (req, res) => {
  const total = await traced('db', { db: { statement: 'SELECT total FROM orders WHERE id = ?' } }, async () => 42);
  res.json({ id: req.params.id, total });
});
const server = await new Promise((ok) => {
  const s = app.listen(0, '127.0.0.1', () => ok(s));
});

const baseId = randomUUID();
const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, KEY);
const res = await fetch(`http://127.0.0.1:${server.address().port}/orders/7`, { headers: { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } });
const body = await res.json();
server.close();
await flush();
await shutdown();
console.log(JSON.stringify({ baseId, status: res.status, body }));
