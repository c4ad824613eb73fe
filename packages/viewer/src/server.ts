/**
 * The `osprofiler ui` server: the built page plus a small read-only JSON API over one
 * driver. GET and HEAD only; Host checked; a token on any non-loopback address.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, normalize } from 'node:path';
import type { Driver, Report, ReportNode, SearchOptions } from '@osprofiler/core';
import { appBuilt, appFile } from './assets';
import { allowedHosts, checkToken, COOKIE, hostAllowed, isLoopback } from './auth';

export interface ViewerOptions {
  driver: Driver;
  /** Default 127.0.0.1. Any other address requires a token (given, or generated). */
  host?: string;
  /** Default 16686; 0 picks a free port. */
  port?: number;
  token?: string;
  /** Extra Host header values to accept (e.g. a reverse proxy's name). */
  allowedHosts?: string[];
  /** Shown on the page (already redacted). */
  storeLabel?: string;
}

export interface ViewerServer {
  url: string;
  host: string;
  port: number;
  /** Set when the server requires one. */
  token: string | undefined;
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function num(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

/** Query string → SearchOptions; a bad number is a 400. */
export function searchOptionsOf(q: URLSearchParams): SearchOptions {
  const str = (k: string) => (q.get(k) ?? '').trim() || undefined;
  const o: SearchOptions = {
    service: str('service'),
    project: str('project'),
    root: str('root'),
    host: str('host'),
    text: str('text'),
    cursor: str('cursor'),
    since: num(q.get('since')),
    until: num(q.get('until')),
    minDurationMs: num(q.get('min')),
    maxDurationMs: num(q.get('max')),
    limit: num(q.get('limit')),
    errorsOnly: q.get('errors') === '1' || q.get('errors') === 'true',
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isNaN(v)) throw new TypeError(`${k} must be a number`);
  return o;
}

/**
 * The form the page reads (`?form=page`): the same report shape, but each stored event
 * (`meta.raw_payload.<name>`) keeps only its `info`, the one part the page shows; the
 * rest (ids, name, timestamp, service, project) repeats what the node already says.
 * A 10,000-point trace: 8.5 MB → 1.6 MB of JSON to make, send and parse. Downloads
 * (`?download=1`) and the plain API keep the full report.
 */
export function pageForm(report: Report): Report {
  const node = (n: ReportNode): ReportNode => {
    const info: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n.info)) {
      info[k] = k.startsWith('meta.raw_payload.') && v !== null && typeof v === 'object' ? { info: (v as { info?: unknown }).info } : v;
    }
    return { info: info as ReportNode['info'], trace_id: n.trace_id, parent_id: n.parent_id, children: n.children.map(node) };
  };
  return { info: report.info, children: report.children.map(node), stats: report.stats };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The token a server on `host` requires: the given one, else a generated one off loopback, else none. */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  return token ?? (isLoopback(host) ? undefined : randomBytes(24).toString('base64url'));
}

export async function startViewer(options: ViewerOptions): Promise<ViewerServer> {
  if (!appBuilt()) throw new Error('@osprofiler/viewer is not built (dist/app missing): run `npm run build` in packages/viewer');
  const host = options.host ?? '127.0.0.1';
  const token = requiredToken(host, options.token);
  const driver = options.driver;
  let allowed = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req, allowed, false)) return send(res, 421, 'text/plain; charset=utf-8', 'misdirected request: unknown Host header\n');
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = checkToken(req, url, token);
    if (auth === 'denied') return send(res, 401, 'text/plain; charset=utf-8', 'this viewer needs its token: open the URL it printed (…?token=…) or send Authorization: Bearer <token>\n', { 'www-authenticate': 'Bearer' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET and HEAD only\n', { allow: 'GET, HEAD' });
    if (auth === 'set-cookie') {
      url.searchParams.delete('token');
      const loc = url.pathname + (url.search === '?' ? '' : url.search);
      return send(res, 303, 'text/plain; charset=utf-8', 'ok\n', {
        location: loc,
        'set-cookie': `${COOKIE}=${encodeURIComponent(token!)}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    const path = url.pathname;
    if (path === '/api/search') {
      if (typeof driver.searchTraces !== 'function') return json(res, 501, { error: `the ${driver.scheme}:// store cannot search traces` });
      let o: SearchOptions;
      try {
        o = searchOptionsOf(url.searchParams);
      } catch (err) {
        return json(res, 400, { error: message(err) });
      }
      try {
        return json(res, 200, await driver.searchTraces(o));
      } catch (err) {
        return json(res, err instanceof TypeError ? 400 : 502, { error: `the store did not answer: ${message(err)}` });
      }
    }
    if (path.startsWith('/api/trace/')) {
      const id = decodeURIComponent(path.slice('/api/trace/'.length));
      try {
        const report = await driver.getReport(id);
        if (report.children.length === 0) return json(res, 404, { error: `trace ${id} not found` });
        if (url.searchParams.get('download') === '1') {
          const name = `trace-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
          return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(report, null, 2), { 'content-disposition': `attachment; filename="${name}"` });
        }
        return json(res, 200, url.searchParams.get('form') === 'page' ? pageForm(report) : report);
      } catch (err) {
        return json(res, 502, { error: `the store did not answer: ${message(err)}` });
      }
    }
    if (path === '/api/info') return json(res, 200, { store: options.storeLabel ?? driver.scheme + '://', search: typeof driver.searchTraces === 'function' });
    if (path.startsWith('/api/')) return json(res, 404, { error: 'no such API' });
    if (path.startsWith('/assets/')) {
      const rel = normalize(path.slice(1));
      if (!rel.startsWith('assets/') || rel.includes('..')) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      try {
        return send(res, 200, TYPES[extname(rel)] ?? 'application/octet-stream', appFile(rel), { 'cache-control': 'no-cache' });
      } catch {
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      }
    }
    if (path === '/' || path === '/index.html') return send(res, 200, TYPES['.html'], appFile('index.html'));
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: message(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 16686, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(host, port, options.allowedHosts);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${port}/` + (token === undefined ? '' : `?token=${token}`);
  return {
    url,
    host,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
