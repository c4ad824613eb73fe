/** The traces the viewer tests look at, written by Node's redis:// driver and by Python's. */
import { randomUUID } from 'node:crypto';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import type { Driver, Notification } from '@osprofiler/core';
import type { Redis } from 'ioredis';
import { runPeer } from '../../../core/test/support/python-peer';

export const EVIL = '</script><!--<img src=x onerror="window.__pwned=1"><b>bold</b>';
/** Names are cut at the first '-' by the report builder: this one keeps its markup without dashes. */
export const EVIL_NAME = 'evil</script><img src=x onerror=window.__pwned=1>';

/** Python's timestamp format for epoch ms (µs precision). */
export function pyTs(ms: number): string {
  const us = Math.round(ms * 1000);
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
}

export interface P {
  name: string;
  id?: string;
  parent: string;
  start: number;
  stop: number;
  service: string;
  project?: string;
  host?: string;
  startInfo?: Record<string, unknown>;
  stopInfo?: Record<string, unknown>;
}

export function events(baseId: string, points: P[]): Notification[] {
  const out: Notification[] = [];
  for (const p of points) {
    const common = { base_id: baseId, trace_id: p.id ?? randomUUID(), parent_id: p.parent, project: p.project ?? 'shop', service: p.service };
    out.push({ ...common, name: `${p.name}-start`, timestamp: pyTs(p.start), info: { ...(p.startInfo ?? {}), host: p.host ?? 'node-a' } });
    out.push({ ...common, name: `${p.name}-stop`, timestamp: pyTs(p.stop), info: { ...(p.stopInfo ?? {}), host: p.host ?? 'node-a' } });
  }
  return out;
}

export async function store(driver: Driver, batch: Notification[]): Promise<void> {
  await driver.notifyLines!(linesOfNotifications(batch));
}

/**
 * One trace across three services: api (Node) → rpc → billing (Node, with an SQL point)
 * → pysvc (Python, stored by Python's own redis driver, with a failing leaf).
 */
export async function mixedTrace(driver: Driver, redis: Redis, redisUrl: string): Promise<{ baseId: string; billingWsgi: string }> {
  const baseId = randomUUID();
  const apiWsgi = randomUUID();
  const rpc = randomUUID();
  const billingWsgi = randomUUID();
  const r = runPeer(['emit', '--key', 'K', '--connection', redisUrl, '--base-id', baseId, '--parent-id', billingWsgi, '--service', 'pysvc', '--project', 'pyproj', '--error']);
  if (r.status !== 0) throw new Error(`python peer emit failed: ${r.stderr}`);
  const stored = await redis.lrange(`osprofiler_opt:${baseId}`, 0, -1);
  if (stored.length === 0) throw new Error('Python stored nothing');
  const times = stored.map((l) => Date.parse((JSON.parse(l) as { timestamp: string }).timestamp.slice(0, 23) + 'Z'));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  await store(
    driver,
    events(baseId, [
      { name: 'wsgi', id: apiWsgi, parent: baseId, start: t0 - 40, stop: t1 + 30, service: 'api', startInfo: { request: { method: 'GET', path: '/checkout/7', query: '', scheme: 'http' } }, stopInfo: { request: { route: '/checkout/:id' }, response: { status_code: 200 } } },
      { name: 'rpc', id: rpc, parent: apiWsgi, start: t0 - 30, stop: t1 + 20, service: 'api', startInfo: { function: { name: 'POST billing:80/charge' }, request: { method: 'POST', url: 'http://billing:80/charge', host: 'billing', port: 80 } }, stopInfo: { response: { status_code: 200 } } },
      { name: 'wsgi', id: billingWsgi, parent: rpc, start: t0 - 20, stop: t1 + 10, service: 'billing', host: 'node-b', startInfo: { request: { method: 'POST', path: '/charge', query: '', scheme: 'http' } }, stopInfo: { request: { route: '/charge' }, response: { status_code: 200 } } },
      { name: 'sql', parent: billingWsgi, start: t0 - 15, stop: t0 - 5, service: 'billing', host: 'node-b', startInfo: { db: { statement: 'SELECT * FROM invoices WHERE id = $1', pool_wait_ms: 4 } } },
    ]),
  );
  return { baseId, billingWsgi };
}

/** Two traces of one route, one fast and one slow with an extra SQL and a cache point. */
export async function comparePair(driver: Driver, t: number): Promise<{ fast: string; slow: string }> {
  const fast = randomUUID();
  const slow = randomUUID();
  const tree = (baseId: string, t0: number, sqls: number[], cache: boolean): Notification[] => {
    const w = randomUUID();
    const pts: P[] = [{ name: 'wsgi', id: w, parent: baseId, start: t0, stop: t0 + 10 + sqls.reduce((a, b) => a + b, 0) + (cache ? 30 : 0), service: 'api', startInfo: { request: { method: 'GET', path: '/orders/1', query: '', scheme: 'http' } } }];
    let at = t0 + 2;
    for (const d of sqls) {
      pts.push({ name: 'sql', parent: w, start: at, stop: at + d, service: 'api', startInfo: { db: { statement: `SELECT ${d}` } } });
      at += d + 1;
    }
    if (cache) pts.push({ name: 'cache', parent: w, start: at, stop: at + 25, service: 'api' });
    return events(baseId, pts);
  };
  await store(driver, [...tree(fast, t, [3, 4], false), ...tree(slow, t + 1000, [3, 40, 5], true)]);
  return { fast, slow };
}

/** Untrusted markup in every field the page shows. */
export async function evilTrace(driver: Driver, t: number): Promise<string> {
  const baseId = randomUUID();
  const w = randomUUID();
  await store(
    driver,
    events(baseId, [
      { name: 'wsgi', id: w, parent: baseId, start: t, stop: t + 50, service: EVIL, project: EVIL, host: EVIL, startInfo: { request: { method: EVIL, path: EVIL, query: EVIL, scheme: 'http' } }, stopInfo: { request: { route: EVIL }, etype: EVIL, message: EVIL } },
      { name: EVIL_NAME, parent: w, start: t + 5, stop: t + 20, service: EVIL, host: EVIL, startInfo: { db: { statement: EVIL, pool_wait_ms: EVIL }, exec: { command: EVIL }, function: { name: EVIL }, [EVIL]: EVIL } },
    ]),
  );
  return baseId;
}

/** A child that starts before its parent: points from two hosts whose clocks differ. */
export async function skewedTrace(driver: Driver, t: number): Promise<string> {
  const baseId = randomUUID();
  const w = randomUUID();
  await store(
    driver,
    events(baseId, [
      { name: 'wsgi', id: w, parent: baseId, start: t, stop: t + 100, service: 'api', host: 'node-a' },
      { name: 'wsgi', parent: w, start: t - 30, stop: t + 40, service: 'billing', host: 'node-b' },
    ]),
  );
  return baseId;
}
