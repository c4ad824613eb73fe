/**
 * Operating always-on (issue 16), end to end through a real Express app: the sampling
 * cap holds under a burst, a signed header wins over it, and the response header names
 * the trace's base_id when (and only when) it is switched on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { configure, flush, MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentHttpClient, uninstrumentHttpClient } from '@osprofiler/node';
import { profiler } from '../src/index';
import { events, listen, loadExpress, request, signed, type Running } from './support';

const KEY = 'ops-key';
const express = loadExpress('express');
let server: Running | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  await shutdown();
});

async function app(storeName: string, options: Record<string, unknown>): Promise<MemoryDriver> {
  configure({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${storeName}`, flushIntervalMs: 5, ...options });
  const a = express();
  a.use(profiler());
  a.get('/work', (_req: any, res: any) => res.send('done'));
  server = await listen(a);
  return new MemoryDriver({}, storeName);
}

describe('responseTraceHeader', () => {
  it('off by default: a traced response carries no extra header', async () => {
    const store = await app('ops-hdr-off', {});
    const base = randomUUID();
    const r = await request(`${server!.url}/work`, { headers: signed(KEY, base, base) });
    expect(r.body).toBe('done');
    expect(r.headers['x-osprofiler-base-id']).toBeUndefined();
    expect((await events(store, base)).map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
  });

  it('on: a traced response names its base_id (signed or sampled); an untraced one does not', async () => {
    const store = await app('ops-hdr-on', { responseTraceHeader: true, sampling: '1/2' });
    const base = randomUUID();
    const continued = await request(`${server!.url}/work`, { headers: signed(KEY, base, randomUUID()) });
    expect(continued.headers['x-osprofiler-base-id']).toBe(base);
    // Sampling every 2nd request: one of the two gets a new trace, and its header finds it.
    const [a, b] = [await request(`${server!.url}/work`), await request(`${server!.url}/work`)];
    const ids = [a, b].map((r) => r.headers['x-osprofiler-base-id']).filter((v): v is string => typeof v === 'string');
    expect(ids).toHaveLength(1);
    expect((await events(store, ids[0])).map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
    // Forged header, sampling's turn is not up: untraced, no header, same body.
    const forged = await request(`${server!.url}/work`, { headers: signed('wrong-key', base, base) });
    expect(forged.body).toBe('done');
    expect([a.body, b.body]).toEqual(['done', 'done']);
  });

  it('a custom name, from the environment variable', async () => {
    process.env.OSPROFILER_RESPONSE_TRACE_HEADER = 'X-Trace-Id';
    try {
      await app('ops-hdr-env', {});
    } finally {
      delete process.env.OSPROFILER_RESPONSE_TRACE_HEADER;
    }
    const base = randomUUID();
    const r = await request(`${server!.url}/work`, { headers: signed(KEY, base, base) });
    expect(r.headers['x-trace-id']).toBe(base);
  });
});

describe('sampling cap under a burst', () => {
  it('2,000 requests as fast as they go: sampled <= cap * elapsed + burst; signed requests always traced', async () => {
    const CAP = 20;
    const store = await app('ops-burst', { sampling: { maxPerSecond: CAP }, responseTraceHeader: true });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const N = 2000;
    const sampled = new Set<string>();
    let done = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (done < N) {
        done++;
        const r = await request(`${server!.url}/work`, { agent });
        expect(r.body).toBe('done');
        const id = r.headers['x-osprofiler-base-id'];
        if (typeof id === 'string') sampled.add(id);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    // The burst is one second's worth (CAP). At least the burst went through.
    expect(sampled.size).toBeGreaterThanOrEqual(CAP);
    expect(sampled.size).toBeLessThanOrEqual(Math.floor(CAP * elapsed) + CAP);
    expect(sampled.size).toBeLessThan(N / 2);
    // Every sampled trace is stored; the header named it.
    await flush();
    const listed = new Set((await store.listTraces()).map((t) => t.base_id));
    for (const id of sampled) expect(listed.has(id)).toBe(true);
    expect(listed.size).toBe(sampled.size);

    // The bucket is empty now: a signed header still wins, and takes no token.
    for (let i = 0; i < 5; i++) {
      const base = randomUUID();
      const r = await request(`${server!.url}/work`, { agent, headers: signed(KEY, base, base) });
      expect(r.headers['x-osprofiler-base-id']).toBe(base);
      expect((await events(store, base)).map((e) => e.name)).toEqual(['wsgi-start', 'wsgi-stop']);
    }
    agent.destroy();
  });
});

describe('decided once, at the entry point', () => {
  it('B continues the trace A sampled even with its own cap used up, and never samples it again', async () => {
    const store = await app('ops-a-to-b', {});
    await server!.close();
    instrumentHttpClient();
    try {
      const appB = express();
      appB.use(profiler({ sampling: '0.01/s' }));
      appB.get('/stock', (_req: any, res: any) => res.send('3'));
      const b = await listen(appB);
      const appA = express();
      appA.use(profiler({ sampling: '0.01/s' }));
      appA.get('/order', async (_req: any, res: any) => res.send(`stock ${await (await fetch(`${b.url}/stock`)).text()}`));
      server = await listen(appA);
      try {
        // Each bucket holds one token and refills in 100 s: B's goes to a direct request.
        const direct = await listTraces(store, () => request(`${b.url}/stock`));
        expect(direct).toHaveLength(1);
        expect(await listTraces(store, () => request(`${b.url}/stock`))).toHaveLength(0);
        // A samples (its first token): one trace, spanning A and B.
        const first = await listTraces(store, async () => expect((await request(`${server!.url}/order`)).body).toBe('stock 3'));
        expect(first).toHaveLength(1);
        const names = (await events(store, first[0])).map((e) => e.name);
        expect(names.filter((n) => n === 'wsgi-start')).toHaveLength(2);
        expect(names).toContain('rpc-start');
        // A's bucket is empty now too: the next order is untraced on both sides.
        expect(await listTraces(store, () => request(`${server!.url}/order`))).toHaveLength(0);
      } finally {
        await b.close();
      }
    } finally {
      uninstrumentHttpClient();
    }
  });
});

/** The base ids of the traces `fn` added to `store`. */
async function listTraces(store: MemoryDriver, fn: () => Promise<unknown>): Promise<string[]> {
  await flush();
  const before = new Set((await store.listTraces()).map((t) => t.base_id));
  await fn();
  await flush();
  return (await store.listTraces()).map((t) => t.base_id).filter((id) => !before.has(id));
}
