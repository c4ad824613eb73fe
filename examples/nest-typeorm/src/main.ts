// `npm start`: starts the app (REST on 127.0.0.1, the stock microservice on NATS, TypeORM on
// SQLite in memory, or PostgreSQL with DATABASE_URL), sends one request signed with the
// HMAC key (as a Python OpenStack client would with --profile SECRET_KEY), waits for the
// points, prints the trace tree with `osprofiler trace show`, and stops.
// `--check` (npm test) also asserts the tree's shape.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { main as osprofiler } from '@osprofiler/cli';
import { createDriver, defaultStateDir, flush, getConfig, signedPack, type Report, type ReportNode } from '@osprofiler/core';
import { DataSource } from 'typeorm';
import { AppModule, NATS_URL } from './app.module';
import { ORDERS_TABLE } from './names';

function names(node: Report | ReportNode, depth = 0, out: string[] = []): string[] {
  for (const c of node.children) {
    out.push(`${'  '.repeat(depth)}${c.info.name}`);
    names(c, depth + 1, out);
  }
  return out;
}

async function run(): Promise<number> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.connectMicroservice<MicroserviceOptions>({ transport: Transport.NATS, options: { servers: [NATS_URL] } });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  let report: Report | undefined;
  const baseId = randomUUID();
  try {
    const { info, hmac } = signedPack({ base_id: baseId, parent_id: baseId }, 'SECRET_KEY');
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Trace-Info': info, 'X-Trace-HMAC': hmac },
      body: JSON.stringify({ item: 'kettle', quantity: 2 }),
    });
    console.log(`POST ${url}/orders -> ${res.status} ${await res.text()}`);
    // Points are written in batches: wait (bounded) until all have arrived.
    await flush();
    const driver = await createDriver(getConfig().connectionString, {});
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      await flush();
      report = await driver.getReport(baseId);
      const s = report.stats as Record<string, { count: number } | undefined>;
      if (s.wsgi?.count === 1 && s.rpc?.count === 2 && s.driver?.count === 1 && (s.db?.count ?? 0) >= 1 && !JSON.stringify(report).includes('"finished": null')) break;
    }
    await driver.close();
  } finally {
    // A check given a table of its own (npm test, on the shared PostgreSQL) drops it.
    if (process.argv.includes('--check') && process.env.ORDERS_TABLE !== undefined) {
      await app.get(DataSource).query(`DROP TABLE IF EXISTS "${ORDERS_TABLE}"`);
    }
    await app.close();
  }
  const connection = getConfig().connectionString;
  const where = connection === 'file://' ? `file:// (${defaultStateDir()})` : connection;
  console.log(`\nTrace ID: ${baseId} (stored in ${where}; database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'})\n`);
  let code = await osprofiler(['node', 'osprofiler', 'trace', 'show', baseId]);
  if (process.argv.includes('--check')) {
    const tree = report === undefined ? [] : names(report);
    const want = ['wsgi', '  rpc', '    rpc', '      driver', '  db'];
    const ok = want.every((w) => tree.includes(w)) && tree.includes('    sql');
    console.log(ok ? 'check: ok' : `check: FAILED, tree:\n${tree.join('\n')}`);
    if (!ok) code = 1;
  }
  return code;
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
