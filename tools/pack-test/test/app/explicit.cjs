// The same app as explicit.mjs, CommonJS.
'use strict';
const { randomUUID } = require('node:crypto');
const express = require('express');
const { configure, flush, shutdown, signedPack, traced } = require('@osprofiler/core');
const { profiler } = require('@osprofiler/express');

async function main() {
  const KEY = process.env.APP_KEY;
  configure({ enabled: true, service: 'pack-cjs', hmacKeys: [KEY], connectionString: process.env.APP_STORE, flushIntervalMs: 10 });

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
}
main();
