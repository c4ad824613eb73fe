import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryDriver, shutdown } from '@osprofiler/core';
import { ProfilerModule } from '../src/index';
import { events, signed, waitFor } from './support';

const KEY = 'ABORT_KEY';
const STORE = 'nest-aborted';
const store = new MemoryDriver({}, STORE);

@Controller()
class SlowController {
  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 300));
    return 'late';
  }
}

@Module({
  imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })],
  controllers: [SlowController],
})
class AppModule {}

describe('a client that goes away mid-request', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await shutdown();
  });

  it('stops the wsgi point once, with aborted: true and the route/handler known', async () => {
    const base = randomUUID();
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/slow', headers: signed(KEY, base, base), agent: false });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await waitFor(async () => (await events(store, base)).length === 2);
    await new Promise((r) => setTimeout(r, 400)); // the handler finishes later: no second stop
    const ev = await events(store, base);
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
    expect(ev[1].info.response).toEqual({ aborted: true });
    expect(ev[1].info.nest).toEqual({ controller: 'SlowController', handler: 'slow' });
    expect(ev[1].info.request).toEqual({ route: '/slow' });
  });
});
