/**
 * Global `fetch` (undici inside Node) and the npm `undici` package: both publish
 * `undici:request:*` diagnostics channels, and `request.addHeader` on
 * `undici:request:create` still reaches the wire, so no patching is needed.
 *
 * `undici:request:create` runs in the caller's async context (checked on Node 20: the
 * first request on a new origin even runs it synchronously inside the `fetch()` call;
 * later ones run a few microtasks later, still in the context the `fetch()` promise chain
 * carries), so the point opens under the caller's current point.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { get, openPoint, traceHeaders, type Point } from '@osprofiler/core';
import { contained } from './contained';
import { defaultPort, RPC_POINT, rpcErrorInfo, rpcStartInfo, rpcStopInfo } from './points';
import { state } from './state';
import { traceRequestsOn } from './trace-requests';

const RPC = Symbol('osprofiler.rpc');

interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
  /** A flat [name, value, …] array (undici 6+, Node 20's fetch) or a raw header string (undici 5). */
  headers?: unknown;
  addHeader?(name: string, value: string): unknown;
  [RPC]?: { point: Point; status: number | undefined };
}

function hasTraceHeader(headers: unknown): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i];
      if (typeof n === 'string') {
        const l = n.toLowerCase();
        if (l === 'x-trace-info' || l === 'x-trace-hmac') return true;
      }
    }
    return false;
  }
  return typeof headers === 'string' && /(^|\r\n)x-trace-(info|hmac)\s*:/i.test(headers);
}

function startInfo(request: UndiciRequest): object | undefined {
  const o = String(request.origin);
  if (!URL.canParse(o)) return undefined; // not an origin undici would connect to
  const origin = new URL(o);
  const protocol = origin.protocol;
  const host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
  const port = origin.port === '' ? defaultPort(protocol) : Number(origin.port);
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : 'GET';
  const path = typeof request.path === 'string' && request.path !== '' ? request.path : '/';
  return rpcStartInfo({ method, protocol, host, port, path });
}

function onCreate(message: unknown): void {
  if (!state.active) return;
  const profiler = get();
  if (profiler === undefined) return;
  try {
    const request = (message as { request: UndiciRequest }).request;
    let headers;
    if (traceRequestsOn()) {
      const info = startInfo(request);
      const point = info === undefined ? undefined : openPoint(RPC_POINT, info, profiler);
      if (point !== undefined) {
        request[RPC] = { point, status: undefined };
        headers = traceHeaders(point.profiler);
      }
    } else {
      headers = traceHeaders(profiler);
    }
    // The caller's own X-Trace-Info/X-Trace-HMAC win: never add a second pair.
    if (headers !== undefined && typeof request.addHeader === 'function' && !hasTraceHeader(request.headers)) {
      request.addHeader('X-Trace-Info', headers['X-Trace-Info']);
      request.addHeader('X-Trace-HMAC', headers['X-Trace-HMAC']);
    }
  } catch (err) {
    contained('fetch.start', err);
  }
}

function onHeaders(message: unknown): void {
  try {
    const m = message as { request: UndiciRequest; response?: { statusCode?: unknown } };
    const st = m.request[RPC];
    if (st !== undefined && typeof m.response?.statusCode === 'number') st.status = m.response.statusCode;
  } catch (err) {
    contained('fetch.headers', err);
  }
}

/** The response body is complete. */
function onTrailers(message: unknown): void {
  try {
    const st = (message as { request: UndiciRequest }).request[RPC];
    if (st !== undefined) st.point.stop(rpcStopInfo(st.status));
  } catch (err) {
    contained('fetch.trailers', err);
  }
}

/** Connection refused, reset, aborted, timed out: before or after the headers. */
function onError(message: unknown): void {
  try {
    const m = message as { request: UndiciRequest; error?: unknown };
    const st = m.request[RPC];
    if (st !== undefined) st.point.stop(rpcErrorInfo(m.error, st.status));
  } catch (err) {
    contained('fetch.error', err);
  }
}

const CHANNELS: [string, (message: unknown) => void][] = [
  ['undici:request:create', onCreate],
  ['undici:request:headers', onHeaders],
  ['undici:request:trailers', onTrailers],
  ['undici:request:error', onError],
];

export function installFetch(): void {
  if (state.fetchInstalled) return;
  for (const [name, fn] of CHANNELS) subscribe(name, fn);
  state.fetchInstalled = true;
}

export function uninstallFetch(): void {
  if (!state.fetchInstalled) return;
  for (const [name, fn] of CHANNELS) unsubscribe(name, fn);
  state.fetchInstalled = false;
}
