import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { join } from 'node:path';
import { configure, flush, MemoryDriver, shutdown, trace } from '@osprofiler/core';
import { fastifyFailureCounts, fastifyProfiler, instrumentFastify, isFastifyInstrumented } from '../src/index';
import { httpGet, signedHeaders } from '../../../tools/testing/http';

// Real Fastify 5 (this package's devDependency) and Fastify 4 (test/fixtures/fastify4, its
// own install tree), each serving on 127.0.0.1; points read back from a memory:// store.
const KEY = 'FASTIFY_KEY';
const STORE = `fastify-adapter-${process.pid}`;
const store = new MemoryDriver({}, STORE);
const VERSIONS: Array<[string, string]> = [
  ['5', __filename],
  ['4', join(__dirname, 'fixtures/fastify4/package.json')],
];

beforeAll(() => {
  configure({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, service: 'fastify-api' });
});
afterAll(async () => {
  await shutdown();
});

interface Ev {
  name: string;
  trace_id: string;
  parent_id: string;
  info: Record<string, any>;
}

const signed = (baseId: string): Record<string, string> => signedHeaders(baseId, KEY);

const get = httpGet;

/** The trace's events once `n` of them are stored (bounded wait). */
async function events(baseId: string, n: number): Promise<Ev[]> {
  const end = Date.now() + 5000;
  for (;;) {
    await flush();
    const evts = store.rawEvents(baseId).map((l) => JSON.parse(l) as Ev);
    if (evts.length >= n || Date.now() > end) return evts;
    await new Promise((t) => setTimeout(t, 10));
  }
}

const one = (evts: Ev[], name: string): Ev => {
  const found = evts.filter((e) => e.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

const lookUp = trace('db')(async function lookUp(id: string) {
  return { id };
});

describe.each(VERSIONS)('Fastify %s', (major, from) => {
  const fastify = createRequire(from)('fastify') as (opts?: object) => any;
  let app: any;
  let port: number;

  beforeAll(async () => {
    app = fastify();
    expect(app.version.split('.')[0]).toBe(major);
    expect(instrumentFastify(app)).toBe(true);
    expect(instrumentFastify(app)).toBe(false); // once per instance
    expect(isFastifyInstrumented(app)).toBe(true);
    app.get('/users/:id', async (req: any) => {
      // Work inside the handler nests under the request's point.
      return lookUp(req.params.id);
    });
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    await app.register(async (child: any) => {
      child.addHook('preHandler', async () => {
        const err = new Error('no token') as Error & { statusCode: number };
        err.statusCode = 401;
        throw err;
      });
      child.get('/private/:thing', async () => 'secret');
    });
    app.get('/hang', () => new Promise(() => {})); // never replies: the client goes away
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = app.server.address().port;
  });
  afterAll(async () => {
    await app.close();
  });

  it('a signed request is a wsgi point with the route template; handler work nests inside', async () => {
    const base = randomUUID();
    expect(await get(port, '/users/42?full=1', signed(base))).toEqual({ status: 200, body: JSON.stringify({ id: '42' }) });
    const evts = await events(base, 4);
    const start = one(evts, 'wsgi-start');
    expect(start.info.request).toEqual({ path: '/users/42', query: 'full=1', method: 'GET', scheme: 'http' });
    expect(one(evts, 'wsgi-stop').info).toEqual({ response: { status_code: 200 }, request: { route: '/users/:id' }, host: expect.any(String) });
    expect(one(evts, 'db-start').parent_id).toBe(start.trace_id);
  });

  it('an error thrown by a handler is recorded, with the status Fastify sent', async () => {
    const base = randomUUID();
    expect((await get(port, '/boom', signed(base))).status).toBe(500);
    const stop = one(await events(base, 2), 'wsgi-stop');
    expect(stop.info).toMatchObject({ etype: 'Error', message: 'boom', response: { status_code: 500 }, request: { route: '/boom' } });
  });

  it('an error thrown by a hook (preHandler) is recorded', async () => {
    const base = randomUUID();
    expect((await get(port, '/private/x', signed(base))).status).toBe(401);
    const stop = one(await events(base, 2), 'wsgi-stop');
    expect(stop.info).toMatchObject({ etype: 'Error', message: 'no token', response: { status_code: 401 }, request: { route: '/private/:thing' } });
  });

  it('no route: 404 without a route template', async () => {
    const base = randomUUID();
    expect((await get(port, '/nowhere', signed(base))).status).toBe(404);
    const stop = one(await events(base, 2), 'wsgi-stop');
    expect(stop.info).toEqual({ response: { status_code: 404 }, host: expect.any(String) });
  });

  it('the client goes away before a response: the point stops once, aborted', async () => {
    const base = randomUUID();
    const h = signed(base);
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write(`GET /hang HTTP/1.1\r\nHost: x\r\nX-Trace-Info: ${h['X-Trace-Info']}\r\nX-Trace-HMAC: ${h['X-Trace-HMAC']}\r\n\r\n`);
        setTimeout(() => sock.destroy(), 50);
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    const evts = await events(base, 2);
    await new Promise((t) => setTimeout(t, 60)); // a second stop would show up here
    expect(one(await events(base, 2), 'wsgi-stop').info).toEqual({ response: { aborted: true }, request: { route: '/hang' }, host: expect.any(String) });
    expect(evts.length).toBe(2);
  });

  it('unsigned and forged requests are served the same and store nothing', async () => {
    const base = randomUUID();
    const h = signed(base);
    h['X-Trace-HMAC'] = '0'.repeat(40);
    expect(await get(port, '/users/7', h)).toEqual({ status: 200, body: JSON.stringify({ id: '7' }) });
    expect(await get(port, '/users/7')).toEqual({ status: 200, body: JSON.stringify({ id: '7' }) });
    expect(await events(base, 0)).toEqual([]);
    expect(fastifyFailureCounts()).toEqual({});
  });
});

describe('as a plugin', () => {
  it('app.register(fastifyProfiler) instruments the whole instance (not encapsulated)', async () => {
    const app = (createRequire(__filename)('fastify') as (o?: object) => any)();
    await app.register(fastifyProfiler, { ignorePaths: ['/healthz'] });
    expect(isFastifyInstrumented(app)).toBe(true);
    await app.register(async (child: any) => {
      child.get('/in/:x', async () => 'ok');
    }, { prefix: '/child' });
    app.get('/healthz', async () => 'up');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = app.server.address().port;
      const base = randomUUID();
      expect(await get(port, '/child/in/1', signed(base))).toEqual({ status: 200, body: 'ok' });
      expect(one(await events(base, 2), 'wsgi-stop').info).toMatchObject({ request: { route: '/child/in/:x' }, response: { status_code: 200 } });
      const ignored = randomUUID();
      expect(await get(port, '/healthz', signed(ignored))).toEqual({ status: 200, body: 'up' });
      expect(await events(ignored, 0)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
