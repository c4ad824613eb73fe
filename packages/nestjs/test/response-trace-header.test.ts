/**
 * issue 16: with `responseTraceHeader` on, a traced Nest response names its base_id (so the
 * caller can find the trace); untraced responses are unchanged.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MemoryDriver, shutdown } from '@osprofiler/core';
import { ProfilerModule } from '../src/index';
import { comparable, events, request, signed } from './support';

const KEY = 'NEST_HDR_KEY';
const STORE = 'nest-response-header';
const store = new MemoryDriver({}, STORE);
afterAll(() => shutdown());

@Controller()
class WorkController {
  @Get('work')
  work() {
    return 'done';
  }
}

describe.each(['express', 'fastify'] as const)('responseTraceHeader in a Nest app on %s', (platform) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    @Module({
      imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, responseTraceHeader: 'X-Trace-Id' })],
      controllers: [WorkController],
    })
    class AppModule {}
    app = platform === 'express' ? await NestFactory.create(AppModule, { logger: false }) : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a traced response names its base_id, and that trace is stored', async () => {
    const base = randomUUID();
    const r = await request(`${url}/work`, { headers: signed(KEY, base, randomUUID()) });
    expect(r.body.toString()).toBe('done');
    expect(r.headers['x-trace-id']).toBe(base);
    expect((await events(store, base)).map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
  });

  it('untraced (no header, or a forged one): no such header, the same response otherwise', async () => {
    const plain = await request(`${url}/work`);
    const forged = await request(`${url}/work`, { headers: signed('not-the-key', randomUUID(), randomUUID()) });
    expect(plain.headers['x-trace-id']).toBeUndefined();
    expect(comparable(forged)).toEqual(comparable(plain));
  });

  it('a base_id that is not a safe header value is not echoed, and the request is still traced', async () => {
    const base = `bad value with spaces ${platform}`;
    const r = await request(`${url}/work`, { headers: signed(KEY, base, 'p') });
    expect(r.body.toString()).toBe('done');
    expect(r.headers['x-trace-id']).toBeUndefined();
    expect((await events(store, base)).map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
  });
});
