import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Injectable, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { MemoryDriver, run, shutdown, traced } from '@osprofiler/core';
import { delay, lastValueFrom, Observable, of, throwError } from 'rxjs';
import { ProfilerModule, Traced } from '../src/index';
import { events, request, signed, waitFor } from './support';

const KEY = 'TRACED_KEY';
const STORE = 'nest-traced-provider';
const store = new MemoryDriver({}, STORE);

@Injectable()
class Clock {
  now(): number {
    return 1;
  }
}

@Traced({ name: 'db', exclude: ['skipped'] })
@Injectable()
class UsersRepo {
  constructor(@Inject(Clock) private readonly clock: Clock) {}

  async findOne(id: string): Promise<{ id: string; at: number }> {
    await new Promise((r) => setTimeout(r, 5));
    return traced('sql', () => ({ id, at: this.clock.now() }));
  }

  count(): number {
    return 3;
  }

  watch(id: string): Observable<string> {
    return of(`seen ${id}`).pipe(delay(20));
  }

  broken(): Observable<string> {
    return throwError(() => new RangeError('stream broke'));
  }

  skipped(): number {
    return 0;
  }

  _internal(): number {
    return 0;
  }
}

@Traced({ hideArgs: false })
@Controller('users')
class UsersController {
  constructor(@Inject(UsersRepo) private readonly repo: UsersRepo) {}

  @Get(':id')
  async get(@Param('id') id: string) {
    const user = await this.repo.findOne(id);
    const seen = await lastValueFrom(this.repo.watch(id));
    this.repo.skipped();
    this.repo._internal();
    return { ...user, count: this.repo.count(), seen };
  }

  @Get(':id/broken')
  broken() {
    return this.repo.broken();
  }

  @MessagePattern('users.get')
  rpcGet(id: string) {
    return this.repo.findOne(id);
  }
}

@Module({
  imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })],
  controllers: [UsersController],
  providers: [Clock, UsersRepo],
})
class AppModule {}

describe('@Traced providers', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await shutdown();
  });

  it('every public method of a DI provider is a point (named db), async and Observable methods span their work', async () => {
    const base = randomUUID();
    const r = await request(`${url}/users/5`, { headers: signed(KEY, base, base) });
    expect(JSON.parse(r.body.toString())).toEqual({ id: '5', at: 1, count: 3, seen: 'seen 5' });
    await waitFor(async () => (await events(store, base)).some((e) => e.name === 'wsgi-stop'));
    const ev = await events(store, base);
    const names = ev.map((e) => `${e.name}:${e.info.function?.name ?? ''}`);
    expect(names).toEqual([
      'wsgi-start:',
      'driver-start:UsersController.get',
      'db-start:UsersRepo.findOne',
      'sql-start:',
      'sql-stop:',
      'db-stop:',
      'db-start:UsersRepo.watch',
      'db-stop:',
      'db-start:UsersRepo.count',
      'db-stop:',
      'driver-stop:',
      'wsgi-stop:',
    ]);
    const byName = (n: string, fn: string) => ev.find((e) => e.name === n && e.info.function?.name === fn)!;
    const ctl = byName('driver-start', 'UsersController.get');
    expect(ctl.info.function.args).toBe('["5"]');
    const find = byName('db-start', 'UsersRepo.findOne');
    expect(find.parent_id).toBe(ctl.trace_id);
    expect(find.info.function.args).toBeUndefined();
    // The observable's point lasts until the delayed value completes (≥ 20 ms).
    const watchStart = byName('db-start', 'UsersRepo.watch');
    const watchStop = ev.find((e) => e.name === 'db-stop' && e.trace_id === watchStart.trace_id)!;
    expect(Date.parse(watchStop.timestamp + 'Z') - Date.parse(watchStart.timestamp + 'Z')).toBeGreaterThanOrEqual(15);
    expect(ev.find((e) => e.name === 'wsgi-stop')!.info.nest).toEqual({ controller: 'UsersController', handler: 'get' });
  });

  it('an Observable that errors records the error on its point, and the request fails as untraced would', async () => {
    const base = randomUUID();
    const r = await request(`${url}/users/5/broken`, { headers: signed(KEY, base, base) });
    expect(r.status).toBe(500);
    await waitFor(async () => (await events(store, base)).some((e) => e.name === 'wsgi-stop'));
    const ev = await events(store, base);
    const stop = ev.find((e) => e.name === 'db-stop')!;
    expect(stop.info.etype).toBe('RangeError');
    expect(stop.info.message).toBe('stream broke');
    expect(ev.find((e) => e.name === 'wsgi-stop')!.info.etype).toBe('RangeError');
  });

  it('wrapped methods keep their Reflect metadata (routes, @MessagePattern) and name', () => {
    const proto = UsersController.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(JSON.stringify(Reflect.getMetadata(PATTERN_METADATA, proto.rpcGet))).toContain('users.get');
    expect(Reflect.getMetadata('path', proto.get)).toBe(':id');
    expect(proto.get.name).toBe('get');
  });

  it('hideResult: false records an Observable method’s last value, and an async method’s result', async () => {
    @Traced({ name: 'svc', hideResult: false })
    class Numbers {
      async one(): Promise<number> {
        return 1;
      }
      many(): Observable<number> {
        return of(1, 2, 3);
      }
    }
    const n = new Numbers();
    const base = randomUUID();
    await run({ hmacKey: KEY, baseId: base }, async () => {
      expect(await n.one()).toBe(1);
      expect(await lastValueFrom(n.many())).toBe(3);
    });
    await waitFor(async () => (await events(store, base)).length === 4);
    const stops = (await events(store, base)).filter((e) => e.name === 'svc-stop');
    expect(stops.map((e) => e.info.function.result)).toEqual(['1', '3']);
  });

  it('outside a trace, methods run plainly and record nothing', async () => {
    const repo = app.get(UsersRepo);
    expect(await repo.findOne('9')).toEqual({ id: '9', at: 1 });
    expect(await lastValueFrom(repo.watch('9'))).toBe('seen 9');
  });
});
