/**
 * The trace-search contract (Driver.searchTraces), run the same way against every
 * readable store. A store's test calls `searchContract(...)` inside its describe();
 * the traces it writes have fresh base ids, and every check looks only at those (so
 * other data in a shared store cannot change a result).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Driver, Notification, SearchOptions, TraceSummary } from '@osprofiler/core';

const MS = 1000;

/** `2026-01-01T00:00:00.000000` + offset in µs, Python's format. */
export function ts(baseMs: number, offsetUs = 0): string {
  const us = baseMs * MS + offsetUs;
  const d = new Date(Math.floor(us / MS));
  return d.toISOString().slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
}

interface P {
  name: string;
  trace: string;
  parent: string;
  start: number;
  stop: number;
  service: string;
  project?: string;
  host?: string;
  startInfo?: Record<string, unknown>;
  stopInfo?: Record<string, unknown>;
}

function notes(baseId: string, t0: number, points: P[]): Notification[] {
  const out: Notification[] = [];
  for (const p of points) {
    const parent = p.parent === 'BASE' ? baseId : p.parent;
    const common = { base_id: baseId, trace_id: p.trace, parent_id: parent, project: p.project ?? 'shop', service: p.service };
    out.push({ ...common, name: `${p.name}-start`, timestamp: ts(t0, p.start), info: { ...(p.startInfo ?? {}), host: p.host ?? 'h1' } });
    out.push({ ...common, name: `${p.name}-stop`, timestamp: ts(t0, p.stop), info: { ...(p.stopInfo ?? {}), host: p.host ?? 'h1' } });
  }
  return out;
}

export interface SearchFixture {
  /** Batches to write in order (a trace may span batches, as with several services). */
  batches: Notification[][];
  ids: { orders: string; pay: string; job: string; health: string[] };
  t0: number;
}

/** Eight traces one second apart (orders, pay, job, then five health checks), newest = last health check. */
export function searchFixture(t0 = Date.UTC(2026, 0, 1, 12, 0, 0) + Math.floor(Math.random() * 1e6) * 1000): SearchFixture {
  const orders = randomUUID();
  const pay = randomUUID();
  const job = randomUUID();
  const health = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const tr = () => randomUUID();
  const w1 = tr();
  const ordersPoints = notes(orders, t0, [
    { name: 'wsgi', trace: w1, parent: 'BASE', start: 0, stop: 120_000, service: 'api', startInfo: { request: { method: 'GET', path: '/orders/42', query: '', scheme: 'http' } }, stopInfo: { request: { route: '/orders/:id' }, response: { status_code: 200 } } },
    { name: 'sql', trace: tr(), parent: w1, start: 10_000, stop: 90_000, service: 'api', startInfo: { db: { statement: 'SELECT * FROM orders WHERE id = $1', pool_wait_ms: 3 } } },
  ]);
  const w2 = tr();
  const r2 = tr();
  const payApi = notes(pay, t0 + 1000, [
    { name: 'wsgi', trace: w2, parent: 'BASE', start: 0, stop: 300_000, service: 'api', host: 'h2', startInfo: { request: { method: 'POST', path: '/pay', query: '', scheme: 'http' } }, stopInfo: { etype: 'ValueError', message: 'card declined' } },
    { name: 'rpc', trace: r2, parent: w2, start: 5_000, stop: 290_000, service: 'api', host: 'h2', startInfo: { function: { name: 'POST billing:80/charge' } } },
  ]);
  const payBilling = notes(pay, t0 + 1000, [
    { name: 'wsgi', trace: tr(), parent: r2, start: 20_000, stop: 280_000, service: 'billing', project: 'money', host: 'h3', startInfo: { request: { method: 'POST', path: '/charge', query: '', scheme: 'http' } } },
  ]);
  const d3 = tr();
  const jobPoints = notes(job, t0 + 2000, [
    { name: 'driver', trace: d3, parent: 'BASE', start: 0, stop: 5_000, service: 'worker', startInfo: { function: { name: 'jobs.run' } } },
    { name: 'exec', trace: tr(), parent: d3, start: 1_000, stop: 4_000, service: 'worker', startInfo: { function: { name: 'convert' }, exec: { command: 'convert in.png out.jpg' } }, stopInfo: { exec: { exit_code: 0 } } },
  ]);
  const healthPoints = health.map((id, i) =>
    notes(id, t0 + 3000 + i * 1000, [
      { name: 'wsgi', trace: tr(), parent: 'BASE', start: 0, stop: 1_000, service: 'api', startInfo: { request: { method: 'GET', path: '/health', query: '', scheme: 'http' } } },
    ]),
  );
  return {
    batches: [[...ordersPoints, ...payApi], [...jobPoints, ...payBilling], healthPoints.flat()],
    ids: { orders, pay, job, health },
    t0,
  };
}

export interface ContractStore {
  driver: () => Driver;
  /** Stores the batches (through the driver's normal write path) and waits until readable. */
  write: (batches: Notification[][]) => Promise<void>;
}

