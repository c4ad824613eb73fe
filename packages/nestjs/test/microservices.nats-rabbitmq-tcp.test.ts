/**
 * Nest microservices over real brokers on loopback: NATS 127.0.0.1:4222, RabbitMQ
 * 127.0.0.1:5672 (guest/guest), and TCP on an ephemeral port.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Controller, Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  NatsRecordBuilder,
  Payload,
  RmqRecordBuilder,
  RpcException,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { get, MemoryDriver, run, shutdown, signedPack } from '@osprofiler/core';
import { headers as natsHeaders } from 'nats';
import { lastValueFrom } from 'rxjs';
import { ProfilerModule, ProfilerTcpDeserializer, ProfilerTcpSerializer, Traced } from '../src/index';
import { events, waitFor, type StoredEvent } from './support';

const KEY = 'MS_KEY';
const STORE = 'nest-microservices';
const store = new MemoryDriver({}, STORE);
const RUN = randomUUID().slice(0, 8);

interface Seen {
  baseId: string | undefined;
  pattern: string;
}

function makeServerModule(seen: Seen[], sum: string, note: string, fail: string) {
  // @Traced wraps the handlers after @MessagePattern stored its metadata on them: they must still be found.
  @Traced({ exclude: ['note'] })
  @Controller()
  class MathController {
    @MessagePattern(sum)
    sum(@Payload() data: number[], @Ctx() _ctx: unknown): number {
      seen.push({ baseId: get()?.baseId, pattern: sum });
      return data.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(fail)
    async fail(): Promise<never> {
      await new Promise((r) => setTimeout(r, 1));
      throw new RpcException('out of stock');
    }

    @EventPattern(note)
    note(@Payload() _data: unknown): void {
      seen.push({ baseId: get()?.baseId, pattern: note });
    }
  }
  @Module({
    imports: [ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 })],
    controllers: [MathController],
  })
  class ServerModule {}
  return ServerModule;
}

function forged(): { info: string; hmac: string } {
  return signedPack({ base_id: randomUUID(), parent_id: randomUUID() }, 'NOT_THE_KEY');
}

interface Case {
  transport: 'nats' | 'rmq' | 'tcp';
  server(module: Type<unknown>): Promise<INestMicroservice>;
  client(server: INestMicroservice): ClientProxy;
  /** A client whose messages carry forged trace info (sent outside any trace). */
  forgedSend(server: INestMicroservice, pattern: string, data: unknown): Promise<unknown>;
}

const queue = `osp-nest-${RUN}`;
const cases: Case[] = [
  {
    transport: 'nats',
    server: (m) => NestFactory.createMicroservice(m, { transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] }, logger: false }),
    client: () => ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] } }),
    async forgedSend(_s, pattern, data) {
      const c = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] } });
      const h = natsHeaders();
      const f = forged();
      h.set('X-Trace-Info', f.info);
      h.set('X-Trace-HMAC', f.hmac);
      try {
        return await lastValueFrom(c.send(pattern, new NatsRecordBuilder(data).setHeaders(h).build()));
      } finally {
        await c.close();
      }
    },
  },
  {
    transport: 'rmq',
    server: (m) =>
      NestFactory.createMicroservice(m, { transport: Transport.RMQ, options: { urls: ['amqp://guest:guest@127.0.0.1:5672'], queue, queueOptions: { durable: false, autoDelete: true } }, logger: false }),
    client: () => ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: ['amqp://guest:guest@127.0.0.1:5672'], queue, queueOptions: { durable: false, autoDelete: true } } }),
    async forgedSend(_s, pattern, data) {
      const c = ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: ['amqp://guest:guest@127.0.0.1:5672'], queue, queueOptions: { durable: false, autoDelete: true } } });
      const f = forged();
      try {
        return await lastValueFrom(c.send(pattern, new RmqRecordBuilder(data).setOptions({ headers: { 'X-Trace-Info': f.info, 'X-Trace-HMAC': f.hmac } }).build()));
      } finally {
        await c.close();
      }
    },
  },
  {
    transport: 'tcp',
    async server(m) {
      return NestFactory.createMicroservice(m, { transport: Transport.TCP, options: { host: '127.0.0.1', port: 0, deserializer: new ProfilerTcpDeserializer() }, logger: false });
    },
    client: (s) => ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort(s), serializer: new ProfilerTcpSerializer() } }),
    async forgedSend(s, pattern, data) {
      const c = ClientProxyFactory.create({
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: tcpPort(s), serializer: { serialize: (p: object) => ({ ...p, osprofiler: forged() }) } },
      });
      try {
        return await lastValueFrom(c.send(pattern, data));
      } finally {
        await c.close();
      }
    },
  },
];

function tcpPort(s: INestMicroservice): number {
  const server = (s as unknown as { serverInstance: { server: { address(): { port: number } } } }).serverInstance.server;
  return server.address().port;
}

