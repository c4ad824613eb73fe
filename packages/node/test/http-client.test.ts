import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { closedPort, readBody, selfSignedCert, startHttpsServer, startServer, type Cert, type TestServer } from './support/servers';
import { inTrace, KEY } from './support/trace';

let rec: Recorder;
let srv: TestServer;
let cert: Cert;
let tls: TestServer;
const originals = { request: http.request, get: http.get, srequest: https.request, sget: https.get };

beforeAll(async () => {
  rec = recordPoints([KEY]);
  instrumentHttpClient({ traceRequests: true });
  srv = await startServer();
  cert = selfSignedCert();
  tls = await startHttpsServer(cert);
});

afterAll(async () => {
  uninstrumentHttpClient();
  await srv.close();
  await tls.close();
});

type Call = (cb: (res: http.IncomingMessage) => void) => http.ClientRequest;

/** Makes the call, waits for the whole answer, returns the echo JSON. */
function answer(call: Call): Promise<{ trace: { baseId: string; parentId: string; hmacKey: string } | null; infoCount: number; url: string }> {
  return new Promise((resolve, reject) => {
    const req = call((res) => readBody(res).then((b) => resolve(JSON.parse(b)), reject));
    req.on('error', reject);
  });
}

/** One rpc point under `outerId`, its headers at the server, and its info. */
async function expectRpc(baseId: string, outerId: string, seen: { trace: { baseId: string; parentId: string; hmacKey: string } | null; infoCount: number }, path: string, method = 'GET', server = srv) {
  await rec.settle();
  const starts = rec.named('rpc-start', baseId);
  const stops = rec.named('rpc-stop', baseId);
  expect(starts).toHaveLength(1);
  expect(stops).toHaveLength(1);
  const start = starts[0];
  expect(start.parent_id).toBe(outerId);
  expect(stops[0].trace_id).toBe(start.trace_id);
  const q = path.indexOf('?');
  const scheme = server.url.startsWith('https') ? 'https:' : 'http:';
  expect(start.info).toMatchObject({
    function: { name: `${method} 127.0.0.1:${server.port}${q < 0 ? path : path.slice(0, q)}` },
    request: { method, url: `${scheme}//127.0.0.1:${server.port}${path}`, host: '127.0.0.1', port: server.port },
  });
  expect(stops[0].info).toMatchObject({ response: { status_code: 200 } });
  expect(seen.infoCount).toBe(1);
  // The receiving side verifies the headers and continues under the rpc point.
  expect(seen.trace).toEqual({ hmacKey: KEY, baseId, parentId: start.trace_id });
  return start;
}

