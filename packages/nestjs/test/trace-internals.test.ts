import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  Catch,
  Controller,
  Get,
  Module,
  Param,
  ParseIntPipe,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryDriver, shutdown } from '@osprofiler/core';
import { map, type Observable } from 'rxjs';
import { ProfilerModule } from '../src/index';
import { events, request, signed, waitFor, type StoredEvent } from './support';

const KEY = 'INTERNALS_KEY';
const STORE = 'nest-trace-internals';
const store = new MemoryDriver({}, STORE);

class SlowGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 25));
    return true;
  }
}

class WrapInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((v) => ({ wrapped: v })));
  }
}

class TeapotError extends Error {}

@Catch(TeapotError)
class TeapotFilter implements ExceptionFilter {
  catch(_err: TeapotError, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<{ status(c: number): { json(b: unknown): void } }>().status(418).json({ teapot: true });
  }
}

@Controller('items')
@UseGuards(SlowGuard)
@UseInterceptors(WrapInterceptor)
@UseFilters(TeapotFilter)
class ItemsController {
  @Get(':id')
  get(@Param('id', ParseIntPipe) id: number) {
    if (id === 418) throw new TeapotError('short and stout');
    return { id };
  }
}

async function start(traceInternals: boolean): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, traceInternals })],
    controllers: [ItemsController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

async function trace(url: string): Promise<{ status: number; body: unknown; ev: StoredEvent[] }> {
  const base = randomUUID();
  const r = await request(url, { headers: signed(KEY, base, base) });
  await waitFor(async () => (await events(store, base)).some((e) => e.name === 'wsgi-stop'));
  return { status: r.status, body: JSON.parse(r.body.toString()), ev: await events(store, base) };
}

describe('traceInternals', () => {
  let on: { app: INestApplication; url: string };
  beforeAll(async () => {
    on = await start(true);
  });
  afterAll(async () => {
    await on?.app.close();
    await shutdown();
  });

  it('guards, interceptors and pipes each get a nested point; a slow guard is visible', async () => {
    const { body, ev } = await trace(`${on.url}/items/7`);
    expect(body).toEqual({ wrapped: { id: 7 } });
    const starts = ev.filter((e) => e.name.endsWith('-start'));
    const wsgi = starts.find((e) => e.name === 'wsgi-start')!;
    const guard = starts.find((e) => e.name === 'guard-start')!;
    const interceptor = starts.find((e) => e.name === 'interceptor-start')!;
    const pipe = starts.find((e) => e.name === 'pipe-start')!;
    expect(guard.info.function.name).toBe('SlowGuard.canActivate');
    expect(guard.parent_id).toBe(wsgi.trace_id);
    expect(interceptor.info.function.name).toBe('WrapInterceptor.intercept');
    expect(interceptor.parent_id).toBe(wsgi.trace_id);
    expect(pipe.info.function.name).toBe('ParseIntPipe.transform');
    expect(pipe.parent_id).toBe(interceptor.trace_id);
    const guardStop = ev.find((e) => e.name === 'guard-stop')!;
    expect(Date.parse(guardStop.timestamp + 'Z') - Date.parse(guard.timestamp + 'Z')).toBeGreaterThanOrEqual(20);
    // Every point is closed, the interceptor's after its Observable completed.
    expect(ev.filter((e) => e.name.endsWith('-stop'))).toHaveLength(starts.length);
  });

  it('a failing pipe and an exception filter get points; the response is the filter’s', async () => {
    const bad = await trace(`${on.url}/items/abc`);
    expect(bad.status).toBe(400);
    const pipeStop = bad.ev.find((e) => e.name === 'pipe-stop')!;
    expect(pipeStop.info.etype).toBe('BadRequestException');
    expect(bad.ev.find((e) => e.name === 'filter-start')!.info.nest).toEqual({ exception: 'BadRequestException' });

    const tea = await trace(`${on.url}/items/418`);
    expect(tea.status).toBe(418);
    expect(tea.body).toEqual({ teapot: true });
    const filter = tea.ev.find((e) => e.name === 'filter-start')!;
    expect(filter.parent_id).toBe(tea.ev.find((e) => e.name === 'wsgi-start')!.trace_id);
    const wsgiStop = tea.ev.find((e) => e.name === 'wsgi-stop')!;
    expect(wsgiStop.info.etype).toBe('TeapotError');
    expect(wsgiStop.info.response).toEqual({ status_code: 418 });
  });
});
