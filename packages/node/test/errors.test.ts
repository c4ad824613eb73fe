import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { closedPort, readBody, startServer, type TestServer } from './support/servers';
import { inTrace, KEY } from './support/trace';

let rec: Recorder;
let slow: TestServer;

beforeAll(async () => {
  rec = recordPoints([KEY]);
  instrumentHttpClient({ traceRequests: true });
  slow = await startServer((req, res) => {
    req.resume();
    const t = setTimeout(() => res.end('late'), 2000);
    res.on('close', () => clearTimeout(t));
  });
});

afterAll(async () => {
  uninstrumentHttpClient();
  await slow.close();
});

function errorOf(make: () => http.ClientRequest): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    make().on('error', resolve);
  });
}

function shape(e: unknown) {
  const x = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return { name: x.name, ctor: x.constructor.name, code: x.code, syscall: x.syscall, message: x.message.replace(/\d+$/, 'PORT'), cause: x.cause?.code };
}

/** The single stop event of the only rpc point of the trace. */
async function onlyStop(baseId: string) {
  await rec.settle();
  const starts = rec.named('rpc-start', baseId);
  const stops = rec.named('rpc-stop', baseId);
  expect(starts).toHaveLength(1);
  expect(stops).toHaveLength(1);
  expect(stops[0].trace_id).toBe(starts[0].trace_id);
  return stops[0].info as Record<string, unknown>;
}

describe('errors are recorded on the rpc point and reach the app unchanged', () => {
  it('http: connection refused', async () => {
    const port = await closedPort();
    const plain = await errorOf(() => http.get({ host: '127.0.0.1', port, path: '/' }));
    const t = await inTrace(() => errorOf(() => http.get({ host: '127.0.0.1', port, path: '/' })));
    expect(shape(t.result)).toEqual(shape(plain));
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'Error', message: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('http: aborted through an AbortSignal', async () => {
    const t = await inTrace(() => {
      const ac = new AbortController();
      const p = errorOf(() => http.get(`${slow.url}/slow`, { signal: ac.signal }));
      setTimeout(() => ac.abort(), 30);
      return p;
    });
    expect(t.result.name).toBe('AbortError');
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'AbortError' });
  });

  it('http: a timeout the app turns into destroy()', async () => {
    const t = await inTrace(() =>
      errorOf(() => {
        const req = http.get(`${slow.url}/slow`, { timeout: 30 });
        req.on('timeout', () => req.destroy());
        return req;
      }),
    );
    expect(t.result.code).toBe('ECONNRESET');
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'Error', message: 'socket hang up' });
  });

  it('http: req.destroy(err) with the app’s own error', async () => {
    class Cancelled extends Error {}
    const mine = new Cancelled('cancelled by app');
    const t = await inTrace(() =>
      errorOf(() => {
        const req = http.get(`${slow.url}/slow`);
        setTimeout(() => req.destroy(mine), 20);
        return req;
      }),
    );
    expect(t.result).toBe(mine);
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'Cancelled', message: 'cancelled by app' });
  });

  it('http: arguments Node rejects throw the same error, synchronously', async () => {
    const catchSync = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('did not throw');
    };
    const badUrl = () => http.get('not a url');
    const badMethod = () => http.request({ host: '127.0.0.1', port: slow.port, method: 'BAD METHOD' });
    const plain = [shape(catchSync(badUrl)), shape(catchSync(badMethod))];
    const t = await inTrace(() => [shape(catchSync(badUrl)), shape(catchSync(badMethod))]);
    expect(t.result).toEqual(plain);
    // The bad URL never became a request (no point); the bad method did start one, and it failed.
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'TypeError' });
  });

  it('fetch: connection refused (a closed port) rejects exactly as untraced', async () => {
    const port = await closedPort();
    const plain = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    const t = await inTrace(() => fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e));
    expect(shape(t.result)).toEqual(shape(plain));
    expect(shape(t.result).cause).toBe('ECONNREFUSED');
    expect(await onlyStop(t.baseId)).toMatchObject({ etype: 'Error', message: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('fetch: aborted while waiting for the response', async () => {
    const t = await inTrace(() => fetch(`${slow.url}/slow`, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e));
    expect((t.result as Error).name).toBe('TimeoutError');
    const stop = await onlyStop(t.baseId);
    expect(stop.etype).toBe('TimeoutError');
  });

  it('fetch: aborted while reading the body, after the status arrived', async () => {
    const dribble = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part');
      const t = setTimeout(() => res.end('rest'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    try {
      const t = await inTrace(async () => {
        const ac = new AbortController();
        const res = await fetch(`${dribble.url}/body`, { signal: ac.signal });
        setTimeout(() => ac.abort(), 30);
        return res.text().catch((e: unknown) => e);
      });
      expect((t.result as Error).name).toBe('AbortError');
      expect(await onlyStop(t.baseId)).toMatchObject({ response: { status_code: 200 }, etype: 'AbortError' });
    } finally {
      await dribble.close();
    }
  });

  it('a traced request whose answer is fine still reads the same body', async () => {
    const ok = await startServer((req, res) => {
      req.resume();
      res.end('same body');
    });
    try {
      const t = await inTrace(() => new Promise<string>((resolve) => http.get(ok.url, (res) => void readBody(res).then(resolve))));
      expect(t.result).toBe('same body');
    } finally {
      await ok.close();
    }
  });
});
