/**
 * Test helpers: Express copies by version, real servers on 127.0.0.1, signed headers,
 * and reading back what the memory:// store holds.
 */
import { createRequire } from 'node:module';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { flush, MemoryDriver, signedPack } from '@osprofiler/core';

const requireHere = createRequire(__filename);

/** The declared range's ends: lowest and highest Express 4 and 5 (aliases in devDependencies). */
export const EXPRESS_VERSIONS = ['express4-low', 'express4', 'express5-low', 'express'] as const;

export function loadExpress(name: string): any {
  return requireHere(name);
}

export function expressVersion(name: string): string {
  return (requireHere(`${name}/package.json`) as { version: string }).version;
}

export interface Running {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (ephemeral port); `close` ends open sockets too. */
export async function listen(handler: http.RequestListener): Promise<Running> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http (no tracing of the client side in these tests). */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; agent?: http.Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export function signed(key: string, baseId: string, parentId: string): Record<string, string> {
  const { info, hmac } = signedPack({ base_id: baseId, parent_id: parentId }, key);
  return { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac };
}

export interface StoredEvent {
  name: string;
  base_id: string;
  trace_id: string;
  parent_id: string;
  timestamp: string;
  info: Record<string, any>;
  project?: string | null;
  service?: string | null;
}

/** Flushes the notifier and returns the events of one trace in write order. */
export async function events(store: MemoryDriver, baseId: string): Promise<StoredEvent[]> {
  await flush();
  return store.rawEvents(baseId).map((l) => JSON.parse(l) as StoredEvent);
}

/** Waits (bounded) until `pred()` holds, flushing between tries. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await flush();
    if (await pred()) return;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Python-format timestamp to epoch ms (µs precision is enough here). */
export function tsMs(ts: string): number {
  return Date.parse(ts + 'Z');
}
