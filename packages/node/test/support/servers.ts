/**
 * Real servers on 127.0.0.1 for the tests: each test starts its own and closes exactly
 * that one. The default handler verifies the trace headers with core's `extract` and
 * answers what it saw.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from '@osprofiler/core';
import type { TraceOptions } from '@osprofiler/core';

export interface Seen {
  method: string;
  url: string;
  /** The raw trace headers as received (undefined when absent). */
  info: string | undefined;
  hmac: string | undefined;
  /** How many X-Trace-Info headers arrived (a duplicate would show as 2). */
  infoCount: number;
  /** Verified against the server's keys; undefined when absent or rejected. */
  trace: TraceOptions | undefined;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  port: number;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;

export function seenOf(req: http.IncomingMessage, keys: string[]): Seen {
  let infoCount = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'x-trace-info') infoCount++;
  const info = req.headers['x-trace-info'];
  const hmac = req.headers['x-trace-hmac'];
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    info: typeof info === 'string' ? info : undefined,
    hmac: typeof hmac === 'string' ? hmac : undefined,
    infoCount,
    trace: extract(req.headers, keys),
    headers: req.headers,
  };
}

/** Answers 200 with the Seen as JSON (after reading the body). */
export const echo: Handler = (req, res, seen) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ trace: seen.trace ?? null, info: seen.info ?? null, infoCount: seen.infoCount, url: seen.url }));
  });
};

async function listen(server: http.Server | https.Server, scheme: 'http' | 'https', seen: Seen[]): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function startServer(handler: Handler = echo, keys: string[] = ['SECRET_KEY']): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const s = seenOf(req, keys);
    seen.push(s);
    handler(req, res, s);
  });
  return listen(server, 'http', seen);
}

export interface Cert {
  key: string;
  cert: string;
}

/** A throw-away self-signed certificate for 127.0.0.1, made now with Debian's openssl. */
export function selfSignedCert(): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'osp-node-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'pipe', timeout: 20000 },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function startHttpsServer(cert: Cert, handler: Handler = echo, keys: string[] = ['SECRET_KEY']): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const s = seenOf(req, keys);
    seen.push(s);
    handler(req, res, s);
  });
  return listen(server, 'https', seen);
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Reads a whole response body (utf8). */
export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}