afterAll(async () => {
  await shutdown();
});

describe.each(cases)('Nest microservice over $transport', (c) => {
  const seen: Seen[] = [];
  const sum = `math.sum.${c.transport}.${RUN}`;
  const note = `math.note.${c.transport}.${RUN}`;
  const fail = `math.fail.${c.transport}.${RUN}`;
  let server: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    server = await c.server(makeServerModule(seen, sum, note, fail));
    await server.listen();
    client = c.client(server);
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('send() inside a trace is an rpc point; the handler continues the trace under it', async () => {
    const base = randomUUID();
    const result = await run({ hmacKey: KEY, baseId: base }, () => lastValueFrom(client.send(sum, [1, 2, 3])));
    expect(result).toBe(6);
    await waitFor(async () => (await events(store, base)).length === 6);
    const ev = await events(store, base);
    const starts = ev.filter((e) => e.name === 'rpc-start');
    const clientStart = starts.find((e) => e.info.nest === undefined) as StoredEvent;
    const handlerStart = starts.find((e) => e.info.nest !== undefined) as StoredEvent;
    expect(clientStart.parent_id).toBe(base);
    expect(clientStart.info).toMatchObject({ function: { name: `nest ${c.transport} ${sum}` }, message: { transport: c.transport, pattern: sum } });
    expect(handlerStart.parent_id).toBe(clientStart.trace_id);
    expect(handlerStart.info.message).toEqual({ transport: c.transport, pattern: sum });
    expect(handlerStart.info.nest).toEqual({ controller: 'MathController', handler: 'sum' });
    expect(ev.filter((e) => e.name === 'rpc-stop')).toHaveLength(2);
    // The @Traced handler method is a driver point inside the handler's rpc point.
    const driver = ev.find((e) => e.name === 'driver-start')!;
    expect(driver.info.function.name).toBe('MathController.sum');
    expect(driver.parent_id).toBe(handlerStart.trace_id);
    expect(seen.at(-1)).toEqual({ baseId: base, pattern: sum });
  });

  it('send() is cold: never subscribed, no point; each subscription (a retry) is its own rpc point', async () => {
    const base = randomUUID();
    await run({ hmacKey: KEY, baseId: base }, async () => {
      client.send(sum, [1]); // never subscribed: no message, no point
      const twice = client.send(sum, [1, 1]);
      expect(await lastValueFrom(twice)).toBe(2);
      expect(await lastValueFrom(twice)).toBe(2);
    });
    await waitFor(async () => (await events(store, base)).filter((e) => e.name === 'rpc-stop').length === 4);
    const ev = await events(store, base);
    const clientStarts = ev.filter((e) => e.name === 'rpc-start' && e.info.nest === undefined);
    expect(clientStarts).toHaveLength(2);
    for (const c of clientStarts) {
      expect(c.parent_id).toBe(base);
      expect(ev.filter((e) => e.name === 'rpc-start' && e.parent_id === c.trace_id)).toHaveLength(1);
    }
  });

  it('emit() inside a trace: the @EventPattern handler continues the trace', async () => {
    const base = randomUUID();
    await run({ hmacKey: KEY, baseId: base }, () => lastValueFrom(client.emit(note, { text: 'hi' }), { defaultValue: undefined }));
    await waitFor(async () => (await events(store, base)).length === 4);
    const ev = await events(store, base);
    const clientStart = ev.find((e) => e.name === 'rpc-start' && e.info.nest === undefined)!;
    const handlerStart = ev.find((e) => e.name === 'rpc-start' && e.info.nest !== undefined)!;
    expect(handlerStart.parent_id).toBe(clientStart.trace_id);
    expect(handlerStart.info.nest).toEqual({ controller: 'MathController', handler: 'note' });
  });

  it('a handler that throws: both rpc points record the error, the client gets it as untraced', async () => {
    const base = randomUUID();
    const got = await run({ hmacKey: KEY, baseId: base }, () => lastValueFrom(client.send(fail, 1)).then(() => 'no error', (e: unknown) => e));
    const untraced = await lastValueFrom(client.send(fail, 1)).then(() => 'no error', (e: unknown) => e);
    expect(got).toEqual(untraced);
    await waitFor(async () => (await events(store, base)).filter((e) => e.name === 'rpc-stop').length === 2);
    const stops = (await events(store, base)).filter((e) => e.name === 'rpc-stop');
    for (const s of stops) expect(s.info).toMatchObject({ etype: 'RpcException', message: 'out of stock' });
  });

  it('a message without trace info, or with forged info, is handled untraced', async () => {
    const before = seen.length;
    expect(await lastValueFrom(client.send(sum, [2, 2]))).toBe(4);
    expect(await c.forgedSend(server, sum, [3, 3])).toBe(6);
    expect(seen.slice(before)).toEqual([
      { baseId: undefined, pattern: sum },
      { baseId: undefined, pattern: sum },
    ]);
  });
});
