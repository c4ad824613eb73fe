import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { configure, MemoryDriver, shutdown } from '@osprofiler/core';
import { profiler, pythonPath } from '../src/index';
import { PYTHON, requirePythonOsprofiler, runPeerBatch } from '../../core/test/support/python-peer';
import { EXPRESS_VERSIONS, events, listen, loadExpress, request, waitFor, type Running } from './support';

const STORE = 'express-python-signed';
const store = new MemoryDriver({}, STORE);

beforeAll(() => {
  requirePythonOsprofiler();
  configure({ enabled: true, hmacKeys: ['py-key', 'SECRET_KEY'], connectionString: `memory://${STORE}`, flushIntervalMs: 5 });
});
afterAll(async () => {
  await shutdown();
});

describe.each(EXPRESS_VERSIONS)('%s: headers signed by Python OSProfiler', (name) => {
  let server: Running;
  beforeAll(async () => {
    const express = loadExpress(name);
    const app = express();
    app.use(profiler());
    app.get('/v2/servers/:id', (_req: any, res: any) => res.json({ ok: true }));
    server = await listen(app);
  });
  afterAll(async () => server?.close());

  it('trigger tracing, continuing the base id under the parent Python sent', async () => {
    const reqs = ['py-key', 'SECRET_KEY'].map((key) => ({ key, base_id: randomUUID(), parent_id: randomUUID() }));
    const headers = runPeerBatch<Record<string, string>>('headers-batch', reqs);
    for (let i = 0; i < reqs.length; i++) {
      const r = await request(`${server.url}/v2/servers/42?limit=1&x=y`, { headers: headers[i] });
      expect(r.status).toBe(200);
    }
    for (const q of reqs) {
      await waitFor(async () => (await events(store, q.base_id)).length === 2);
      const [start, stop] = await events(store, q.base_id);
      expect(start).toMatchObject({ name: 'wsgi-start', base_id: q.base_id, parent_id: q.parent_id });
      expect(start.info.request).toEqual({ path: '/v2/servers/42', query: 'limit=1&x=y', method: 'GET', scheme: 'http' });
      expect(stop.info).toMatchObject({ response: { status_code: 200 }, request: { route: '/v2/servers/:id' } });
    }
  });
});

describe('request path as Python records it (webob Request.path behind a WSGI server)', () => {
  // Raw request targets sent on the wire; Python's verdict is computed the way wsgiref does
  // it (PATH_INFO = unquote(raw, 'iso-8859-1')), then webob quotes it back with PATH_SAFE.
  const raws = [
    '/plain/path',
    '/a%2fb',
    '/caf%c3%a9',
    '/sp%20ace',
    "/a'b(c)*!$&+,;=:@~",
    '/%zz%4',
    '/%',
    '/a;b=c,d',
    '/%5Bx%5D%7By%7D',
    '/[x]{y}|^`',
    '/%7e%2D%5f',
    '/%E2%82%AC/%F0%9F%98%80',
    '/a%3Fb',
    '/a%23b',
    '//double//slash/',
  ];

  it('matches Python for every case (server-side, through a real request)', async () => {
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        `import json, sys, urllib.parse, webob
out = []
for raw in json.load(sys.stdin):
    env = {'REQUEST_METHOD': 'GET', 'PATH_INFO': urllib.parse.unquote(raw, 'iso-8859-1'), 'SCRIPT_NAME': '', 'QUERY_STRING': '',
           'SERVER_NAME': 'x', 'SERVER_PORT': '80', 'wsgi.url_scheme': 'http'}
    out.append(webob.Request(env).path)
print(json.dumps(out))`,
      ],
      { input: JSON.stringify(raws), encoding: 'utf8', timeout: 60_000 },
    );
    expect(py.stderr).toBe('');
    const expected = JSON.parse(py.stdout) as string[];
    for (let i = 0; i < raws.length; i++) expect([raws[i], pythonPath(raws[i])]).toEqual([raws[i], expected[i]]);

    // And end to end: the raw target goes over a socket, the stored start info holds Python's path.
    const express = loadExpress('express');
    const app = express();
    app.use(profiler());
    app.use((_req: any, res: any) => res.send('ok'));
    const server = await listen(app);
    try {
      const { signedPack } = await import('@osprofiler/core');
      for (let i = 0; i < raws.length; i++) {
        const base = randomUUID();
        const { info, hmac } = signedPack({ base_id: base, parent_id: base }, 'SECRET_KEY');
        await rawGet(server.port, `${raws[i]}?q=${i}`, { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac });
        await waitFor(async () => (await events(store, base)).length === 2);
        const [start] = await events(store, base);
        expect([raws[i], start.info.request.path, start.info.request.query]).toEqual([raws[i], expected[i], `q=${i}`]);
      }
    } finally {
      await server.close();
    }
  });
});

function rawGet(port: number, target: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines.join('')}\r\n`);
    });
    sock.on('data', () => undefined);
    sock.on('close', () => resolve());
    sock.on('error', reject);
  });
}
