/**
 * Header-triggered tracing and core's contextIdleMs: once no traced request is at work the
 * trace context's async hooks go off (Node 20 otherwise runs AsyncLocalStorage's promise
 * hooks on every later request's promises), a request traced after that records all its
 * points across awaits, and a traced request still in flight keeps them on however long it
 * waits.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { configure, get, MemoryDriver, notifierStats, shutdown, traced } from '@osprofiler/core';
import { profiler } from '../src/index';
import { events, listen, loadExpress, request, signed, sleep, waitFor, type Running } from './support';

const KEY = 'SECRET_KEY';
const STORE = 'express-context-idle';
const store = new MemoryDriver({}, STORE);
let server: Running;
const SETTINGS = { enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, contextIdleMs: 40 };

beforeAll(async () => {
  configure(SETTINGS);
  const express = loadExpress('express');
  const app = express();
  app.use(profiler());
  app.get('/work', async (_req: any, res: any) => {
    await sleep(2);
    const n = await traced('step', {}, async () => {
      await sleep(2);
      return 1;
    });
    res.send(`done ${n}`);
  });
  app.get('/slow', async (_req: any, res: any) => {
    await sleep(250); // several idle intervals with the request's point open
    await traced('after-wait', {}, async () => sleep(1));
    res.send('slow');
  });
  app.get('/budget', async (_req: any, res: any) => {
    // Past maxTracePoints (2: wsgi and a), b is dropped and a's stop brings a `dropped` marker:
    // a stop without a start, which must not count as the request's point closing.
    await traced('a', {}, async () => traced('b', {}, async () => 1));
    await sleep(250);
    res.send(get()?.baseId ?? 'untraced');
  });
  server = await listen(app);
});
afterAll(async () => {
  await server.close();
  await shutdown();
});

const off = (): number => notifierStats()?.contextOff ?? 0;
/** Whether Node's AsyncLocalStorage here runs on async hooks (Node 20, 22), which core turns off; Node 24's AsyncContextFrame has none. */
const hooked = typeof (new AsyncLocalStorage() as unknown as { kResourceStore?: unknown }).kResourceStore === 'symbol';
/** After a traced request: the hooks went off for the `n`th time (past contextIdleMs); without hooks, nothing to turn off. */
async function quietSpell(n: number): Promise<void> {
  if (hooked) return waitFor(() => off() === n, 3000);
  await sleep(4 * SETTINGS.contextIdleMs);
  expect(off()).toBe(0);
}

async function tracedCall(path: string): Promise<{ body: string; names: string[]; base: string; wsgiTrace: string; parents: string[] }> {
  const base = randomUUID();
  const reply = await request(`${server.url}${path}`, { headers: signed(KEY, base, base) });
  let evts: Awaited<ReturnType<typeof events>> = [];
  await waitFor(async () => (evts = await events(store, base)).length >= 4);
  const wsgi = evts.find((e) => e.name === 'wsgi-start');
  return {
    body: reply.body,
    base,
    names: evts.map((e) => e.name).sort(),
    wsgiTrace: wsgi?.trace_id ?? '',
    parents: evts.filter((e) => e.name !== 'wsgi-start' && e.name !== 'wsgi-stop' && e.name.endsWith('-start')).map((e) => e.parent_id),
  };
}

it('turns the hooks off when no traced request is at work (where Node has them), and traces the next request whole', async () => {
  const first = await tracedCall('/work');
  expect(first.body).toBe('done 1');
  expect(first.names).toEqual(['step-start', 'step-stop', 'wsgi-start', 'wsgi-stop']);
  await quietSpell(1);
  // Untraced requests meanwhile are served as always.
  expect((await request(`${server.url}/work`)).body).toBe('done 1');
  const second = await tracedCall('/work');
  expect(second.body).toBe('done 1');
  expect(second.names).toEqual(['step-start', 'step-stop', 'wsgi-start', 'wsgi-stop']);
  expect(second.parents).toEqual([second.wsgiTrace]);
  await quietSpell(2);
});

it('keeps them on while a traced request waits, however long', async () => {
  const slow = await tracedCall('/slow');
  expect(slow.body).toBe('slow');
  expect(slow.names).toEqual(['after-wait-start', 'after-wait-stop', 'wsgi-start', 'wsgi-stop']);
  // Its point after the wait still found the request's context: the hooks stayed on.
  expect(slow.parents).toEqual([slow.wsgiTrace]);
});

it('a dropped marker (a stop without a start) does not count as the open request ending', async () => {
  configure({ ...SETTINGS, maxTracePoints: 2 });
  const base = randomUUID();
  const reply = await request(`${server.url}/budget`, { headers: signed(KEY, base, base) });
  expect(reply.body).toBe(base);
  let names: string[] = [];
  await waitFor(async () => (names = (await events(store, base)).map((e) => e.name).sort()).length >= 5);
  expect(names).toEqual(['a-start', 'a-stop', 'dropped-stop', 'wsgi-start', 'wsgi-stop']);
});
