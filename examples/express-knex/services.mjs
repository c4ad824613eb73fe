// One of the example's two services, run as its own process (SERVICE=orders|inventory).
// Each is an ordinary Express app with the profiler middleware first; outgoing fetch
// calls carry the trace on (@osprofiler/node). Points go to the embedded file://
// backend unless OSPROFILER_CONNECTION_STRING says otherwise. Inventory keeps its items
// in a Knex table (SQLite in memory, or PostgreSQL when DATABASE_URL is set) traced by
// @osprofiler/knex: a `db` point per operation, `sql` points with OSPROFILER_TRACE_DB=true.
import express from 'express';
import knex from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { configure, flush, traced } from '@osprofiler/core';
import { profiler } from '@osprofiler/express';
import { instrumentKnex } from '@osprofiler/knex';
import { instrumentHttpClient } from '@osprofiler/node';

const service = process.env.SERVICE;
configure({ enabled: true, project: 'express-knex', service, hmacKeys: ['SECRET_KEY'] });
instrumentHttpClient();

const app = express();
app.use(profiler());
app.use(express.json());

const table = process.env.ITEMS_TABLE ?? 'items';
let db;
if (service === 'inventory') {
  // Service B: its items live in a table created at start-up (before any request, so
  // outside any trace). PostgreSQL when DATABASE_URL is set, else SQLite in memory.
  db = instrumentKnex(
    process.env.DATABASE_URL
      ? knex({ client: 'pg', connection: process.env.DATABASE_URL, pool: { min: 0, max: 2 } })
      : knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }),
  );
  await db.schema.createTable(table, (t) => {
    t.increments('id');
    t.string('sku').notNullable().unique();
    t.integer('count').notNullable();
  });
  await db(table).insert([{ sku: 'sku-7', count: 3 }, { sku: 'sku-42', count: 6 }]);

  app.get('/items', async (req, res) => {
    res.json(await db(table).select('sku', 'count').orderBy('id'));
  });
  app.post('/items', async (req, res) => {
    const { sku, count } = req.body ?? {};
    if (typeof sku !== 'string' || !Number.isInteger(count)) {
      res.status(400).json({ error: 'want {"sku": string, "count": integer}' });
      return;
    }
    const [item] = await db(table).insert({ sku, count }).returning(['id', 'sku', 'count']);
    res.status(201).json(item);
  });
  app.get('/stock/:sku', async (req, res) => {
    const item = await db(table).where({ sku: req.params.sku }).first('count');
    const count = await traced('driver', { function: { name: 'inventory.lookup' } }, async () => {
      await sleep(5);
      return item?.count ?? 0;
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
  server.close(async () => {
    if (db) {
      // The PostgreSQL table is per run: drop it (SQLite in memory goes with the process).
      if (process.env.DATABASE_URL) await db.schema.dropTableIfExists(table);
      await db.destroy();
    }
    process.exit(0);
  });
  server.closeAllConnections();
});
