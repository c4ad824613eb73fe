import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { startServer, type TestServer } from './support/servers';
import { inTrace, KEY } from './support/trace';

let rec: Recorder;
let srv: TestServer;

beforeAll(async () => {
  rec = recordPoints([KEY]);
  instrumentHttpClient({ traceRequests: true });
  srv = await startServer();
});

afterAll(async () => {
  uninstrumentHttpClient();
  await srv.close();
});

describe('global fetch in a trace (undici diagnostics channels, real server on 127.0.0.1)', () => {
  it('an rpc point under the current point; the request carries its signed headers', async () => {
    const t = await inTrace(async () => {
      const res = await fetch(`${srv.url}/items/3?page=2`, { method: 'POST', body: 'x', headers: { 'x-app': 'f' } });
      return { status: res.status, body: (await res.json()) as { trace: unknown; infoCount: number } };
    });
    await rec.settle();
    const [start] = rec.named('rpc-start', t.baseId);
    const stops = rec.named('rpc-stop', t.baseId);
    expect(start.parent_id).toBe(t.outerId);
    expect(start.info).toEqual({
      function: { name: `POST 127.0.0.1:${srv.port}/items/3` },
      request: { method: 'POST', url: `http://127.0.0.1:${srv.port}/items/3?page=2`, host: '127.0.0.1', port: srv.port },
      host: expect.any(String),
    });
    expect(stops).toHaveLength(1);
    expect(stops[0].trace_id).toBe(start.trace_id);
    expect(stops[0].info).toMatchObject({ response: { status_code: 200 } });
    expect(t.result.status).toBe(200);
    expect(t.result.body.infoCount).toBe(1);
    expect(t.result.body.trace).toEqual({ hmacKey: KEY, baseId: t.baseId, parentId: start.trace_id });
    expect(srv.seen.at(-1)!.headers['x-app']).toBe('f');
  });

  it('the point stops once the body is read, with the status (also for 404 and empty bodies)', async () => {
    const notFound = await startServer((req, res) => {
      req.resume();
      res.statusCode = req.url === '/empty' ? 204 : 404;
      res.end();
    });
    try {
      const t = await inTrace(async () => {
        const a = await fetch(`${notFound.url}/missing`);
        await a.arrayBuffer();
        const b = await fetch(`${notFound.url}/empty`, { method: 'HEAD' });
        return [a.status, b.status];
      });
      expect(t.result).toEqual([404, 204]);
      await rec.settle();
      const stops = rec.named('rpc-stop', t.baseId).map((e) => (e.info as unknown as { response: { status_code: number } }).response.status_code);
      expect(stops).toEqual([404, 204]);
    } finally {
      await notFound.close();
    }
  });

  it("respects the caller's own X-Trace-Info (never doubled)", async () => {
    const t = await inTrace(async () => {
      const res = await fetch(`${srv.url}/own`, { headers: { 'X-Trace-Info': 'mine', 'X-Trace-HMAC': 'mine' } });
      return (await res.json()) as { infoCount: number; info: string };
    });
    expect(t.result).toMatchObject({ infoCount: 1, info: 'mine' });
  });

  it('outside a trace: no headers and no points', async () => {
    await rec.settle();
    const before = rec.events.length;
    const body = (await (await fetch(`${srv.url}/plain`)).json()) as { trace: unknown; info: unknown };
    expect(body).toMatchObject({ trace: null, info: null });
    await rec.settle();
    expect(rec.events.length).toBe(before);
  });

  it('many fetches from one point: each gets its own rpc point and headers', async () => {
    const t = await inTrace(() =>
      Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const res = await fetch(`${srv.url}/n/${i}`);
          return (await res.json()) as { trace: { parentId: string }; url: string };
        }),
      ),
    );
    await rec.settle();
    const starts = rec.named('rpc-start', t.baseId);
    expect(starts).toHaveLength(10);
    const byPath = new Map(starts.map((s) => [(s.info as unknown as { request: { url: string } }).request.url.replace(srv.url, ''), s.trace_id]));
    for (const r of t.result) expect(r.trace.parentId).toBe(byPath.get(r.url));
    expect(rec.named('rpc-stop', t.baseId)).toHaveLength(10);
  });
});
