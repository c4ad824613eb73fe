// A `wsgi` stop info shared and frozen for a status and route seen again (kit/stop-infos.ts):
// the same content as a fresh object every time; from the second stop on one frozen object a
// status and route; slots that collide never share; and, through createHttpTracer on a real
// loopback server, the stop events of finished, failed and extra-carrying requests.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { responseStopInfo } from '../src/kit/stop-infos';
import { createHttpTracer, httpState, noteHttpError, type HttpRequestState } from '../src/kit/http-server';
import { runtime, type PointSink } from '../src/runtime';
import { contained } from '../src/kit/contained';

const fresh = (status: number, route: string | undefined): object =>
  route === undefined ? { response: { status_code: status } } : { response: { status_code: status }, request: { route } };

describe('responseStopInfo', () => {
  it('first a fresh object, then one frozen object a status and route, always the same content', () => {
    const a = responseStopInfo(200, '/stop-infos/a/:id');
    const b = responseStopInfo(200, '/stop-infos/a/:id');
    const c = responseStopInfo(200, '/stop-infos/a/:id');
    for (const i of [a, b, c]) {
      expect(i).toEqual(fresh(200, '/stop-infos/a/:id'));
      expect(JSON.stringify(i)).toBe(JSON.stringify(fresh(200, '/stop-infos/a/:id')));
    }
    expect(Object.isFrozen(a)).toBe(false);
    expect(Object.isFrozen(b)).toBe(true);
    expect(Object.isFrozen((b as { response: object }).response)).toBe(true);
    expect(Object.isFrozen((b as { request: object }).request)).toBe(true);
    expect(c).toBe(b);
  });

  it('without a route: only the response, shared the same way', () => {
    responseStopInfo(404, undefined);
    const x = responseStopInfo(404, undefined);
    expect(x).toEqual({ response: { status_code: 404 } });
    expect(Object.keys(x)).toEqual(['response']);
    expect(responseStopInfo(404, undefined)).toBe(x);
  });

  it('status and route are both part of what is shared; colliding slots never share', () => {
    const cases: [number, string | undefined][] = [
      [200, '/r/:id'], [201, '/r/:id'], [200, '/s/:id'], [200, undefined], [500, '/r/:id'],
      // Same length and last character (one slot hash), statuses differing by the slot count.
      [200, '/x1/q'], [200, '/y2/q'], [264, '/x1/q'], [136, '/x1/q'],
    ];
    for (let round = 0; round < 6; round++) {
      for (const [status, route] of cases) {
        const got = responseStopInfo(status, route);
        expect(got).toEqual(fresh(status, route));
      }
    }
  });
});

describe('the stop event of a request through createHttpTracer', () => {
  type Ev = { phase: number; name: string; info: object | undefined };
  let saved: PointSink;
  let evs: Ev[] = [];
  let server: http.Server;
  let port = 0;
  let mode: 'ok' | 'error' | 'extra' = 'ok';
  const tracer = createHttpTracer(
    {
      name: 'stopinfos',
      packageName: '@osprofiler/core (test)',
      contained: contained('stopinfos'),
      routeAtFinish: (req) => (req.url?.startsWith('/items/') ? '/items/:id' : undefined),
      opened: (state: HttpRequestState) => {
        if (mode === 'extra') state.extra = { nest: { controller: 'C', handler: 'h' } };
      },
    },
    { enabled: true, hmacKeys: ['stop-infos-key'], sampling: '1/1' },
  )!;

  beforeAll(async () => {
    saved = runtime.sink;
    runtime.sink = { point: (phase, name, _b, _t, _p, info) => void evs.push({ phase, name, info }) };
    server = http.createServer((req, res) => {
      const point = tracer.begin(req, res);
      point!.run(() => {
        if (mode === 'error') noteHttpError(httpState(req)!, new Error('boom'));
        res.statusCode = req.url === '/missing' ? 404 : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    evs = [];
    mode = 'ok';
  });
  afterAll(() => {
    runtime.sink = saved;
  });

  const get = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => setImmediate(resolve));
      });
      req.on('error', reject);
    });
  const stops = (): object[] => evs.filter((e) => e.phase === 1 && e.name === 'wsgi').map((e) => e.info as object);

  it('a finished request: the route and status, one shared info from the second request on', async () => {
    for (let i = 0; i < 3; i++) await get(`/items/${i}`);
    await get('/missing');
    await get('/missing');
    const s = stops();
    expect(s).toHaveLength(5);
    for (const i of s.slice(0, 3)) expect(i).toEqual({ response: { status_code: 200 }, request: { route: '/items/:id' } });
    expect(s[2]).toBe(s[1]);
    expect(s[3]).toEqual({ response: { status_code: 404 } });
    expect(s[4]).toEqual({ response: { status_code: 404 } });
  });

  it('a failed request: the error merged, never the shared info', async () => {
    mode = 'error';
    for (let i = 0; i < 3; i++) await get(`/items/${i}`);
    const s = stops();
    expect(s).toHaveLength(3);
    for (const i of s) {
      expect(i).toMatchObject({ response: { status_code: 200 }, request: { route: '/items/:id' }, etype: 'Error', message: 'boom' });
      expect(Object.isFrozen(i)).toBe(false);
    }
  });

  it("an adapter's extra stop info: kept, in a fresh object every time", async () => {
    mode = 'extra';
    for (let i = 0; i < 3; i++) await get(`/items/${i}`);
    const s = stops();
    expect(s).toHaveLength(3);
    for (const i of s) {
      expect(i).toEqual({ response: { status_code: 200 }, request: { route: '/items/:id' }, nest: { controller: 'C', handler: 'h' } });
      expect(Object.isFrozen(i)).toBe(false);
    }
    expect(s[2]).not.toBe(s[1]);
  });
});
