/**
 * Requests signed by the real Python OSProfiler (/usr/bin/python3, python3-osprofiler):
 * a Nest route, on Express and on Fastify, continues the trace under the parent Python sent,
 * with either of two rotated keys. Fails (never skips) when Python OSProfiler is missing.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MemoryDriver, shutdown } from '@osprofiler/core';
import { requirePythonOsprofiler, runPeerBatch } from '../../core/test/support/python-peer';
import { ProfilerModule } from '../src/index';
import { events, request, waitFor } from './support';

const STORE = 'nest-python-signed';
const store = new MemoryDriver({}, STORE);

@Controller('v2/servers')
class ServersController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }
}

@Module({
  imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: ['py-key', 'SECRET_KEY'], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })],
  controllers: [ServersController],
})
class AppModule {}

beforeAll(() => {
  requirePythonOsprofiler();
});
afterAll(async () => {
  await shutdown();
});

describe.each(['express', 'fastify'] as const)('%s: headers signed by Python OSProfiler', (platform) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = platform === 'express' ? await NestFactory.create(AppModule, { logger: false }) : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => app?.close());

  it('trigger tracing, continuing the base id under the parent Python sent (both keys of a rotation)', async () => {
    const reqs = ['py-key', 'SECRET_KEY'].map((key) => ({ key, base_id: randomUUID(), parent_id: randomUUID() }));
    const headers = runPeerBatch<Record<string, string>>('headers-batch', reqs);
    for (let i = 0; i < reqs.length; i++) {
      const r = await request(`${url}/v2/servers/42?limit=1`, { headers: headers[i] });
      expect(r.status).toBe(200);
    }
    for (const q of reqs) {
      await waitFor(async () => (await events(store, q.base_id)).length === 2);
      const [start, stop] = await events(store, q.base_id);
      expect(start).toMatchObject({ name: 'wsgi-start', base_id: q.base_id, parent_id: q.parent_id });
      expect(start.info.request).toEqual({ path: '/v2/servers/42', query: 'limit=1', method: 'GET', scheme: 'http' });
      expect(stop.info).toMatchObject({
        response: { status_code: 200 },
        request: { route: '/v2/servers/:id' },
        nest: { controller: 'ServersController', handler: 'get' },
      });
    }
  });
});
