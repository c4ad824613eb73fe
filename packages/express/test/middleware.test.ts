import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { configure, MemoryDriver, shutdown, traced } from '@osprofiler/core';
import { expressFailureCounts, profiler } from '../src/index';
import { EXPRESS_VERSIONS, events, expressVersion, listen, loadExpress, request, signed, sleep, tsMs, waitFor, type Running, type StoredEvent } from './support';

const KEY = 'SECRET_KEY';
const STORE = 'express-middleware';
const store = new MemoryDriver({}, STORE);

beforeAll(() => {
  configure({ enabled: true, hmacKeys: [KEY, 'OLD_KEY'], connectionString: `memory://${STORE}`, flushIntervalMs: 5, service: 'api' });
});
afterAll(async () => {
  await shutdown();
});

function pair(evts: StoredEvent[], name = 'wsgi'): { start: StoredEvent; stop: StoredEvent } {
  const start = evts.filter((e) => e.name === `${name}-start`);
  const stop = evts.filter((e) => e.name === `${name}-stop`);
  expect(start).toHaveLength(1);
  expect(stop).toHaveLength(1);
  return { start: start[0], stop: stop[0] };
}

function ids(): { base: string; parent: string } {
  return { base: randomUUID(), parent: randomUUID() };
}

describe.each(EXPRESS_VERSIONS)('%s', (name) => {
  const express = loadExpress(name);
  const major = Number(expressVersion(name).split('.')[0]);
  const seenErrors: unknown[] = [];
  let server: Running;
  let bare: Running; // the same routes without any error middleware

  function routes(app: any): void {
    app.get('/hello', (_req: any, res: any) => res.send('hi'));
    const users = express.Router();
    users.get('/users/:id', (req: any, res: any) => res.json({ id: req.params.id }));
    users.get('/', (_req: any, res: any) => res.send('root'));
    const v1 = express.Router();
    v1.use('/v1', users);
    app.use('/api', v1);
    app.get('/async', async (_req: any, res: any) => {
      await sleep(30);
      res.send('late');
    });
    app.get('/late', (_req: any, res: any) => {
      setTimeout(() => res.send('late'), 40);
    });
    app.get('/inner', async (_req: any, res: any) => {
      const v = await traced('driver', { function: { name: 'lookup' } }, async () => {
        await sleep(5);
        return 42;
      });
      res.send(String(v));
    });
    app.get('/throw', () => {
      throw new TypeError('bad input');
    });
    app.get('/next-err', (_req: any, _res: any, next: any) => {
      setTimeout(() => next(new RangeError('out of range')), 5);
    });
    app.get('/stream', (_req: any, res: any) => {
      let i = 0;
      res.write('a');
      const t = setInterval(() => {
        res.write('b');
        if (++i === 3) {
          clearInterval(t);
          res.end('c');
        }
      }, 15);
    });
    app.get('/endless', (_req: any, res: any) => {
      res.write('x');
      const t = setInterval(() => res.write('y'), 10);
      res.on('close', () => clearInterval(t));
    });
    app.get('/hang', (_req: any, res: any) => {
      const t = setTimeout(() => res.end('never seen'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    if (major >= 5) {
      app.get('/reject', async () => {
        await sleep(5);
        throw new SyntaxError('rejected later');
      });
    }
  }

  beforeAll(async () => {
    const app = express();
    app.use(profiler());
    routes(app);
    app.use((err: any, _req: any, res: any, _next: any) => {
      seenErrors.push(err);
      res.status(err instanceof TypeError ? 400 : 500).send(`handled ${err.name}`);
    });
    server = await listen(app);

    const app2 = express();
    app2.use(profiler());
    routes(app2);
    app2.set('env', 'test'); // finalhandler: no stack trace on stderr

    bare = await listen(app2);
  });
  afterAll(async () => {
    await server?.close();
    await bare?.close();
  });

  it('traces a signed request: wsgi start info as Python, parent from the header, status and route on stop', async () => {
    const { base, parent } = ids();
    const r = await request(`${server.url}/api/v1/users/7?x=1&y=%20z`, { headers: signed(KEY, base, parent) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ id: '7' });
    await waitFor(async () => (await events(store, base)).length === 2);
    const { start, stop } = pair(await events(store, base));
    expect(start.base_id).toBe(base);
    expect(start.parent_id).toBe(parent);
    expect(stop.trace_id).toBe(start.trace_id);
    expect(start.info).toEqual({ request: { path: '/api/v1/users/7', query: 'x=1&y=%20z', method: 'GET', scheme: 'http' }, host: expect.any(String) });
    expect(stop.info).toEqual({ response: { status_code: 200 }, request: { route: '/api/v1/users/:id' }, host: expect.any(String) });
    expect(start.service).toBe('api');
  });

  it('a root route of a mounted router is reported as the mount path', async () => {
    const { base, parent } = ids();
    await request(`${server.url}/api/v1/`, { headers: signed(KEY, base, parent) });
    await waitFor(async () => (await events(store, base)).length === 2);
    expect(pair(await events(store, base)).stop.info.request).toEqual({ route: '/api/v1' });
  });

  it('accepts the second key (rotation) and a 404 has no route', async () => {
    const { base, parent } = ids();
    const r = await request(`${server.url}/nope`, { headers: signed('OLD_KEY', base, parent) });
    expect(r.status).toBe(404);
    await waitFor(async () => (await events(store, base)).length === 2);
    expect(pair(await events(store, base)).stop.info).toEqual({ response: { status_code: 404 }, host: expect.any(String) });
  });

  it('no header, a wrong key or a bad signature: served untraced', async () => {
    const before = (await store.listTraces()).length;
    const { base, parent } = ids();
    const plain = await request(`${server.url}/hello`);
    const wrong = await request(`${server.url}/hello`, { headers: signed('WRONG', base, parent) });
    const h = signed(KEY, base, parent);
    h['X-Trace-HMAC'] = h['X-Trace-HMAC'].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const forged = await request(`${server.url}/hello`, { headers: h });
    for (const r of [plain, wrong, forged]) expect([r.status, r.body]).toEqual([200, 'hi']);
    await sleep(20);
    expect((await events(store, base)).length).toBe(0);
    expect((await store.listTraces()).length).toBe(before);
  });

  it('points made inside the request are children of the wsgi point', async () => {
    const { base, parent } = ids();
    const r = await request(`${server.url}/inner`, { headers: signed(KEY, base, parent) });
    expect(r.body).toBe('42');
    await waitFor(async () => (await events(store, base)).length === 4);
    const evts = await events(store, base);
    const wsgi = pair(evts);
    const driver = pair(evts, 'driver');
    expect(driver.start.parent_id).toBe(wsgi.start.trace_id);
    expect(evts.map((e) => e.name)).toEqual(['wsgi-start', 'driver-start', 'driver-stop', 'wsgi-stop']);
  });

  it.each(['/async', '/late'])('%s: the point ends when the response finishes, not when the handler returns', async (path) => {
    const { base, parent } = ids();
    const r = await request(`${server.url}${path}`, { headers: signed(KEY, base, parent) });
    expect(r.body).toBe('late');
    await waitFor(async () => (await events(store, base)).length === 2);
    const { start, stop } = pair(await events(store, base));
    expect(tsMs(stop.timestamp) - tsMs(start.timestamp)).toBeGreaterThanOrEqual(25);
    expect(stop.info.response).toEqual({ status_code: 200 });
  });

  it('streaming response: stops after the last chunk', async () => {
    const { base, parent } = ids();
    const r = await request(`${server.url}/stream`, { headers: signed(KEY, base, parent) });
    expect(r.body).toBe('abbbc');
    await waitFor(async () => (await events(store, base)).length === 2);
    const { start, stop } = pair(await events(store, base));
    expect(tsMs(stop.timestamp) - tsMs(start.timestamp)).toBeGreaterThanOrEqual(40);
    expect(stop.info).toEqual({ response: { status_code: 200 }, request: { route: '/stream' }, host: expect.any(String) });
  });

  it('a thrown error is recorded and reaches the error middleware unchanged', async () => {
    const { base, parent } = ids();
    seenErrors.length = 0;
    const r = await request(`${server.url}/throw`, { headers: signed(KEY, base, parent) });
    expect([r.status, r.body]).toEqual([400, 'handled TypeError']);
    expect(seenErrors).toHaveLength(1);
    expect((seenErrors[0] as Error).message).toBe('bad input');
    await waitFor(async () => (await events(store, base)).length === 2);
    expect(pair(await events(store, base)).stop.info).toEqual({
      response: { status_code: 400 },
      request: { route: '/throw' },
      etype: 'TypeError',
      message: 'bad input',
      host: expect.any(String),
    });
  });

  it('next(err) from a callback is recorded; untraced, the app sees the same error', async () => {
    const { base, parent } = ids();
    seenErrors.length = 0;
    const traced1 = await request(`${server.url}/next-err`, { headers: signed(KEY, base, parent) });
    const untraced = await request(`${server.url}/next-err`);
    expect(traced1.status).toBe(500);
    expect([untraced.status, untraced.body]).toEqual([traced1.status, traced1.body]);
    expect(seenErrors.map((e) => (e as Error).message)).toEqual(['out of range', 'out of range']);
    await waitFor(async () => (await events(store, base)).length === 2);
    expect(pair(await events(store, base)).stop.info).toMatchObject({ response: { status_code: 500 }, etype: 'RangeError', message: 'out of range' });
  });

  it('an error with no error middleware (Express final handler) is recorded too', async () => {
    // This is the bare app's first traced request: the error hooks must work for it too.
    const { base, parent } = ids();
    const traced1 = await request(`${bare.url}/throw`, { headers: signed(KEY, base, parent) });
    const untraced = await request(`${bare.url}/throw`);
    expect(traced1.status).toBe(500);
    // The error page holds the stack trace, whose frames differ when traced: compare up to it.
    const head = (body: string) => body.split('<br>')[0];
    expect(head(traced1.body)).toContain('TypeError: bad input');
    expect([untraced.status, head(untraced.body)]).toEqual([traced1.status, head(traced1.body)]);
    await waitFor(async () => (await events(store, base)).length === 2);
    expect(pair(await events(store, base)).stop.info).toMatchObject({ response: { status_code: 500 }, etype: 'TypeError', message: 'bad input' });
  });

  // Express 4 does not catch rejected promises (they become unhandled rejections), so only 5.
  if (major >= 5) {
    it('an async handler that rejects (Express 5) is recorded', async () => {
      const { base, parent } = ids();
      seenErrors.length = 0;
      const r = await request(`${server.url}/reject`, { headers: signed(KEY, base, parent) });
      expect([r.status, r.body]).toEqual([500, 'handled SyntaxError']);
      await waitFor(async () => (await events(store, base)).length === 2);
      expect(pair(await events(store, base)).stop.info).toMatchObject({ etype: 'SyntaxError', message: 'rejected later', request: { route: '/reject' } });
    });
  }

  async function disconnectMidway(path: string, afterFirstByte: boolean): Promise<StoredEvent> {
    const { base, parent } = ids();
    const h = signed(KEY, base, parent);
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect(server.port, '127.0.0.1', () => {
        sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace-Info: ${h['X-Trace-Info']}\r\nX-Trace-HMAC: ${h['X-Trace-HMAC']}\r\n\r\n`);
        if (!afterFirstByte) setTimeout(() => sock.destroy(), 30);
      });
      sock.once('data', () => {
        if (afterFirstByte) setTimeout(() => sock.destroy(), 30);
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    await waitFor(async () => (await events(store, base)).length >= 2);
    await sleep(60); // a second stop would show up here
    const evts = await events(store, base);
    return pair(evts).stop;
  }

  it('client disconnects mid-stream: the point stops exactly once, marked aborted, with the status sent', async () => {
    const stop = await disconnectMidway('/endless', true);
    expect(stop.info).toEqual({ response: { status_code: 200, aborted: true }, request: { route: '/endless' }, host: expect.any(String) });
  });

  it('client disconnects before any response: stops once, aborted, no status', async () => {
    const stop = await disconnectMidway('/hang', false);
    expect(stop.info).toEqual({ response: { aborted: true }, request: { route: '/hang' }, host: expect.any(String) });
  });

  it('several concurrent traced requests keep their own points', async () => {
    const all = Array.from({ length: 20 }, () => ids());
    await Promise.all(all.map(({ base, parent }, i) => request(`${server.url}/api/v1/users/${i}`, { headers: signed(KEY, base, parent) })));
    await waitFor(async () => {
      for (const { base } of all) if ((await events(store, base)).length !== 2) return false;
      return true;
    });
    for (const { base, parent } of all) {
      const { start } = pair(await events(store, base));
      expect(start.parent_id).toBe(parent);
    }
  });
});

describe('options', () => {
  const express = loadExpress('express');

  async function withApp(mw: any, fn: (s: Running) => Promise<void>): Promise<void> {
    const app = express();
    app.use(mw);
    app.get('/hello', (_req: any, res: any) => res.send('hi'));
    app.get('/healthz', (_req: any, res: any) => res.send('ok'));
    app.get('/internal/metrics', (_req: any, res: any) => res.send('m'));
    const s = await listen(app);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  it('no header: the request reaches the app untouched (no marker, no listeners, no context)', async () => {
    const { get } = await import('@osprofiler/core');
    const probe = (withProfiler: boolean) => {
      const app = express();
      if (withProfiler) app.use(profiler());
      app.get('/probe', (req: any, res: any) =>
        res.json({
          symbols: Object.getOwnPropertySymbols(req).map(String),
          routeIsData: 'value' in (Object.getOwnPropertyDescriptor(req, 'route') ?? { value: 1 }),
          finish: res.listenerCount('finish'),
          close: res.listenerCount('close'),
          traced: get() !== undefined,
        }),
      );
      return listen(app);
    };
    const [a, b] = await Promise.all([probe(true), probe(false)]);
    try {
      const withMw = JSON.parse((await request(`${a.url}/probe`)).body);
      const without = JSON.parse((await request(`${b.url}/probe`)).body);
      expect(withMw).toEqual(without);
      expect(withMw.traced).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('enabled: false gives a plain pass-through middleware, decided at setup', async () => {
    const mw = profiler({ enabled: false });
    expect(mw.name).toBe('osprofilerDisabled');
    await withApp(mw, async (s) => {
      const { base, parent } = ids();
      expect((await request(`${s.url}/hello`, { headers: signed(KEY, base, parent) })).body).toBe('hi');
      await sleep(20);
      expect(await events(store, base)).toEqual([]);
    });
  });

  it('ignorePaths: exact paths, patterns and predicates are never traced', async () => {
    const mw = profiler({ ignorePaths: ['/healthz', /^\/internal\//, (req) => req.headers['x-skip'] === '1'] });
    await withApp(mw, async (s) => {
      const cases = [
        ['/healthz?probe=1', {}],
        ['/internal/metrics', {}],
        ['/hello', { 'x-skip': '1' }],
      ] as const;
      const bases: string[] = [];
      for (const [path, extra] of cases) {
        const { base, parent } = ids();
        bases.push(base);
        expect((await request(`${s.url}${path}`, { headers: { ...signed(KEY, base, parent), ...extra } })).status).toBe(200);
      }
      const { base, parent } = ids();
      await request(`${s.url}/hello`, { headers: signed(KEY, base, parent) });
      await waitFor(async () => (await events(store, base)).length === 2);
      for (const b of bases) expect(await events(store, b)).toEqual([]);
    });
  });

  it('addInfo adds start info (cannot replace request); a throwing hook is contained', async () => {
    const good = profiler({ addInfo: (req) => ({ tenant: req.headers['x-tenant'], request: 'ignored' }) });
    await withApp(good, async (s) => {
      const { base, parent } = ids();
      await request(`${s.url}/hello`, { headers: { ...signed(KEY, base, parent), 'x-tenant': 'acme' } });
      await waitFor(async () => (await events(store, base)).length === 2);
      const { start } = pair(await events(store, base));
      expect(start.info).toEqual({ request: { path: '/hello', query: '', method: 'GET', scheme: 'http' }, tenant: 'acme', host: expect.any(String) });
    });
    const bad = profiler({
      addInfo: () => {
        throw new Error('hook bug');
      },
    });
    await withApp(bad, async (s) => {
      const { base, parent } = ids();
      expect((await request(`${s.url}/hello`, { headers: signed(KEY, base, parent) })).body).toBe('hi');
      await waitFor(async () => (await events(store, base)).length === 2);
    });
    expect(expressFailureCounts().addInfo).toBe(1); // contained, counted, one warning
  });

  it('maxHeaderBytes: longer trace headers are ignored', async () => {
    await withApp(profiler({ maxHeaderBytes: 100 }), async (s) => {
      const { base, parent } = ids();
      expect((await request(`${s.url}/hello`, { headers: signed(KEY, base, parent) })).body).toBe('hi');
      await sleep(20);
      expect(await events(store, base)).toEqual([]);
    });
    expect(() => profiler({ maxHeaderBytes: 0 })).toThrow(/maxHeaderBytes/);
  });

  it('hmacKeys override the configured keys', async () => {
    await withApp(profiler({ hmacKeys: ['ONLY_THIS'] }), async (s) => {
      const a = ids();
      const b = ids();
      await request(`${s.url}/hello`, { headers: signed(KEY, a.base, a.parent) });
      await request(`${s.url}/hello`, { headers: signed('ONLY_THIS', b.base, b.parent) });
      await waitFor(async () => (await events(store, b.base)).length === 2);
      expect(await events(store, a.base)).toEqual([]);
    });
  });

  it('sampling: every N-th request without a header starts a trace (signed with the first key)', async () => {
    await withApp(profiler({ sampling: '1/2' }), async (s) => {
      const before = new Set((await store.listTraces()).map((t) => t.base_id));
      for (let i = 0; i < 6; i++) expect((await request(`${s.url}/hello`)).body).toBe('hi');
      await waitFor(async () => (await store.listTraces()).filter((t) => !before.has(t.base_id)).length === 3);
      const fresh = (await store.listTraces()).filter((t) => !before.has(t.base_id));
      for (const t of fresh) {
        const { start } = pair(await events(store, t.base_id));
        expect(start.parent_id).toBe(t.base_id);
      }
    });
    expect(() => profiler({ sampling: 'often' })).toThrow(/sampling/);
  });

  it('two middlewares (or a mounted sub-app) trace a request once', async () => {
    const app = express();
    app.use(profiler());
    const sub = express();
    sub.use(profiler());
    sub.get('/x/:n', (_req: any, res: any) => res.send('sub'));
    app.use('/sub', sub);
    const s = await listen(app);
    try {
      const { base, parent } = ids();
      expect((await request(`${s.url}/sub/x/1`, { headers: signed(KEY, base, parent) })).body).toBe('sub');
      await waitFor(async () => (await events(store, base)).length === 2);
      await sleep(20);
      const { start, stop } = pair(await events(store, base));
      expect(start.info.request.path).toBe('/sub/x/1');
      expect(stop.info.request).toEqual({ route: '/sub/x/:n' });
    } finally {
      await s.close();
    }
  });
});
