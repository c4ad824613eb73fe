import * as http from 'node:http';
import { flush, signedPack, type MemoryDriver } from '@osprofiler/core';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
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
}

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

/** Headers that differ between any two responses (date) are left out of comparisons. */
export function comparable(r: Reply): { status: number; headers: Record<string, unknown>; body: string } {
  const { date: _date, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body.toString('latin1') };
}
