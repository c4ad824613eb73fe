/** The viewer server without a browser: Host check, token (Bearer, ?token= → cookie), read-only, API errors. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDriver } from '@osprofiler/core';
import type { Driver } from '@osprofiler/core';
import { renderHtmlReport, requiredToken, scriptSafeJson, startViewer, type ViewerServer } from '../src/index';
import { searchFixture } from '../../../tools/testing/search-contract';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let open: ViewerServer;
let locked: ViewerServer;
const fx = searchFixture();

beforeAll(async () => {
  const d = new MemoryDriver();
  for (const b of fx.batches) d.notify(b);
  open = await startViewer({ driver: d as unknown as Driver, port: 0 });
  locked = await startViewer({ driver: d as unknown as Driver, port: 0, token: 's3cret-token' });
});
afterAll(async () => {
  await open?.close();
  await locked?.close();
});

describe('viewer server', () => {
  it('serves the page and the API on loopback without a token; --port 0 picks a free port', async () => {
    expect(open.port).toBeGreaterThan(0);
    expect(open.url).toBe(`http://127.0.0.1:${open.port}/`);
    const page = await get(open.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('assets/app.js');
    const js = await get(open.port, '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const r = await get(open.port, `/api/search?since=${fx.t0}&until=${fx.t0 + 60_000}&service=billing`);
    expect(JSON.parse(r.body).traces.map((t: { base_id: string }) => t.base_id)).toEqual([fx.ids.pay]);
    const t = await get(open.port, `/api/trace/${fx.ids.pay}`);
    expect(JSON.parse(t.body).children).toHaveLength(1);
  });

  it('unknown trace 404, bad numbers 400, bad cursor 400, paths outside assets 404', async () => {
    expect((await get(open.port, '/api/trace/nope')).status).toBe(404);
    expect((await get(open.port, '/api/search?min=abc')).status).toBe(400);
    expect((await get(open.port, '/api/search?cursor=zzz')).status).toBe(400);
    expect((await get(open.port, '/assets/../../package.json')).status).toBe(404);
    expect((await get(open.port, '/assets/..%2f..%2fpackage.json')).status).toBe(404);
  });

  it('?form=page: the report cut to what the page shows; ?download=1: the full report as a file', async () => {
    const full = JSON.parse((await get(open.port, `/api/trace/${fx.ids.pay}`)).body);
    const compact = JSON.parse((await get(open.port, `/api/trace/${fx.ids.pay}?form=page`)).body);
    // Same tree, same node fields; each stored event keeps only its info.
    const strip = (n: { info: Record<string, unknown>; children: unknown[] }): unknown => ({
      ...n,
      info: Object.fromEntries(Object.entries(n.info).map(([k, v]) => [k, k.startsWith('meta.raw_payload.') ? { info: (v as { info: unknown }).info } : v])),
      children: (n.children as (typeof n)[]).map(strip),
    });
    expect(compact).toEqual({ ...full, children: full.children.map(strip) });
    expect(JSON.stringify(compact).length).toBeLessThan(JSON.stringify(full).length);
    const dl = await get(open.port, `/api/trace/${fx.ids.pay}?download=1`);
    expect(dl.headers['content-disposition']).toBe(`attachment; filename="trace-${fx.ids.pay}.json"`);
    expect(JSON.parse(dl.body)).toEqual(full);
  });

  it('read-only: anything but GET/HEAD is refused', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await get(open.port, '/api/search', {}, m)).status).toBe(405);
  });

  it('checks the Host header (no DNS rebinding onto the loopback port)', async () => {
    expect((await get(open.port, '/', { host: 'evil.example:' + open.port })).status).toBe(421);
    expect((await get(open.port, '/', { host: `localhost:${open.port}` })).status).toBe(200);
  });

  it('with a token: denied without it; Bearer works; ?token= sets a cookie once and redirects', async () => {
    expect(locked.url).toBe(`http://127.0.0.1:${locked.port}/?token=s3cret-token`);
    expect((await get(locked.port, '/api/info')).status).toBe(401);
    expect((await get(locked.port, '/api/info', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(locked.port, '/api/info', { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    const first = await get(locked.port, '/?token=s3cret-token');
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0];
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await get(locked.port, '/api/info', { cookie })).status).toBe(200);
    expect((await get(locked.port, '/api/info', { cookie: 'osp_viewer_token=nope' })).status).toBe(401);
  });

  it('a non-loopback address gets a generated token (tests bind loopback only: the rule itself)', () => {
    const t1 = requiredToken('0.0.0.0', undefined);
    const t2 = requiredToken('192.168.1.5', undefined);
    expect(t1).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(t2).not.toBe(t1);
    expect(requiredToken('10.0.0.1', 'given')).toBe('given');
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]']) expect(requiredToken(h, undefined)).toBeUndefined();
  });
});

describe('--html escaping', () => {
  it('data cannot close the script element or open a comment', () => {
    const evil = { s: '</script><!--<script>x</script>\u2028&' };
    const json = scriptSafeJson(evil);
    expect(json).not.toMatch(/<\/script|<!--|\u2028/i);
    expect(JSON.parse(json)).toEqual(evil);
    const html = renderHtmlReport({ info: { name: 'total', started: 0, finished: 1 }, children: [{ info: { name: 'x', service: evil.s }, children: [] }] });
    // Exactly our two scripts' closing tags, nothing from the data.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('<!--<script>');
    expect(html).toContain("Content-Security-Policy");
    expect(html).not.toMatch(/src="http|href="http/);
  });
});
