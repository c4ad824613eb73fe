import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, ForbiddenException, Get, Inject, Injectable, Module, NotFoundException, Param, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import { MemoryDriver, shutdown, traced } from '@osprofiler/core';
import { PROFILER_SETUP, ProfilerModule, type ProfilerSetup } from '../src/index';
import { comparable, events, request, signed, waitFor } from './support';

const KEY = 'SECRET_KEY';
const STORE = 'nest-http-platforms';
const store = new MemoryDriver({}, STORE);

@Injectable()
class UsersService {
  find(id: string): { id: string; name: string } {
    if (id === 'missing') throw new NotFoundException(`user ${id} not found`);
    if (id === 'boom') throw new Error('database on fire');
    return traced('db', { db: { statement: 'SELECT 1' } }, () => ({ id, name: 'Ada' }));
  }
}

class DenyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    if (req.headers['x-deny'] === '1') throw new ForbiddenException('no entry');
    return true;
  }
}

@Controller('users')
@UseGuards(DenyGuard)
class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Get(':id')
  get(@Param('id') id: string) {
    return this.users.find(id);
  }

  @Get()
  list() {
    return [{ id: '1' }];
  }
}

@Module({ controllers: [UsersController], providers: [UsersService] })
class UsersModule {}

type Platform = 'express' | 'fastify';

async function start(platform: Platform, traced: boolean): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [UsersModule, ...(traced ? [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })] : [])],
  })
  class AppModule {}
  const app = platform === 'express' ? await NestFactory.create(AppModule, { logger: false }) : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  app.setGlobalPrefix('api');
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

describe.each(['express', 'fastify'] as const)('ProfilerModule.forRoot on the %s platform', (platform) => {
  let plain: { app: INestApplication; url: string };
  let withProfiler: { app: INestApplication; url: string };

  beforeAll(async () => {
    plain = await start(platform, false);
    withProfiler = await start(platform, true);
  });
  afterAll(async () => {
    await plain?.app.close();
    await withProfiler?.app.close();
    await shutdown();
  });

  it('a signed request gets a wsgi point with route template, controller and handler; work inside nests under it', async () => {
    expect(withProfiler.app.get<ProfilerSetup>(PROFILER_SETUP).platform).toBe(platform);
    const base = randomUUID();
    const r = await request(`${withProfiler.url}/api/users/42?x=1`, { headers: signed(KEY, base, base) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ id: '42', name: 'Ada' });
    await waitFor(async () => (await events(store, base)).length === 4);
    const ev = await events(store, base);
    expect(ev.map((e) => e.name)).toEqual(['wsgi-start', 'db-start', 'db-stop', 'wsgi-stop']);
    const [ws, dbs, , wstop] = ev;
    expect(ws.parent_id).toBe(base);
    expect(ws.info.request).toEqual({ path: '/api/users/42', query: 'x=1', method: 'GET', scheme: 'http' });
    expect(dbs.parent_id).toBe(ws.trace_id);
    expect(wstop.info.response).toEqual({ status_code: 200 });
    expect(wstop.info.request).toEqual({ route: '/api/users/:id' });
    expect(wstop.info.nest).toEqual({ controller: 'UsersController', handler: 'get' });
  });

  it('an HttpException subclass thrown by the service records etype, message and status', async () => {
    const base = randomUUID();
    const r = await request(`${withProfiler.url}/api/users/missing`, { headers: signed(KEY, base, base) });
    expect(r.status).toBe(404);
    await waitFor(async () => (await events(store, base)).length === 2);
    const stop = (await events(store, base))[1];
    expect(stop.info.etype).toBe('NotFoundException');
    expect(stop.info.message).toBe('user missing not found');
    expect(stop.info.response).toEqual({ status_code: 404 });
    expect(stop.info.nest).toEqual({ controller: 'UsersController', handler: 'get' });
  });

  it('a plain Error becomes a 500 with its etype recorded', async () => {
    const base = randomUUID();
    const r = await request(`${withProfiler.url}/api/users/boom`, { headers: signed(KEY, base, base) });
    expect(r.status).toBe(500);
    await waitFor(async () => (await events(store, base)).length === 2);
    const stop = (await events(store, base))[1];
    expect(stop.info.etype).toBe('Error');
    expect(stop.info.message).toBe('database on fire');
    expect(stop.info.response).toEqual({ status_code: 500 });
  });

  it('a guard runs inside the point: its exception, the route and the controller/handler are recorded', async () => {
    const base = randomUUID();
    const r = await request(`${withProfiler.url}/api/users/1`, { headers: { ...signed(KEY, base, base), 'x-deny': '1' } });
    expect(r.status).toBe(403);
    await waitFor(async () => (await events(store, base)).length === 2);
    const stop = (await events(store, base))[1];
    expect(stop.info.etype).toBe('ForbiddenException');
    expect(stop.info.message).toBe('no entry');
    expect(stop.info.response).toEqual({ status_code: 403 });
    expect(stop.info.request).toEqual({ route: '/api/users/:id' });
    expect(stop.info.nest).toEqual({ controller: 'UsersController', handler: 'get' });
  });

  it('an unknown route is a 404 wsgi point without route or nest details', async () => {
    const base = randomUUID();
    const r = await request(`${withProfiler.url}/nowhere`, { headers: signed(KEY, base, base) });
    expect(r.status).toBe(404);
    await waitFor(async () => (await events(store, base)).length === 2);
    const stop = (await events(store, base))[1];
    expect(stop.info.response).toEqual({ status_code: 404 });
    expect(stop.info.nest).toBeUndefined();
  });

  it('requests without a header or with a forged one are not traced', async () => {
    const base = randomUUID();
    const forged = { ...signed('WRONG', base, base) };
    expect((await request(`${withProfiler.url}/api/users/1`, { headers: forged })).status).toBe(200);
    expect((await request(`${withProfiler.url}/api/users/1`)).status).toBe(200);
    expect(await events(store, base)).toEqual([]);
  });

  it('responses are byte-identical to the same app without the module (traced and not)', async () => {
    for (const path of ['/api/users/7', '/api/users', '/api/users/missing', '/api/users/boom', '/nowhere']) {
      const base = randomUUID();
      const a = await request(`${plain.url}${path}`);
      const b = await request(`${withProfiler.url}${path}`, { headers: signed(KEY, base, base) });
      const c = await request(`${withProfiler.url}${path}`);
      expect(comparable(b)).toEqual(comparable(a));
      expect(comparable(c)).toEqual(comparable(a));
    }
  });
});
