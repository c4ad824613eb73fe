import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configure, continueFrom, extract, shutdown, traced } from '@osprofiler/core';
import type { TraceOptions } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index';
import { BIN, PKG_DIR, tempDir } from './helpers';

/**
 * `osprofiler profile` end to end: a real traced service on 127.0.0.1 (core's
 * continueFrom + traced, storing to a file:// backend in a temp dir), and the CLI both
 * in-process (`main`) and as the built binary in its own process.
 */
const KEY = 'PROFILE_KEY';
let dir: string;
let cs: string;
let server: http.Server;
let url: string;
interface Received {
  method: string;
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
  trace: TraceOptions | undefined;
}
const received: Received[] = [];

beforeAll(async () => {
  dir = tempDir('osp-cli-profile-');
  cs = `file://${dir}`;
  configure({ connectionString: cs, hmacKeys: [KEY], service: 'orders', flushIntervalMs: 10 });
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body, headers: req.headers, trace: extract(req.headers, [KEY]) });
      void continueFrom(req.headers, () =>
        traced('wsgi', { request: { method: req.method, path: req.url, query: '', scheme: 'http' } }, async () => {
          await traced('driver', { function: { name: 'orders.lookup' } }, () => new Promise((r) => setTimeout(r, 5)));
          res.statusCode = req.url === '/missing' ? 404 : 200;
          res.end('ok');
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  const c = { code: -1, out: '', err: '' };
  c.code = await main(['node', 'osprofiler', ...args], {
    stdout: (s) => void (c.out += s),
    stderr: (s) => void (c.err += s),
    env,
  });
  return c;
}

const TRACE_LINE = /^Trace ID: ([0-9a-f-]{36})$/m;

describe('osprofiler profile', () => {
  it('sends one request signed for a fresh trace (parent = base_id); prints the status and the trace id', async () => {
    const c = await run(['profile', `${url}/orders/1?x=1`, '--hmac-key', KEY]);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    const id = TRACE_LINE.exec(c.out)![1];
    expect(c.out).toBe(`HTTP 200\nTrace ID: ${id}\n`);
    const r = received.at(-1)!;
    expect(r.path).toBe('/orders/1?x=1');
    expect(r.trace).toEqual({ hmacKey: KEY, baseId: id, parentId: id });
  });

  it('-X, -d and -H are sent as given; the key may come from OSPROFILER_HMAC_KEYS', async () => {
    const c = await run(['profile', `${url}/orders`, '-X', 'put', '-d', '{"a":1}', '-H', 'Content-Type: application/json', '-H', 'X-Extra:  yes '], {
      OSPROFILER_HMAC_KEYS: ` ${KEY} , OTHER`,
    });
    expect(c.code).toBe(0);
    const r = received.at(-1)!;
    expect([r.method, r.body, r.headers['content-type'], r.headers['x-extra']]).toEqual(['PUT', '{"a":1}', 'application/json', 'yes']);
    expect(r.trace?.baseId).toBe(TRACE_LINE.exec(c.out)![1]);
  });

  it('-d @FILE sends the file and defaults to POST; a 404 still exits 0 and prints its status', async () => {
    const file = join(dir, 'body.txt');
    writeFileSync(file, 'from a file');
    const c = await run(['profile', `${url}/missing`, '--hmac-key', KEY, '-d', `@${file}`]);
    expect(c.code).toBe(0);
    expect(c.out.split('\n')[0]).toBe('HTTP 404');
    expect(received.at(-1)).toMatchObject({ method: 'POST', body: 'from a file' });
  });

  it('--show waits for the points in the backend and prints the tree', async () => {
    const c = await run(['profile', `${url}/orders/2`, '--hmac-key', KEY, '--show', '--connection-string', cs, '--timeout-ms', '5000']);
    expect(c.code).toBe(0);
    const id = TRACE_LINE.exec(c.out)![1];
    // What it waits for, and where.
    expect(c.err).toBe(`waiting up to 5000 ms (--timeout-ms) for the service's trace points of ${id} in '${cs}' (directory ${dir})\n`);
    const lines = c.out.split('\n');
    expect(lines.slice(0, 2)).toEqual(['HTTP 200', `Trace ID: ${id}`]);
    expect(lines[2]).toMatch(new RegExp(`^trace ${id}  total \\d+ ms, 2 points$`));
    expect(c.out).toMatch(/wsgi \(orders\)\s+GET \/orders\/2/);
    expect(c.out).toMatch(/└─ driver \(orders\)\s+orders\.lookup/);
  });

  it('--show with a key the service does not accept: no points, a clear message, exit 1 within the timeout', async () => {
    const t0 = Date.now();
    const c = await run(['profile', `${url}/orders/3`, '--hmac-key', 'WRONG', '--show', '--connection-string', cs, '--timeout-ms', '400']);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.code).toBe(1);
    expect(c.out).toMatch(/^HTTP 200\nTrace ID: /);
    const id = TRACE_LINE.exec(c.out)![1];
    expect(c.err).toBe(
      `waiting up to 400 ms (--timeout-ms) for the service's trace points of ${id} in '${cs}' (directory ${dir})\n` +
        `error: no trace points for ${id} arrived in '${cs}' (directory ${dir}) within 400 ms. Likely causes:\n` +
        "  1. the service does not accept the key given with --hmac-key: it must be one of the service's hmacKeys (OSPROFILER_HMAC_KEYS); " +
        'a header signed with any other key is served untraced, without an error;\n' +
        '  2. tracing is off in the service: enabled defaults to false (as in Python); set enabled: true in configure() or OSPROFILER_ENABLED=true;\n' +
        '  3. the service writes to another store: pass the one it uses with --connection-string (or OSPROFILER_CONNECTION_STRING);\n' +
        '  4. the service stores its points in batches (every 100 ms by default) and they had not arrived yet: raise --timeout-ms.\n',
    );
  });

  it('connection refused: a clear message and exit 1', async () => {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const c = await run(['profile', `http://127.0.0.1:${port}/`, '--hmac-key', KEY]);
    expect(c.code).toBe(1);
    expect(c.out).toBe('');
    expect(c.err).toBe(`error: cannot connect to http://127.0.0.1:${port}: connection refused (is the service running on that port?)\n`);
  });

  it.each([
    [['profile'], /missing required argument 'url'/],
    [['profile', 'ftp://x/'], /only http and https/],
    [['profile', 'not a url', '--hmac-key', KEY], /bad URL/],
    [['profile', 'http://127.0.0.1/'], /an HMAC key is required/],
    [['profile', 'http://127.0.0.1/', '--hmac-key', KEY, '-H', 'no colon'], /bad header/],
    [['profile', 'http://127.0.0.1/', '--hmac-key', KEY, '-H', 'X-Trace-Info: x'], /set by osprofiler profile itself/],
    [['profile', 'http://127.0.0.1/', '--hmac-key', KEY, '-X', 'GE T'], /bad method/],
    [['profile', 'http://127.0.0.1/', '--hmac-key', KEY, '--timeout-ms', '0'], /--timeout-ms/],
    [['profile', 'http://127.0.0.1/', '--hmac-key', KEY, '-X', 'GET', '-d', 'x'], /-d cannot be used with GET/],
  ])('bad arguments %j: usage error, exit 2', async (args, message) => {
    const c = await run(args);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(message);
    expect(c.out).toBe('');
  });

  it('the built binary, in its own process, with --show against the file:// backend', async () => {
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'profile', `${url}/orders/9`, '--hmac-key', KEY, '--show', '--connection-string', cs], {
        cwd: PKG_DIR,
        env: { ...process.env, OSPROFILER_CONNECTION_STRING: '' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code, out, err });
      });
    });
    expect(r.code).toBe(0);
    const id = TRACE_LINE.exec(r.out)![1];
    expect(r.err).toBe(`waiting up to 5000 ms (--timeout-ms) for the service's trace points of ${id} in '${cs}' (directory ${dir})\n`);
    expect(received.at(-1)!.trace?.baseId).toBe(id);
    expect(r.out).toMatch(/wsgi \(orders\)\s+GET \/orders\/9/);
  });
});
