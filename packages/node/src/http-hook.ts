/**
 * Outgoing `http`/`https` requests: wraps `request` and `get` of both modules.
 *
 * Why wrap instead of subscribing to `diagnostics_channel`: on Node 20 the
 * `http.client.request.start` message comes after the request has stored its headers, so
 * `setHeader` throws there (ERR_HTTP_HEADERS_SENT) and a subscriber cannot add the trace
 * headers. `get` is wrapped on its own because Node's `get` calls the module-internal
 * `request`, not the exported property. A wrapper hands Node a copy of the options with
 * the headers added, so array headers and `Expect` (stored at construction) work too.
 */
import { EventEmitter } from 'node:events';
// Default imports: the modules' own objects (a namespace import would be a copy).
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { get, openPoint, traceHeaders, type Point, type Profiler } from '@osprofiler/core';
import { isWrapped, markWrapped, unwrap } from '@osprofiler/core/instrument';
import { contained } from './contained';
import { argsWithHeaders, describeHttpArgs } from './http-args';
import { RPC_POINT, rpcErrorInfo, rpcStartInfo, rpcStopInfo } from './points';
import { state } from './state';
import { traceRequestsOn } from './trace-requests';

type AnyFn = (...args: unknown[]) => unknown;
const RPC = Symbol('osprofiler.rpc');

interface RpcState {
  point: Point;
  emit: EventEmitter['emit'];
  resEmit: EventEmitter['emit'] | undefined;
  status: number | undefined;
  responded: boolean;
}

type TracedRequest = ClientRequest & { [RPC]?: RpcState };

function tracedCall(orig: AnyFn, self: unknown, args: ArrayLike<unknown>, profiler: Profiler, protocol: 'http:' | 'https:'): unknown {
  let point: Point | undefined;
  let callArgs = args;
  try {
    let headers;
    if (traceRequestsOn()) {
      const target = describeHttpArgs(args, protocol);
      // Undefined: Node rejects these arguments itself; let it, untouched.
      if (target !== undefined) {
        point = openPoint(RPC_POINT, rpcStartInfo(target), profiler);
        headers = point !== undefined ? traceHeaders(point.profiler) : undefined;
      }
    } else {
      headers = traceHeaders(profiler);
    }
    if (headers !== undefined) callArgs = argsWithHeaders(args, headers);
  } catch (err) {
    contained('http.start', err);
    callArgs = args;
  }
  let req: unknown;
  state.depth++;
  try {
    req = Reflect.apply(orig, self, callArgs);
  } catch (err) {
    point?.stop(rpcErrorInfo(err, undefined));
    throw err;
  } finally {
    state.depth--;
  }
  if (point !== undefined) watch(req as TracedRequest, point);
  return req;
}

function watch(req: TracedRequest, point: Point): void {
  try {
    // Observe through `emit` rather than listeners: an 'error' listener would swallow
    // errors the app does not handle, and a 'response' listener would stop Node from
    // discarding responses nobody listens to.
    req[RPC] = { point, emit: req.emit, resEmit: undefined, status: undefined, responded: false };
    req.emit = tracedEmit as EventEmitter['emit'];
  } catch (err) {
    contained('http.watch', err);
    point.stop();
  }
}

/* eslint-disable prefer-rest-params -- hot paths: pass `arguments` on, no rest array per call */
function tracedEmit(this: TracedRequest, event: string | symbol, arg?: unknown): boolean {
  const st = this[RPC];
  if (st === undefined) return Reflect.apply(EventEmitter.prototype.emit, this, arguments) as boolean;
  try {
    if (event === 'response') onResponse(st, arg as TracedResponse);
    else if (event === 'error') st.point.stop(rpcErrorInfo(arg, st.status));
    else if (event === 'close' && !st.responded) {
      // Closed with neither a response nor an error (an error is reported first).
      st.point.stop({ etype: 'Error', message: 'request closed before a response' });
    }
  } catch (err) {
    contained('http.event', err);
  }
  return Reflect.apply(st.emit, this, arguments) as boolean;
}

type TracedResponse = IncomingMessage & { [RPC]?: RpcState };

function onResponse(st: RpcState, res: TracedResponse): void {
  st.responded = true;
  st.status = res.statusCode;
  // The response is observed through its `emit` too: no listener, no closure per request.
  res[RPC] = st;
  st.resEmit = res.emit;
  res.emit = responseEmit as EventEmitter['emit'];
}

function responseEmit(this: TracedResponse, event: string | symbol): boolean {
  const st = this[RPC];
  if (st === undefined) return Reflect.apply(EventEmitter.prototype.emit, this, arguments) as boolean;
  if (event === 'end' || event === 'close') {
    try {
      if (!st.point.isStopped) {
        if (event === 'end' || this.complete) st.point.stop(rpcStopInfo(st.status));
        else st.point.stop({ response: { status_code: st.status }, etype: 'Error', message: 'aborted' });
      }
    } catch (err) {
      contained('http.response', err);
    }
  }
  return Reflect.apply(st.resEmit as EventEmitter['emit'], this, arguments) as boolean;
}

function wrap(orig: AnyFn, protocol: 'http:' | 'https:'): AnyFn {
  const wrapped = function (this: unknown) {
    // Untraced: one flag check and one context lookup, then the original, untouched.
    if (!state.active || state.depth > 0) return Reflect.apply(orig, this, arguments);
    const profiler = get();
    if (profiler === undefined) return Reflect.apply(orig, this, arguments);
    return tracedCall(orig, this, arguments, profiler, protocol);
  };
  /* eslint-enable prefer-rest-params */
  Object.defineProperty(wrapped, 'length', { value: orig.length, configurable: true });
  return markWrapped(wrapped, orig, 'node');
}

const TARGETS: [typeof http | typeof https, 'request' | 'get', 'http:' | 'https:'][] = [
  [http, 'request', 'http:'],
  [http, 'get', 'http:'],
  [https, 'request', 'https:'],
  [https, 'get', 'https:'],
];

/** Installs the four wrappers once per process (later calls find them in place). */
export function installHttp(): void {
  if (state.httpInstalled) return;
  for (const [mod, name, protocol] of TARGETS) {
    const current = mod[name] as unknown as AnyFn;
    if (isWrapped(current, 'node')) continue;
    (mod as unknown as Record<string, AnyFn>)[name] = wrap(current, protocol);
  }
  state.httpInstalled = true;
  // `import { request } from 'node:http'` sees the wrapper too.
  syncBuiltinESMExports();
}

/** Puts the originals back where our wrapper is still the exported function. */
export function uninstallHttp(): void {
  if (!state.httpInstalled) return;
  for (const [mod, name] of TARGETS) {
    unwrap(mod, name, 'node');
  }
  state.httpInstalled = false;
  syncBuiltinESMExports();
}
