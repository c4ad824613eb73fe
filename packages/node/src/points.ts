/** What an outgoing call records: the `rpc` point's start and stop info. */
import { errorInfo } from '@osprofiler/core/instrument';

export const RPC_POINT = 'rpc';

/** Where an outgoing request goes (no credentials: userinfo and `auth` are never kept). */
export interface RpcTarget {
  method: string;
  /** `http:` or `https:` */
  protocol: string;
  /** Host name without IPv6 brackets. */
  host: string;
  /** Null for a Unix socket. */
  port: number | null;
  /** Path with the query string. */
  path: string;
}

function hostPort(t: RpcTarget): string {
  const h = t.host.includes(':') ? `[${t.host}]` : t.host;
  return t.port === null ? h : `${h}:${t.port}`;
}

/**
 * `function.name` is `<METHOD> <host>:<port><path without query>` (Python's `trace show
 * --dot` labels rpc points with it); `request.url` keeps the query but never credentials.
 */
export function rpcStartInfo(t: RpcTarget): object {
  const q = t.path.indexOf('?');
  const pathOnly = q < 0 ? t.path : t.path.slice(0, q);
  const hp = hostPort(t);
  return {
    function: { name: `${t.method} ${hp}${pathOnly}` },
    request: { method: t.method, url: `${t.protocol}//${hp}${t.path}`, host: t.host, port: t.port },
  };
}

export function rpcStopInfo(statusCode: number | undefined): object | undefined {
  return statusCode === undefined ? undefined : { response: { status_code: statusCode } };
}

export function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

/**
 * Stop info for a failed call: core's `etype`/`message`, except that a DOMException
 * (fetch's AbortError/TimeoutError) is named by its `name`, as http's own AbortError is.
 */
export function rpcErrorInfo(err: unknown, statusCode: number | undefined): object {
  const e = errorInfo(err);
  if (e.etype === 'DOMException' && err instanceof Error && err.name) e.etype = err.name;
  return statusCode === undefined ? e : { response: { status_code: statusCode }, ...e };
}
