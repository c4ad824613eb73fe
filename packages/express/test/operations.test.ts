/**
 * Operating always-on (issue 16), end to end through a real Express app: the sampling
 * cap holds under a burst, a signed header wins over it, and the response header names
 * the trace's base_id when (and only when) it is switched on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { configure, flush, MemoryDriver, shutdown } from '@osprofiler/core';
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