/** Registers the contract's cases (call inside a describe, after the store is set up in beforeAll). */
export function searchContract(store: ContractStore): void {
  let fx: SearchFixture;
  let mine: Set<string>;
  const search = async (o: SearchOptions = {}): Promise<TraceSummary[]> => {
    // The fixture's traces lie in their own one-minute window; every search is bounded to it.
    const page = await store.driver().searchTraces!({ since: fx.t0, until: fx.t0 + 60_000, limit: 100, ...o });
    return page.traces.filter((t) => mine.has(t.base_id));
  };
  const ids = (l: TraceSummary[]) => l.map((t) => t.base_id);

  it('search: stores the fixture', async () => {
    fx = searchFixture();
    mine = new Set([fx.ids.orders, fx.ids.pay, fx.ids.job, ...fx.ids.health]);
    await store.write(fx.batches);
    expect(typeof store.driver().searchTraces).toBe('function');
  });

  it('search: newest first, summary fields', async () => {
    const all = await search();
    expect(ids(all)).toEqual([...[...fx.ids.health].reverse(), fx.ids.job, fx.ids.pay, fx.ids.orders]);
    const orders = all.find((t) => t.base_id === fx.ids.orders)!;
    expect(orders).toMatchObject({ root_name: 'wsgi', root_service: 'api', root_detail: 'GET /orders/:id', points: 2, error: false, indexed: true });
    expect(orders.duration_ms).toBeCloseTo(120, 3);
    expect(orders.started).toBe(ts(fx.t0));
    expect(orders.timestamp).toBe(ts(fx.t0));
    const pay = all.find((t) => t.base_id === fx.ids.pay)!;
    expect(pay).toMatchObject({ root_name: 'wsgi', root_service: 'api', root_detail: 'POST /pay', points: 3, error: true });
    expect([...pay.services!].sort()).toEqual(['api', 'billing']);
    expect([...pay.projects!].sort()).toEqual(['money', 'shop']);
    expect(pay.duration_ms).toBeCloseTo(300, 3);
    const job = all.find((t) => t.base_id === fx.ids.job)!;
    expect(job).toMatchObject({ root_name: 'driver', root_detail: 'jobs.run', services: ['worker'], points: 2 });
  });

  it('search: each filter', async () => {
    expect(ids(await search({ service: 'billing' }))).toEqual([fx.ids.pay]);
    expect(ids(await search({ service: 'worker' }))).toEqual([fx.ids.job]);
    expect(ids(await search({ project: 'money' }))).toEqual([fx.ids.pay]);
    expect(ids(await search({ root: 'driver' }))).toEqual([fx.ids.job]);
    expect(ids(await search({ host: 'h3' }))).toEqual([fx.ids.pay]);
    expect(ids(await search({ errorsOnly: true }))).toEqual([fx.ids.pay]);
    expect(ids(await search({ minDurationMs: 100 }))).toEqual([fx.ids.pay, fx.ids.orders]);
    expect(ids(await search({ minDurationMs: 100, maxDurationMs: 200 }))).toEqual([fx.ids.orders]);
    expect(ids(await search({ maxDurationMs: 2 }))).toEqual([...fx.ids.health].reverse());
    expect(ids(await search({ since: fx.t0 + 1000, until: fx.t0 + 2000 }))).toEqual([fx.ids.job, fx.ids.pay]);
    expect(ids(await search({ text: 'from ORDERS' }))).toEqual([fx.ids.orders]);
    expect(ids(await search({ text: 'card declined' }))).toEqual([fx.ids.pay]);
    expect(ids(await search({ text: 'convert in.png' }))).toEqual([fx.ids.job]);
    expect(ids(await search({ service: 'api', errorsOnly: false, text: '/health' }))).toEqual([...fx.ids.health].reverse());
  });

  it('search: cursor pages go through everything once, and stay stable while traces arrive', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    let added = false;
    do {
      const page = await store.driver().searchTraces!({ since: fx.t0, until: fx.t0 + 60_000, limit: 3, cursor });
      seen.push(...page.traces.map((t) => t.base_id).filter((id) => mine.has(id)));
      cursor = page.cursor ?? undefined;
      if (!added) {
        // A newer trace arriving between pages must not shift the next page.
        added = true;
        const late = searchFixture(fx.t0 + 30_000);
        await store.write([late.batches[2]]);
      }
      pages++;
    } while (cursor !== undefined && pages < 20);
    expect(seen).toEqual([...[...fx.ids.health].reverse(), fx.ids.job, fx.ids.pay, fx.ids.orders]);
    await expect(store.driver().searchTraces!({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
    // A filtered search pages the same way (one hit a page).
    const filtered: string[] = [];
    let c: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.driver().searchTraces!({ since: fx.t0, until: fx.t0 + 60_000, minDurationMs: 100, limit: 1, cursor: c });
      filtered.push(...page.traces.map((t) => t.base_id).filter((id) => mine.has(id)));
      if (page.cursor === null) break;
      c = page.cursor;
    }
    expect(filtered).toEqual([fx.ids.pay, fx.ids.orders]);
  });
}
