import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { flush, MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentExpress } from '@osprofiler/express';
import { ProfilerModule } from '../src/index';
import { events, request, signed, waitFor } from './support';

const KEY = 'OPTIONS_KEY';
const STORE = 'nest-options';
const store = new MemoryDriver({}, STORE);

@Controller()
class HealthController {
  @Get('healthz')
  health() {
    return 'ok';
  }
  @Get('work')
  work() {
    return 'done';
  }
}

describe('options (sampling, ignorePaths) and @osprofiler/express automatic mode', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    // What `--require @osprofiler/express/register` does to the Express copy Nest uses.
    const expressOfNest = createRequire(require.resolve('@nestjs/platform-express'))('express');
    expect(instrumentExpress(expressOfNest)).toBe(true);
    @Module({
      imports: [
        ProfilerModule.forRoot({
          enabled: true,
          hmacKeys: [KEY],
          connectionString: `memory://${STORE}`,
          flushIntervalMs: 5,
          sampling: { everyNth: 1 },
          ignorePaths: ['/healthz'],
        }),
      ],
      controllers: [HealthController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await shutdown();
  });

  it('sampling traces requests without a header; each gets exactly one wsgi point (Express automatic mode leaves it alone)', async () => {
    const before = new Set((await store.listTraces()).map((t) => t.base_id));
    expect((await request(`${url}/work`)).body.toString()).toBe('done');
    await waitFor(async () => (await store.listTraces()).some((t) => !before.has(t.base_id)));
    const fresh = (await store.listTraces()).filter((t) => !before.has(t.base_id));
    expect(fresh).toHaveLength(1);
    await waitFor(async () => (await events(store, fresh[0].base_id)).length === 2);
    const ev = await events(store, fresh[0].base_id);
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
    expect(ev[1].info.nest).toEqual({ controller: 'HealthController', handler: 'work' });
  });

  it('ignorePaths are never traced, even signed', async () => {
    const base = randomUUID();
    expect((await request(`${url}/healthz`, { headers: signed(KEY, base, base) })).body.toString()).toBe('ok');
    await flush();
    expect(await events(store, base)).toEqual([]);
  });
});
