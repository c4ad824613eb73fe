/**
 * The call signatures of `http.request`/`http.get`/`https.request`/`https.get`:
 * `(url: string | URL, options?, callback?)` and `(options, callback?)`. Read them the way
 * Node does, and hand Node a copy with the trace headers added (the caller's objects are
 * never modified).
 */
import type { TraceHeaders } from '@osprofiler/core';
import { defaultPort, type RpcTarget } from './points';

type Options = Record<string, unknown>;

/** Node's own test (`isURL`): a WHATWG URL, or an object shaped like one. */
function isUrlLike(v: unknown): v is URL {
  if (v instanceof URL) return true;
  const o = v as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown } | null;
  return o !== null && typeof o === 'object' && Boolean(o.href) && Boolean(o.protocol) && o.auth === undefined && o.path === undefined;
}

function urlFields(u: URL): Options {
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const out: Options = { protocol: u.protocol, hostname, path: `${u.pathname || ''}${u.search || ''}` };
  if (u.port !== '') out.port = Number(u.port);
  return out;
}

function isOptionsObject(v: unknown): v is Options {
  return v !== null && typeof v === 'object' && !isUrlLike(v);
}

/** Where the call goes, or undefined when Node itself would reject the arguments. */
export function describeHttpArgs(args: ArrayLike<unknown>, fallbackProtocol: 'http:' | 'https:'): RpcTarget | undefined {
  let fields: Options;
  let i = 0;
  const a0 = args[0];
  if (typeof a0 === 'string') {
    // Not a URL: http.request throws ERR_INVALID_URL itself; nothing to record.
    if (!URL.canParse(a0)) return undefined;
    const u = new URL(a0);
    fields = urlFields(u);
    i = 1;
  } else if (isUrlLike(a0)) {
    fields = urlFields(a0 instanceof URL ? a0 : new URL(String((a0 as { href: unknown }).href)));
    i = 1;
  } else {
    fields = {};
  }
  const opts = args[i];
  if (opts !== null && typeof opts === 'object') fields = { ...fields, ...(opts as Options) };
  else if (i === 0) return undefined;

  const agent = fields.agent as { protocol?: unknown; defaultPort?: unknown } | undefined | false;
  const protocol =
    typeof fields.protocol === 'string' && fields.protocol !== ''
      ? fields.protocol
      : agent && typeof agent.protocol === 'string'
        ? agent.protocol
        : fallbackProtocol;
  const method = typeof fields.method === 'string' && fields.method !== '' ? fields.method.toUpperCase() : 'GET';
  const path = typeof fields.path === 'string' && fields.path !== '' ? fields.path : '/';
  if (typeof fields.socketPath === 'string') {
    return { method, protocol, host: fields.socketPath, port: null, path };
  }
  let host = (typeof fields.hostname === 'string' && fields.hostname) || (typeof fields.host === 'string' && fields.host) || 'localhost';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const explicit = Number(fields.port);
  const fallback = Number(fields.defaultPort ?? (agent ? agent.defaultPort : undefined));
  const port =
    fields.port !== undefined && fields.port !== null && fields.port !== '' && Number.isFinite(explicit)
      ? explicit
      : Number.isFinite(fallback) && fallback > 0
        ? fallback
        : defaultPort(protocol);
  return { method, protocol, host, port, path };
}

const INFO = 'x-trace-info';
const HMAC = 'x-trace-hmac';

function isTraceHeaderName(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  const n = name.toLowerCase();
  return n === INFO || n === HMAC;
}

/**
 * The headers object with the trace headers added; undefined when the caller set
 * `X-Trace-Info`/`X-Trace-HMAC` themselves (their explicit headers win) or when the
 * headers value is of a kind Node does not take.
 */
function mergeHeaders(existing: unknown, h: TraceHeaders): unknown {
  if (existing === undefined || existing === null) return { 'X-Trace-Info': h['X-Trace-Info'], 'X-Trace-HMAC': h['X-Trace-HMAC'] };
  if (Array.isArray(existing)) {
    if (existing.length > 0 && Array.isArray(existing[0])) {
      // [[name, value], …]
      if (existing.some((pair) => Array.isArray(pair) && isTraceHeaderName(pair[0]))) return undefined;
      return [...existing, ['X-Trace-Info', h['X-Trace-Info']], ['X-Trace-HMAC', h['X-Trace-HMAC']]];
    }
    // [name, value, name, value, …]
    for (let i = 0; i < existing.length; i += 2) if (isTraceHeaderName(existing[i])) return undefined;
    return [...existing, 'X-Trace-Info', h['X-Trace-Info'], 'X-Trace-HMAC', h['X-Trace-HMAC']];
  }
  if (typeof existing === 'object') {
    for (const k of Object.keys(existing)) if (isTraceHeaderName(k)) return undefined;
    return { ...(existing as Options), 'X-Trace-Info': h['X-Trace-Info'], 'X-Trace-HMAC': h['X-Trace-HMAC'] };
  }
  return undefined;
}

/**
 * The arguments to pass on, with the trace headers in (a copy of) the options object; the
 * same `args` when nothing should be added.
 */
export function argsWithHeaders(args: ArrayLike<unknown>, h: TraceHeaders): ArrayLike<unknown> {
  const a0 = args[0];
  const out = Array.prototype.slice.call(args) as unknown[];
  if (typeof a0 === 'string' || isUrlLike(a0)) {
    const opts = out[1];
    if (isOptionsObject(opts)) {
      const headers = mergeHeaders(opts.headers, h);
      if (headers === undefined) return args;
      out[1] = { ...opts, headers };
    } else if (opts === undefined || opts === null) {
      out[1] = { headers: mergeHeaders(undefined, h) };
      if (out.length < 2) out.length = 2;
    } else if (typeof opts === 'function') {
      out.splice(1, 0, { headers: mergeHeaders(undefined, h) });
    } else {
      return args;
    }
    return out;
  }
  if (isOptionsObject(a0)) {
    const headers = mergeHeaders(a0.headers, h);
    if (headers === undefined) return args;
    out[0] = { ...a0, headers };
    return out;
  }
  return args;
}
