/**
 * The `wsgi` point's start info, exactly as Python's WSGI middleware records it (wire spec
 * §3): `request: {path, query, method, scheme}`, the path quoted the way webob does. Shared
 * by every HTTP server adapter (Express, Nest, …).
 */
import type { IncomingMessage } from 'node:http';

export interface RequestStartInfo {
  path: string;
  query: string;
  method: string;
  scheme: string;
}

// webob's PATH_SAFE plus urllib.parse.quote's always-safe set: these bytes stay as they are.
const PATH_SAFE = "[A-Za-z0-9_.\\-~/!$&'()*+,;=:@]";
const PATH_SAFE_RE = new RegExp(`^${PATH_SAFE}*$`);
// A target that is its own path, unchanged by splitTarget and pythonPath: '/' then PATH_SAFE
// bytes (no '?', so no query; no '%', so nothing to decode or quote).
const SAFE_ORIGIN_RE = new RegExp(`^/${PATH_SAFE}*$`);
const SAFE_BYTE = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/!$&'()*+,;=:@") SAFE_BYTE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The path as Python's `webob.Request.path` reports it: the WSGI server percent-decodes
 * the raw path (invalid `%` sequences stay literal) and webob quotes the bytes again with
 * `PATH_SAFE`, so `/a%2fb` becomes `/a/b` and `/caf%c3%a9` becomes `/caf%C3%A9`.
 * Node gives header/URL text as latin-1, so each char code is one byte.
 */
export function pythonPath(rawPath: string): string {
  if (PATH_SAFE_RE.test(rawPath)) return rawPath;
  const bytes: number[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < rawPath.length) {
      const h = hexVal(rawPath.charCodeAt(i + 1));
      const l = hexVal(rawPath.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    if (c > 0xff) {
      // Not possible for text Node parsed off the wire; encode as UTF-8 to be safe.
      for (const b of Buffer.from(rawPath[i], 'utf8')) bytes.push(b);
    } else bytes.push(c);
  }
  let out = '';
  for (const b of bytes) out += SAFE_BYTE[b] === 1 ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** Splits a request target into path and raw query (without `?`, '' if none), absolute-form included. */
export function splitTarget(url: string): { path: string; query: string } {
  let target = url;
  if (target.length > 0 && target.charCodeAt(0) !== 47 /* / */) {
    // Absolute form (`GET http://host/p HTTP/1.1`): the WSGI path is the part after the authority.
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (m !== null) target = target.slice(m[0].length);
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  return { path, query };
}

/** `https` on a TLS socket, else `http` (WSGI's `wsgi.url_scheme`). */
export function requestScheme(req: IncomingMessage): string {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http';
}

/**
 * Start info of a request. `target` is the request target to record (default `req.url`;
 * Express passes `originalUrl`, the URL before any router trimmed it).
 */
export function wsgiRequestInfo(req: IncomingMessage, target: string = req.url ?? ''): RequestStartInfo {
  return requestInfo(target, req.method ?? '', requestScheme(req));
}

/** wsgiRequestInfo's object from the request's method and scheme already read (kit/start-infos.ts reads them for its key). */
export function requestInfo(target: string, method: string, scheme: string): RequestStartInfo {
  // An origin-form target of safe bytes only (no '?', no '%'): path and target are the same,
  // the query empty. One RegExp test, not splitTarget's and pythonPath's calls and object:
  // run once a request, this function is still in V8's baseline tier after thousands of them,
  // where each call costs ~0.3-0.8k instructions (callgrind, traced /hello: 2.5k → 1.3k).
  if (SAFE_ORIGIN_RE.test(target)) return { path: target, query: '', method, scheme };
  const { path, query } = splitTarget(target);
  return { path: pythonPath(path), query, method, scheme };
}
