import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { configure, MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentHttpClient, uninstrumentHttpClient } from '@osprofiler/node';
import { profiler } from '../src/index';
import { events, listen, loadExpress, request, signed, waitFor, type Running, type StoredEvent } from './support';

const KEY = 'SECRET_KEY';
const STORE = 'express-a-to-b';
const store = new MemoryDriver({}, STORE);

function httpGetJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

describe('A → B across two Express servers (A: Express 5 calling with fetch and http.get; B: Express 4)', () => {
  let a: Running;
  let b: Running;
  const bSaw: unknown[] = [];

  beforeAll(async () => {
    configure({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, service: 'orders' });
    instrumentHttpClient();

    const express4 = loadExpress('express4');
    const appB = express4();
    appB.use(profiler());
    appB.get('/stock/:sku', (req: any, res: any) => {
      bSaw.push(req.headers['x-trace-info']);
      res.json({ sku: req.params.sku, count: 3 });
    });
    b = await listen(appB);

    const express5 = loadExpress('express');
    const appA = express5();
    appA.use(profiler());
    appA.get('/orders/:id', async (req: any, res: any) => {
      const viaFetch = (await (await fetch(`${b.url}/stock/${req.params.id}?via=fetch`)).json()) as { count: number };
      const viaHttp = (await httpGetJson(`${b.url}/stock/${req.params.id}?via=http`)) as { count: number };
      res.json({ id: req.params.id, stock: viaFetch.count + viaHttp.count });
    });
    a = await listen(appA);
  });
  afterAll(async () => {
    uninstrumentHttpClient();
    await a?.close();
    await b?.close();
    await shutdown();
  });

  it("one trace: B's wsgi parent_id is A's rpc point trace_id, for fetch and http.get", async () => {
    const base = randomUUID();
    const r = await request(`${a.url}/orders/9`, { headers: signed(KEY, base, base) });
    expect(JSON.parse(r.body)).toEqual({ id: '9', stock: 6 });
    await waitFor(async () => (await events(store, base)).length === 10);
    const evts = await events(store, base);
    const starts = evts.filter((e) => e.name.endsWith('-start'));
    const byQuery = (q: string) => starts.find((e) => e.name === 'wsgi-start' && e.info.request.query === q) as StoredEvent;
    const aWsgi = byQuery('');
    const rpcs = starts.filter((e) => e.name === 'rpc-start');
    expect(rpcs).toHaveLength(2);
    for (const via of ['fetch', 'http']) {
      const bWsgi = byQuery(`via=${via}`);
      const rpc = rpcs.find((e) => String(e.info.request.url).endsWith(`via=${via}`)) as StoredEvent;
      expect(rpc.parent_id).toBe(aWsgi.trace_id);
      expect(bWsgi.parent_id).toBe(rpc.trace_id);
      expect(bWsgi.info.request.path).toBe('/stock/9');
    }
    const stops = evts.filter((e) => e.name === 'wsgi-stop').map((e) => e.info.request?.route);
    expect(stops.sort()).toEqual(['/orders/:id', '/stock/:sku', '/stock/:sku']);
    for (const e of evts) expect(e.base_id).toBe(base);
  });

  it('an untraced request to A sends no trace headers to B', async () => {
    bSaw.length = 0;
    const r = await request(`${a.url}/orders/1`);
    expect(JSON.parse(r.body)).toEqual({ id: '1', stock: 6 });
    expect(bSaw).toEqual([undefined, undefined]);
  });
});
