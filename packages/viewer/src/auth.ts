/**
 * Who may read: the Host header must name this server (no DNS rebinding onto a loopback
 * port), and on a non-loopback address every request carries the token (Bearer, the
 * cookie set by a `?token=` visit, or `?token=` itself once).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'osp_viewer_token';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The Host header values this server answers to. */
export function allowedHosts(bindHost: string, port: number, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>([...extra]);
  const add = (h: string) => {
    names.add(`${h}:${port}`.toLowerCase());
    if (port === 80) names.add(h.toLowerCase());
  };
  if (isLoopback(bindHost) || bindHost === '0.0.0.0' || bindHost === '::') {
    for (const h of ['localhost', '127.0.0.1', '[::1]']) add(h);
  }
  add(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost);
  return names;
}

export function hostAllowed(req: IncomingMessage, allowed: Set<string>, anyHost: boolean): boolean {
  const host = req.headers.host;
  if (host === undefined) return false;
  return anyHost || allowed.has(host.toLowerCase());
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export type TokenCheck = 'ok' | 'set-cookie' | 'denied';

/** Whether the request carries the token; 'set-cookie' when it came as `?token=` (the server then sets the cookie and redirects). */
export function checkToken(req: IncomingMessage, url: URL, token: string | undefined): TokenCheck {
  if (token === undefined) return 'ok';
  const auth = req.headers.authorization;
  if (auth !== undefined && /^Bearer /i.test(auth) && same(auth.slice(7).trim(), token)) return 'ok';
  const c = cookieToken(req);
  if (c !== undefined && same(c, token)) return 'ok';
  const q = url.searchParams.get('token');
  if (q !== null && same(q, token)) return 'set-cookie';
  return 'denied';
}
