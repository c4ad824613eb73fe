import http from 'node:http';
import { get, traced } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentHttpClient, uninstrumentHttpClient } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { readBody, startServer, type TestServer } from './support/servers';
import { inTrace, KEY } from './support/trace';

let rec: Recorder;
let srv: TestServer;

beforeAll(async () => {
  rec = recordPoints([KEY]);
  instrumentHttpClient({ traceRequests: true });
  // Answers after a random short delay, so calls of different traces interleave.
  srv = await startServer((req, res, seen) => {
    req.resume();
    setTimeout(() => res.end(JSON.stringify({ trace: seen.trace ?? null, url: seen.url })), Math.floor(Math.random() * 15));
  });
});

afterAll(async () => {
  uninstrumentHttpClient();
  await srv.close();
});

type Echo = { trace: { baseId: string; parentId: string } | null; url: string };
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const viaHttp = (url: string) =>
  new Promise<Echo>((resolve, reject) => http.get(url, { agent }, (res) => void readBody(res).then((b) => resolve(JSON.parse(b)), reject)).on('error', reject));
const viaFetch = async (url: string) => (await (await fetch(url)).json()) as Echo;

describe('100 concurrent traces with interleaved outgoing calls', () => {
  it('never mix: every call carries its own trace and its own rpc point as parent', async () => {
    const N = 100;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        inTrace(async () => {
          const base = get()!.baseId;
          // Two sibling branches per trace, each making an http and a fetch call in turn.
          const branch = (b: string) =>
            traced(`branch_${b}`, async () => {
              const a = await viaHttp(`${srv.url}/${i}/${b}/http`);
              await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
              const f = await viaFetch(`${srv.url}/${i}/${b}/fetch`);
              return [a, f];
            });
          const answers = (await Promise.all([branch('a'), branch('b')])).flat();
          return { base, answers };
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(25_000);
    await rec.settle();
    const starts = new Map(rec.events.filter((e) => e.name === 'rpc-start').map((e) => [e.trace_id, e]));
    const stops = rec.events.filter((e) => e.name === 'rpc-stop');
    const branchIds = new Map(rec.events.filter((e) => e.name.startsWith('branch_') && e.name.endsWith('-start')).map((e) => [e.trace_id, e]));
    let checked = 0;
    for (const t of results) {
      expect(t.result.base).toBe(t.baseId);
      for (const a of t.result.answers) {
        expect(a.trace?.baseId).toBe(t.baseId);
        const rpc = starts.get(a.trace!.parentId)!;
        expect(rpc.base_id).toBe(t.baseId);
        // The rpc point is the one for this very URL, under this trace's branch point.
        expect((rpc.info as unknown as { request: { url: string } }).request.url).toBe(`${srv.url}${a.url}`);
        const branch = branchIds.get(rpc.parent_id)!;
        expect(branch.base_id).toBe(t.baseId);
        expect(branch.name).toBe(`branch_${a.url.split('/')[2]}-start`);
        checked++;
      }
    }
    expect(checked).toBe(N * 4);
    expect(starts.size).toBe(N * 4);
    expect(stops).toHaveLength(N * 4);
    expect(new Set(stops.map((s) => s.trace_id)).size).toBe(N * 4);
    agent.destroy();
  });
});