describe('http.request / http.get / https in a trace (real servers on 127.0.0.1)', () => {
  it('keeps the exported functions recognisable (name and length)', () => {
    expect(http.request).not.toBe(originals.request);
    expect(http.request.name).toBe('request');
    expect(http.get.name).toBe('get');
    expect(http.request.length).toBe(3);
    expect(https.request.name).toBe('request');
    expect(https.get.length).toBe(originals.sget.length);
  });

  it('http.request(options, cb): an rpc point, and the request carries its signed headers', async () => {
    const t = await inTrace(() =>
      answer((cb) => {
        const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/orders/7?full=1', method: 'post', headers: { 'x-app': 'a' } }, cb);
        req.end('body');
        return req;
      }),
    );
    await expectRpc(t.baseId, t.outerId, t.result, '/orders/7?full=1', 'POST');
    expect(srv.seen.at(-1)!.headers['x-app']).toBe('a');
  });

  it('http.request(url string, cb) and (URL, options, cb) and (url, undefined, cb)', async () => {
    const a = await inTrace(() => answer((cb) => http.request(`${srv.url}/a`, cb).end()));
    await expectRpc(a.baseId, a.outerId, a.result, '/a');
    const b = await inTrace(() => answer((cb) => http.request(new URL(`${srv.url}/b?x=1`), { method: 'PUT' }, cb).end()));
    await expectRpc(b.baseId, b.outerId, b.result, '/b?x=1', 'PUT');
    const c = await inTrace(() => answer((cb) => http.request(`${srv.url}/c`, undefined as unknown as http.RequestOptions, cb).end()));
    await expectRpc(c.baseId, c.outerId, c.result, '/c');
  });

  it('http.get(url, cb) and http.get(options, cb): one point each (get does not go through the wrapped request twice)', async () => {
    const a = await inTrace(() => answer((cb) => http.get(`${srv.url}/get-a`, cb)));
    await expectRpc(a.baseId, a.outerId, a.result, '/get-a');
    const b = await inTrace(() => answer((cb) => http.get({ hostname: '127.0.0.1', port: srv.port, path: '/get-b' }, cb)));
    await expectRpc(b.baseId, b.outerId, b.result, '/get-b');
  });

  it('https.request and https.get to a self-signed server', async () => {
    const a = await inTrace(() =>
      answer((cb) => https.request({ host: '127.0.0.1', port: tls.port, path: '/tls', ca: cert.cert, method: 'GET' }, cb).end()),
    );
    await expectRpc(a.baseId, a.outerId, a.result, '/tls', 'GET', tls);
    const b = await inTrace(() => answer((cb) => https.get(`${tls.url}/tls-get?q=2`, { ca: cert.cert }, cb)));
    await expectRpc(b.baseId, b.outerId, b.result, '/tls-get?q=2', 'GET', tls);
  });

  it('never records credentials: userinfo is dropped from the url (and still sent as Authorization)', async () => {
    const t = await inTrace(() => answer((cb) => http.get(`http://alice:s3cret@127.0.0.1:${srv.port}/private?a=1`, cb)));
    const start = await expectRpc(t.baseId, t.outerId, t.result, '/private?a=1');
    expect(JSON.stringify(start.info)).not.toContain('s3cret');
    expect(JSON.stringify(start.info)).not.toContain('alice');
    expect(srv.seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  });

  it("respects the caller's own X-Trace-Info/X-Trace-HMAC (never overwritten, never doubled)", async () => {
    const t = await inTrace(() =>
      answer((cb) => http.get({ host: '127.0.0.1', port: srv.port, path: '/own', headers: { 'x-trace-info': 'mine', 'X-Trace-HMAC': 'mine' } }, cb)),
    );
    expect(t.result.infoCount).toBe(1);
    expect(srv.seen.at(-1)!.info).toBe('mine');
    await rec.settle();
    expect(rec.named('rpc-start', t.baseId)).toHaveLength(1);
  });

  it('raw header arrays (flat and paired) get the headers appended', async () => {
    // Node sends an array as is (no Host added), so the arrays carry their own Host.
    const host = `127.0.0.1:${srv.port}`;
    const flat = ['Host', host, 'x-app', 'flat'];
    const a = await inTrace(() =>
      answer((cb) => http.request({ host: '127.0.0.1', port: srv.port, path: '/flat', headers: flat as unknown as http.OutgoingHttpHeaders }, cb).end()),
    );
    await expectRpc(a.baseId, a.outerId, a.result, '/flat');
    expect(srv.seen.at(-1)!.headers['x-app']).toBe('flat');
    expect(flat).toHaveLength(4);
    const paired = [['Host', host], ['x-app', 'paired']];
    const b = await inTrace(() =>
      answer((cb) => http.request({ host: '127.0.0.1', port: srv.port, path: '/paired', headers: paired as unknown as http.OutgoingHttpHeaders }, cb).end()),
    );
    await expectRpc(b.baseId, b.outerId, b.result, '/paired');
    expect(srv.seen.at(-1)!.headers['x-app']).toBe('paired');
  });

  it("does not modify the caller's options object", async () => {
    const headers = { 'x-app': 'same' };
    const options = { host: '127.0.0.1', port: srv.port, path: '/same', headers };
    await inTrace(() => answer((cb) => http.get(options, cb)));
    expect(options).toEqual({ host: '127.0.0.1', port: srv.port, path: '/same', headers: { 'x-app': 'same' } });
  });

  it('a response nobody listens to is still discarded by Node, and the point stops', async () => {
    const t = await inTrace(
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(`${srv.url}/ignored`);
          req.on('close', () => resolve());
        }),
    );
    await rec.settle();
    expect(rec.named('rpc-stop', t.baseId)).toHaveLength(1);
    expect(rec.named('rpc-stop', t.baseId)[0].info).toMatchObject({ response: { status_code: 200 } });
  });

  it('a response that breaks off mid-body stops the point with the status and an error', async () => {
    const breaking = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    try {
      const t = await inTrace(
        () =>
          new Promise<void>((resolve) => {
            http.get(`${breaking.url}/partial`, (res) => {
              res.resume();
              res.on('close', () => resolve());
            });
          }),
      );
      await rec.settle();
      const stop = rec.named('rpc-stop', t.baseId);
      expect(stop).toHaveLength(1);
      expect(stop[0].info).toMatchObject({ response: { status_code: 200 }, etype: 'Error', message: 'aborted' });
    } finally {
      await breaking.close();
    }
  });

  it('outside a trace: no headers, no points, same behaviour', async () => {
    const before = rec.events.length;
    const seen = await answer((cb) => http.get(`${srv.url}/untraced`, cb));
    expect(seen.trace).toBeNull();
    expect(srv.seen.at(-1)!.info).toBeUndefined();
    expect(srv.seen.at(-1)!.hmac).toBeUndefined();
    await rec.settle();
    expect(rec.events.length).toBe(before);
  });

  it('uninstrumentHttpClient restores the original functions', async () => {
    uninstrumentHttpClient();
    try {
      expect(http.request).toBe(originals.request);
      expect(http.get).toBe(originals.get);
      expect(https.request).toBe(originals.srequest);
      expect(https.get).toBe(originals.sget);
      const t = await inTrace(() => answer((cb) => http.get(`${srv.url}/off`, cb)));
      expect(t.result.trace).toBeNull();
    } finally {
      instrumentHttpClient({ traceRequests: true });
    }
  });

  it('a port nobody listens on: the app gets its ECONNREFUSED', async () => {
    const port = await closedPort();
    const t = await inTrace(
      () =>
        new Promise<NodeJS.ErrnoException>((resolve) => {
          http.get({ host: '127.0.0.1', port, path: '/' }).on('error', resolve);
        }),
    );
    expect(t.result.code).toBe('ECONNREFUSED');
  });
});
