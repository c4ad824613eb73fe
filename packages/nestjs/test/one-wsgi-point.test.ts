import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { failureCounts, MemoryDriver, shutdown, traced } from '@osprofiler/core';
import { instrumentExpress, profiler } from '@osprofiler/express';
import { ProfilerModule } from '../src/index';
import { events, request, signed } from './support';

// Issue 13: exactly one `wsgi` point per request whichever adapters are loaded. Here every
// Express hook is active at once — automatic mode on the Express copy Nest uses, and the
// explicit middleware on the app — with the Nest module: Nest owns the request.
const KEY = 'ONE_WSGI_KEY';
const STORE = 'nest-one-wsgi';
const store = new MemoryDriver({}, STORE);

@Controller('items')
class ItemsController {
  @Get(':id')
  item(@Param('id') id: string) {
    return traced('work', () => ({ id }));
  }
  @Get(':id/fail')
  fail() {
    throw new RangeError('no such item');
  }
}

describe('Nest module + @osprofiler/express (automatic mode and middleware) on the same app', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    const expressOfNest = createRequire(require.resolve('@nestjs/platform-express'))('express');
    expect(instrumentExpress(expressOfNest)).toBe(true);
    @Module({
      imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })],
      controllers: [ItemsController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    app.use(profiler());
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await shutdown();
  });

  it('a signed request has one wsgi point, Nest’s (controller/handler), with the work under it', async () => {
    const base = randomUUID();
    expect(JSON.parse((await request(`${url}/items/5`, { headers: signed(KEY, base, base) })).body.toString())).toEqual({ id: '5' });
    let ev = await events(store, base);
    for (let i = 0; i < 100 && ev.length < 4; i++) ev = await events(store, base);
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'work-start', 'work-stop', 'wsgi-stop']);
    expect(ev[1].parent_id).toBe(ev[0].trace_id);
    expect(ev[3].info).toMatchObject({ request: { route: '/items/:id' }, response: { status_code: 200 }, nest: { controller: 'ItemsController', handler: 'item' } });
  });

  it('an exception is recorded once, on that point', async () => {
    const base = randomUUID();
    expect((await request(`${url}/items/5/fail`, { headers: signed(KEY, base, base) })).status).toBe(500);
    let ev = await events(store, base);
    for (let i = 0; i < 100 && ev.length < 2; i++) ev = await events(store, base);
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
    expect(ev[1].info).toMatchObject({ etype: 'RangeError', message: 'no such item', nest: { controller: 'ItemsController', handler: 'fail' } });
    expect(Object.keys(failureCounts()).filter((k) => k.startsWith('express.') || k.startsWith('nestjs.'))).toEqual([]);
  });
});
