/**
 * The real pino (9 and 10) and winston, logging from a real Express app traced by
 * @osprofiler/express: a traced request's lines carry its base_id and the id of the
 * point that was open; untraced lines carry nothing of ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { configure, flush, MemoryDriver, shutdown, signedPack, traced } from '@osprofiler/core';
import { profiler } from '@osprofiler/express';
import { logIds, pinoMixin, winstonFormat } from '../src/index';
import { get, listen, type Running } from './support';

const requireHere = createRequire(__filename);
const express = requireHere('express');
const winston = requireHere('winston');
const KEY = 'logs-key';
const STORE = 'logs-loggers';
const store = new MemoryDriver({}, STORE);

/** A log destination keeping each line (pino and winston both write whole JSON lines). */
function sink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) };
}

const loggers: [string, (out: Writable) => { info(msg: string): void; info(obj: object, msg: string): void }][] = [
  ['pino 10', (out) => requireHere('pino')({ mixin: pinoMixin }, out)],
  ['pino 9', (out) => requireHere('pino9')({ mixin: pinoMixin }, out)],
  [
    'winston 3',
    (out) => {
      const w = winston.createLogger({ format: winston.format.combine(winstonFormat(), winston.format.json()), transports: [new winston.transports.Stream({ stream: out })] });
      return { info: (a: string | object, b?: string) => (typeof a === 'string' ? w.info(a) : w.info(b, a)) } as never;
    },
  ],
];

let server: Running;
let current: { info(msg: string): void };

beforeAll(async () => {
  configure({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5 });
  const app = express();
  app.use(profiler());
  app.get('/order', async (_req: any, res: any) => {
    current.info('received');
    await traced('db', async () => current.info('in db'));
    res.send('ok');
  });
  server = await listen(app);
});
afterAll(async () => {
  await server.close();
  await shutdown();
});

describe.each(loggers)('%s', (_name, make) => {
  it("a traced request's lines carry its base_id and the open point's id; untraced ones nothing", async () => {
    const out = sink();
    current = make(out.stream);
    const base = randomUUID();
    const { info, hmac } = signedPack({ base_id: base, parent_id: base }, KEY);
    expect(await get(`${server.url}/order`, { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac })).toBe('ok');
    expect(await get(`${server.url}/order`)).toBe('ok'); // no header: untraced
    current.info('outside any request');
    await new Promise((r) => setImmediate(r));

    await flush();
    const stored = store.rawEvents(base).map((l) => JSON.parse(l) as { name: string; trace_id: string });
    const wsgi = stored.find((e) => e.name === 'wsgi-start')!;
    const db = stored.find((e) => e.name === 'db-start')!;
    const lines = out.lines();
    expect(lines.map((l) => l.msg ?? l.message)).toEqual(['received', 'in db', 'received', 'in db', 'outside any request']);
    expect(lines[0]).toMatchObject({ base_id: base, point_id: wsgi.trace_id });
    expect(lines[1]).toMatchObject({ base_id: base, point_id: db.trace_id });
    for (const l of lines.slice(2)) {
      expect(l).not.toHaveProperty('base_id');
      expect(l).not.toHaveProperty('point_id');
    }
  });
});

it('logIds: the same ids for a custom mixin, undefined outside a trace', async () => {
  expect(logIds()).toBeUndefined();
  const { run } = await import('@osprofiler/core');
  run({ hmacKey: KEY, baseId: 'B' }, () => traced('x', () => expect(logIds()).toEqual({ base_id: 'B', point_id: expect.any(String) })));
});
