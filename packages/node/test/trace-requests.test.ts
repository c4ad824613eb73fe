import http from 'node:http';
import { configure } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { readBody, startServer, type TestServer } from './support/servers';
import { inTrace, KEY } from './support/trace';

let rec: Recorder;
let srv: TestServer;

beforeAll(async () => {
  rec = recordPoints([KEY]);
  srv = await startServer();
});

afterAll(async () => {
  uninstrumentHttpClient();
  await srv.close();
});

type Echo = { trace: { baseId: string; parentId: string; hmacKey: string } | null; infoCount: number };

const viaHttp = (url: string) => new Promise<Echo>((resolve, reject) => http.get(url, (res) => void readBody(res).then((b) => resolve(JSON.parse(b)), reject)).on('error', reject));
const viaFetch = async (url: string) => (await (await fetch(url)).json()) as Echo;

describe('traceRequests off: the headers of the current point, no rpc point', () => {
  it.each(['http.get', 'fetch'])('%s', async (name) => {
    const call = name === 'fetch' ? viaFetch : viaHttp;
    instrumentHttpClient({ traceRequests: false });
    const t = await inTrace(() => call(`${srv.url}/off`));
    expect(t.result.trace).toEqual({ hmacKey: KEY, baseId: t.baseId, parentId: t.outerId });
    expect(t.result.infoCount).toBe(1);
    await rec.settle();
    expect(rec.events.filter((e) => e.base_id === t.baseId).map((e) => e.name)).toEqual(['outer-start', 'outer-stop']);
  });

  it("follows core's traceRequests (OSPROFILER_TRACE_REQUESTS) when the option is not given, read per request", async () => {
    instrumentHttpClient();
    configure({ driver: undefined, connectionString: 'memory://', hmacKeys: [KEY], traceRequests: false });
    try {
      const off = await inTrace(() => viaFetch(`${srv.url}/cfg-off`));
      expect(off.result.trace?.parentId).toBe(off.outerId);
      rec = recordPoints([KEY], { traceRequests: true });
      const on = await inTrace(() => viaHttp(`${srv.url}/cfg-on`));
      await rec.settle();
      const [start] = rec.named('rpc-start', on.baseId);
      expect(on.result.trace?.parentId).toBe(start.trace_id);
    } finally {
      rec = recordPoints([KEY]);
    }
  });
});

describe('no trace: no headers at all, no points', () => {
  it.each(['http.get', 'fetch'])('%s', async (name) => {
    const call = name === 'fetch' ? viaFetch : viaHttp;
    instrumentHttpClient({ traceRequests: true });
    await rec.settle();
    const before = rec.events.length;
    const seenBefore = srv.seen.length;
    const r = await call(`${srv.url}/none`);
    expect(r).toMatchObject({ trace: null, infoCount: 0 });
    const seen = srv.seen[seenBefore];
    expect(seen.info).toBeUndefined();
    expect(seen.hmac).toBeUndefined();
    await rec.settle();
    expect(rec.events.length).toBe(before);
  });
});
