// api: a Nest app on Fastify. GET /orders/:id asks `worker` over NATS (a Nest microservice
// client: rpc points, the trace in the message headers) and then the Python service
// (fetch, traced by @osprofiler/node), all inside the request's wsgi point.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Transport, type ClientProxy } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { flush } from '@osprofiler/core';
import { ProfilerModule } from '@osprofiler/nestjs';
import { instrumentHttpClient } from '@osprofiler/node';
import { firstValueFrom } from 'rxjs';

const env = process.env;
const WORKER = 'WORKER';

@Controller()
class OrdersController {
  constructor(@Inject(WORKER) private readonly worker: ClientProxy) {}

  @Get('orders/:id')
  async order(@Param('id') id: string): Promise<unknown> {
    const job = await firstValueFrom(this.worker.send<unknown>(env.WORKER_SUBJECT!, { order: Number(id) }));
    let python: unknown = null;
    if (env.PYTHON_URL) python = await (await fetch(`${env.PYTHON_URL}/quote?id=${encodeURIComponent(id)}`)).json();
    return { order: Number(id), job, python };
  }
}

@Module({
  imports: [
    ProfilerModule.forRoot({
      enabled: true,
      hmacKeys: [env.HMAC_KEY!],
      project: 'multi-service',
      service: 'api',
      connectionString: env.AGENT_URL,
      traceDb: env.TRACE_DB === 'true',
      flushIntervalMs: 20,
    }),
    ClientsModule.register([{ name: WORKER, transport: Transport.NATS, options: { servers: [env.NATS_URL!] } }]),
  ],
  controllers: [OrdersController],
})
class ApiModule {}

async function main(): Promise<void> {
  instrumentHttpClient();
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  console.log(`LISTENING ${(app.getHttpServer().address() as AddressInfo).port}`);
  process.on('SIGTERM', () => {
    void app.close().then(() => flush().catch(() => undefined)).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
