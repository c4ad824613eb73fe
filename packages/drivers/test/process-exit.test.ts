/**
 * A process that used a driver exits by itself once it has nothing else to do, with its
 * points stored (core's beforeExit flush), for every network driver; each in its own
 * Node process against the real server.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import amqp from 'amqplib';
import { createDriver } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/register';
import { RabbitVhost } from './support/rabbitmq';
import { RedisFixture } from './support/redis';
import { mysqlAccess, MYSQL_URL, postgresAccess, POSTGRES_URL, uniquePrefix } from './support/sql';

const APP = path.join(__dirname, 'fixtures/exit-app.cjs');

function runApp(cs: string): { status: number | null; signal: string | null; ms: number; baseId: string; stderr: string } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [APP, cs], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, ms: Date.now() - t0, baseId: (r.stdout ?? '').trim(), stderr: r.stderr ?? '' };
}

describe('a traced script exits by itself with its points stored', () => {
  const redis = new RedisFixture();
  const prefix = uniquePrefix();
  beforeAll(() => redis.start());
  afterAll(async () => {
    await redis.close();
    for (const access of [postgresAccess(), mysqlAccess()]) {
      await access.dropTables(prefix);
      await access.close();
    }
  });

  it.each([
    ['redis', () => redis.url()],
    ['postgresql', () => `${POSTGRES_URL}?table_prefix=${prefix}`],
    ['mysql', () => `${MYSQL_URL}?table_prefix=${prefix}`],
  ])('%s', async (scheme, connectionString) => {
    const cs = connectionString();
    const r = runApp(cs);
    expect(r.signal, `killed after ${r.ms} ms: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    if (scheme === 'redis') redis.track(r.baseId);
    const reader = await createDriver(cs);
    try {
      const report = await reader.getReport(r.baseId);
      expect(report.children.map((c) => c.info.name)).toEqual(['wsgi']);
      expect(report.children[0].info.service).toBe('exit-app');
    } finally {
      await reader.close();
    }
  });

  it('redis: an awaited close() completes in a process with nothing else to do', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures/close-app.cjs'), redis.url()], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('closed');
  });

  it('amqp', async () => {
    const vhost = new RabbitVhost().create();
    try {
      const conn = await amqp.connect(vhost.amqpUrl());
      const ch = await conn.createChannel();
      await ch.assertExchange('openstack', 'topic', { durable: false, autoDelete: false });
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, 'openstack', 'profiler.info');
      const r = runApp(vhost.amqpUrl());
      expect(r.signal, `killed after ${r.ms} ms: ${r.stderr}`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      const names: string[] = [];
      for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) {
        names.push((JSON.parse(m.content.toString()) as { payload: { name: string; base_id: string } }).payload.name);
      }
      expect(names).toEqual(['wsgi-start', 'wsgi-stop']);
      await conn.close();
    } finally {
      vhost.delete();
    }
  });
});
