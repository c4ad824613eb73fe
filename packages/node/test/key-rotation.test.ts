import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extract, get, run, traced } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { readBody } from './support/servers';
import { inTrace } from './support/trace';

/**
 * Key rotation (the spec's five steps) with three services whose key sets overlap:
 * S1 accepts OLD, S2 accepts OLD then NEW, S3 accepts NEW. A hop signs its outgoing calls
 * with the key that matched on the way in — never with its first or newest key.
 */
interface Hop {
  service: string;
  traced: boolean;
  matched?: string;
  baseId?: string;
  parentId?: string;
  down?: Hop;
}

let rec: Recorder;
const servers: http.Server[] = [];
const ports: Record<string, number> = {};

const viaHttp = (url: string) =>
  new Promise<Hop>((resolve, reject) => http.get(url, (res) => void readBody(res).then((b) => resolve(JSON.parse(b)), reject)).on('error', reject));
const viaFetch = async (url: string) => (await (await fetch(url)).json()) as Hop;

/** `/hop?next=S2,S3`: answer, after calling the next service in the list (fetch and http.get in turn). */
async function handle(service: string, keys: string[], req: http.IncomingMessage): Promise<Hop> {
  const url = new URL(req.url ?? '/', 'http://x');
  const rest = (url.searchParams.get('next') ?? '').split(',').filter(Boolean);
  const callNext = async (): Promise<Hop | undefined> => {
    if (rest.length === 0) return undefined;
    const target = `http://127.0.0.1:${ports[rest[0]]}/hop?next=${rest.slice(1).join(',')}`;
    return rest.length % 2 === 0 ? viaFetch(target) : viaHttp(target);
  };
  const t = extract(req.headers, keys);
  if (t === undefined) return { service, traced: false, down: await callNext() };
  return run(t, () =>
    traced('wsgi', { request: { method: req.method, path: url.pathname } }, async () => {
      const p = get()!;
      return { service, traced: true, matched: p.hmacKey, baseId: p.baseId, parentId: t.parentId ?? undefined, down: await callNext() };
    }),
  );
}

async function startService(service: string, keys: string[]): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    void handle(service, keys, req).then(
      (hop) => res.end(JSON.stringify(hop)),
      (err: Error) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ service, error: err.message }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  ports[service] = (server.address() as AddressInfo).port;
  servers.push(server);
}

beforeAll(async () => {
  rec = recordPoints(['OLD', 'NEW']);
  instrumentHttpClient({ traceRequests: true });
  await startService('S1', ['OLD']);
  await startService('S2', ['OLD', 'NEW']);
  await startService('S3', ['NEW']);
});

afterAll(async () => {
  uninstrumentHttpClient();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** Sends the first hop signed with `key` and flattens the answer chain. */
async function chain(key: string, first: string, rest: string[]) {
  const t = await inTrace(() => viaFetch(`http://127.0.0.1:${ports[first]}/hop?next=${rest.join(',')}`), key);
  const hops: Hop[] = [];
  for (let h: Hop | undefined = t.result; h !== undefined; h = h.down) hops.push(h);
  await rec.settle();
  return { ...t, hops };
}

/** Each traced hop's parent is an rpc point of the same trace (the caller's call to it). */
function expectLinked(baseId: string, hops: Hop[]) {
  const rpcIds = new Set(rec.named('rpc-start', baseId).map((e) => e.trace_id));
  for (const h of hops.filter((x) => x.traced)) {
    expect(h.baseId).toBe(baseId);
    expect(rpcIds.has(h.parentId!)).toBe(true);
  }
}

describe('key rotation across three services (old; old+new; new)', () => {
  it('signed with OLD: S1 → S2 → S1, every hop matched OLD and signed with it', async () => {
    const c = await chain('OLD', 'S1', ['S2', 'S1']);
    expect(c.hops.map((h) => [h.service, h.traced, h.matched])).toEqual([
      ['S1', true, 'OLD'],
      ['S2', true, 'OLD'],
      ['S1', true, 'OLD'],
    ]);
    expectLinked(c.baseId, c.hops);
  });

  it('signed with NEW: S3 → S2 → S3, every hop matched NEW and signed with it', async () => {
    const c = await chain('NEW', 'S3', ['S2', 'S3']);
    expect(c.hops.map((h) => [h.service, h.traced, h.matched])).toEqual([
      ['S3', true, 'NEW'],
      ['S2', true, 'NEW'],
      ['S3', true, 'NEW'],
    ]);
    expectLinked(c.baseId, c.hops);
  });

  it('S2 (old+new) passes a trace on with the key that matched, not its first key', async () => {
    // NEW came in, so S2 signs with NEW: S1 (OLD only) cannot continue it and serves it untraced.
    const a = await chain('NEW', 'S2', ['S1']);
    expect(a.hops.map((h) => [h.service, h.traced, h.matched])).toEqual([
      ['S2', true, 'NEW'],
      ['S1', false, undefined],
    ]);
    // OLD came in, so S2 signs with OLD: S3 (NEW only) cannot continue it.
    const b = await chain('OLD', 'S2', ['S3']);
    expect(b.hops.map((h) => [h.service, h.traced, h.matched])).toEqual([
      ['S2', true, 'OLD'],
      ['S3', false, undefined],
    ]);
  });

  it('the five steps: during rotation every service accepts both, so either key reaches all of them', async () => {
    // Step 2/3 state: S1 and S3 have added the other key too (S2 models that state above);
    // here the same chain goes S2 → S2 → S2 with each key.
    for (const key of ['OLD', 'NEW']) {
      const c = await chain(key, 'S2', ['S2', 'S2']);
      expect(c.hops.map((h) => h.matched)).toEqual([key, key, key]);
      expectLinked(c.baseId, c.hops);
    }
  });
});
