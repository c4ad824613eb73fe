// One of the example's two services, run as its own process (SERVICE=orders|inventory).
// Each is an ordinary Express app with the profiler middleware first; outgoing fetch
// calls carry the trace on (@osprofiler/node). Points go to the embedded file://
// backend unless OSPROFILER_CONNECTION_STRING says otherwise.
import express from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { configure, flush, traced } from '@osprofiler/core';
import { profiler } from '@osprofiler/express';
import { instrumentHttpClient } from '@osprofiler/node';

const service = process.env.SERVICE;
configure({ enabled: true, project: 'express-knex', service, hmacKeys: ['SECRET_KEY'] });
instrumentHttpClient();

const app = express();
app.use(profiler());

if (service === 'inventory') {
  // Service B. (Database routes come with the Knex adapter; see README.)
  app.get('/stock/:sku', async (req, res) => {
    const count = await traced('driver', { function: { name: 'inventory.lookup' } }, async () => {
      await sleep(5);
      return req.params.sku.length * 3;
    });
    res.json({ sku: req.params.sku, count });
  });
} else {
  // Service A: calls B with fetch.
  const inventory = process.env.INVENTORY_URL;
  app.get('/orders/:id', async (req, res) => {
    const stock = await (await fetch(`${inventory}/stock/sku-${req.params.id}`)).json();
    const total = await traced('driver', { function: { name: 'orders.price' } }, async () => {
      await sleep(2);
      return stock.count * 10;
    });
    res.json({ order: req.params.id, stock: stock.count, total });
  });
}

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
process.on('SIGTERM', async () => {
  await flush();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
