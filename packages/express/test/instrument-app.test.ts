import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { configure, MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentApp, instrumentExpress, isExpressInstrumented } from '../src/index';
import { EXPRESS_VERSIONS, events, listen, loadExpress, request, signed, waitFor, type Running } from './support';

const STORE = 'express-instrument-app';
const store = new MemoryDriver({}, STORE);

beforeAll(() => {
  configure({ enabled: true, hmacKeys: ['SECRET_KEY'], connectionString: `memory://${STORE}`, flushIntervalMs: 5 });
});
afterAll(async () => {
  await shutdown();
});

describe.each(EXPRESS_VERSIONS)('%s: instrumentApp(app) instead of the middleware', (name) => {
  const express = loadExpress(name);
  let server: Running;
  beforeAll(async () => {
    const app = express();
    app.get('/x/:id', (_req: any, res: any) => res.send('x'));
    app.get('/fail', () => {
      throw new RangeError('nope');
    });
    app.set('env', 'test');
    expect(instrumentApp(app)).toBe(true);
    expect(instrumentApp(app)).toBe(false); // once
    server = await listen(app);
  });
  afterAll(async () => server?.close());

  it('traces signed requests with route and error; others untouched', async () => {
    const a = randomUUID();
    const b = randomUUID();
    expect((await request(`${server.url}/x/1?q`, { headers: signed('SECRET_KEY', a, a) })).body).toBe('x');
    expect((await request(`${server.url}/fail`, { headers: signed('SECRET_KEY', b, b) })).status).toBe(500);
    expect((await request(`${server.url}/x/2`)).body).toBe('x');
    await waitFor(async () => (await events(store, a)).length === 2 && (await events(store, b)).length === 2);
    const [start, stop] = await events(store, a);
    expect(start.info.request).toEqual({ path: '/x/1', query: 'q', method: 'GET', scheme: 'http' });
    expect(stop.info).toMatchObject({ response: { status_code: 200 }, request: { route: '/x/:id' } });
    expect((await events(store, b))[1].info).toMatchObject({ response: { status_code: 500 }, etype: 'RangeError', message: 'nope' });
    expect((await store.listTraces()).map((t) => t.base_id).sort()).toEqual([a, b].sort());
    store.clear();
  });
});

describe('instrumentExpress', () => {
  it('rejects what is not an Express module, and instruments one only once', () => {
    expect(instrumentExpress({})).toBe(false);
    expect(instrumentExpress(() => undefined)).toBe(false);
    const express = loadExpress('express5-low');
    expect(isExpressInstrumented(express)).toBe(false);
    expect(instrumentExpress(express)).toBe(true);
    expect(instrumentExpress(express)).toBe(false);
    expect(isExpressInstrumented(express)).toBe(true);
  });
});
