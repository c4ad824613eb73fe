import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { requirePythonOsprofiler, startPythonServer, type PythonAnswer, type PythonServer } from './support/python-serve';
import { readBody } from './support/servers';
import { inTrace } from './support/trace';

let rec: Recorder;
let py: PythonServer;

beforeAll(async () => {
  requirePythonOsprofiler(); // fails (never skips) without the real Python OSProfiler
  rec = recordPoints(['OLD_KEY', 'NEW_KEY']);
  py = await startPythonServer('OLD_KEY,NEW_KEY');
}, 60_000);

afterAll(async () => {
  uninstrumentHttpClient();
  await py?.stop();
});

const viaHttp = (url: string) =>
  new Promise<PythonAnswer>((resolve, reject) => http.get(url, (res) => void readBody(res).then((b) => resolve(JSON.parse(b)), reject)).on('error', reject));
const viaFetch = async (url: string) => (await (await fetch(url)).json()) as PythonAnswer;

describe("our outgoing headers pass Python OSProfiler's WsgiMiddleware (3.4.3, real)", () => {
  it.each([
    ['http.get', 'OLD_KEY'],
    ['fetch', 'NEW_KEY'],
  ])('%s signed with %s: the Python wsgi point continues our trace under our rpc point', async (name, key) => {
    const call = name === 'fetch' ? viaFetch : viaHttp;
    instrumentHttpClient({ traceRequests: true });
    const t = await inTrace(() => call(`${py.url}/v1/things?x=1`), key);
    await rec.settle();
    const [rpc] = rec.named('rpc-start', t.baseId);
    expect(rpc.parent_id).toBe(t.outerId);
    expect(t.result).toMatchObject({ traced: true, base_id: t.baseId, wsgi_parent_id: rpc.trace_id, result: 'ok' });
    expect(t.result.wsgi_trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.named('rpc-stop', t.baseId)[0].info).toMatchObject({ response: { status_code: 200 } });
  });

  it('with traceRequests off, the Python point hangs under the current point', async () => {
    instrumentHttpClient({ traceRequests: false });
    const t = await inTrace(() => viaFetch(`${py.url}/`), 'OLD_KEY');
    expect(t.result).toMatchObject({ traced: true, base_id: t.baseId, wsgi_parent_id: t.outerId });
  });

  it('an error status is recorded on the rpc point', async () => {
    instrumentHttpClient({ traceRequests: true });
    const t = await inTrace(() => viaHttp(`${py.url}/error`), 'NEW_KEY');
    expect(t.result).toMatchObject({ traced: true, result: 'error' });
    await rec.settle();
    expect(rec.named('rpc-stop', t.baseId)[0].info).toMatchObject({ response: { status_code: 500 } });
  });

  it('untraced calls arrive without headers and Python serves them untraced', async () => {
    instrumentHttpClient({ traceRequests: true });
    expect(await viaHttp(`${py.url}/`)).toMatchObject({ traced: false, base_id: null });
    expect(await viaFetch(`${py.url}/`)).toMatchObject({ traced: false, base_id: null });
  });

  it('a key Python does not have: Python serves the request untraced', async () => {
    instrumentHttpClient({ traceRequests: true });
    const t = await inTrace(() => viaFetch(`${py.url}/`), 'OTHER_KEY');
    expect(t.result).toMatchObject({ traced: false });
  });
});
