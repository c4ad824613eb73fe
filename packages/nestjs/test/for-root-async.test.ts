import 'reflect-metadata';
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { getConfig, MemoryDriver, shutdown } from '@osprofiler/core';
import { PROFILER_SETUP, ProfilerModule, type ProfilerSetup } from '../src/index';
import { events, request, signed, waitFor } from './support';

const KEY = 'ASYNC_KEY';
const STORE = 'nest-for-root-async';
const store = new MemoryDriver({}, STORE);

@Controller('ping')
class PingController {
  @Get()
  ping() {
    return 'pong';
  }
}

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

describe('ProfilerModule.forRootAsync with @nestjs/config', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    await shutdown();
  });

  it('reads its options from ConfigService (injected) and traces signed requests', async () => {
    @Module({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ profiler: { enabled: true, hmacKeys: KEY, connectionString: `memory://${STORE}`, service: 'ping-api' } })],
        }),
        ProfilerModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: async (config: ConfigService) => ({ ...config.get('profiler'), flushIntervalMs: 5 }),
        }),
      ],
      controllers: [PingController],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    apps.push(app);
    const url = await listen(app);
    expect(getConfig().service).toBe('ping-api');
    expect(app.get<ProfilerSetup>(PROFILER_SETUP).platform).toBe('express');
    const base = randomUUID();
    const r = await request(`${url}/ping`, { headers: signed(KEY, base, base) });
    expect(r.body.toString()).toBe('pong');
    await waitFor(async () => (await events(store, base)).length === 2);
    const ev = await events(store, base);
    expect(ev[1].info.nest).toEqual({ controller: 'PingController', handler: 'ping' });
    expect(ev[1].info.request).toEqual({ route: '/ping' });
  });

  it('enabled: false attaches nothing and records nothing', async () => {
    @Module({
      imports: [ProfilerModule.forRootAsync({ useFactory: () => ({ enabled: false, hmacKeys: [KEY], connectionString: `memory://${STORE}` }) })],
      controllers: [PingController],
    })
    class OffModule {}
    const app = await NestFactory.create(OffModule, { logger: false });
    apps.push(app);
    const url = await listen(app);
    expect(app.get<ProfilerSetup>(PROFILER_SETUP)).toEqual({ tracer: undefined, platform: undefined });
    const base = randomUUID();
    expect((await request(`${url}/ping`, { headers: signed(KEY, base, base) })).body.toString()).toBe('pong');
    expect(await events(store, base)).toEqual([]);
  });

  it('a bad option fails start-up with ConfigError naming the field', async () => {
    @Module({ imports: [ProfilerModule.forRoot({ sampling: 'every other' })], controllers: [PingController] })
    class BadModule {}
    await expect(NestFactory.create(BadModule, { logger: false, abortOnError: false })).rejects.toThrow(/sampling/);
  });
});
