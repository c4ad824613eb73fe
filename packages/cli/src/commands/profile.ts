/**
 * `osprofiler profile <url> --hmac-key K [-X METHOD] [-d DATA] [-H 'Name: value']...
 *  [--show] [--timeout-ms N] [--connection-string CS]`
 *
 * Sends one request signed for a fresh trace (parent = base_id, as Python's
 * `profiler.init` + `get_trace_id_headers`), prints `HTTP <status>` and
 * `Trace ID: <base_id>`; with `--show` it then waits for the service's points to reach
 * the backend and prints the tree.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseHmacKeys, signedPack, TRACE_HMAC_HEADER, TRACE_INFO_HEADER } from '@osprofiler/core';
import type { Driver, Report, ReportNode } from '@osprofiler/core';
import { redact, resolveConnectionString, withDriver } from '../connection';
import { CliError, CONNECTION_ENV, HMAC_KEYS_ENV } from '../io';
import type { CliIO } from '../io';
import { renderTree } from '../render/tree';
import { describeStore, treeWidth } from '../store';

export { DEFAULT_PROFILE_TIMEOUT_MS, HMAC_KEYS_ENV } from '../io';
const POLL_MS = 100;

export interface ProfileOptions {
  hmacKey?: string;
  request?: string;
  data?: string;
  header?: string[];
  show?: boolean;
  timeoutMs: number;
  connectionString?: string;
  width?: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function usage(message: string): CliError {
  return new CliError(message, 2);
}

/** `Name: value` as curl takes it; the trace headers themselves are ours to set. */
function parseHeader(h: string): [string, string] {
  const colon = h.indexOf(':');
  const name = colon < 0 ? '' : h.slice(0, colon).trim();
  if (!TOKEN.test(name)) throw usage(`bad header ${JSON.stringify(h)}: expected 'Name: value'`);
  const lower = name.toLowerCase();
  if (lower === TRACE_INFO_HEADER.toLowerCase() || lower === TRACE_HMAC_HEADER.toLowerCase()) {
    throw usage(`${name} is set by osprofiler profile itself; leave it out`);
  }
  return [name, h.slice(colon + 1).trim()];
}

/** The key from --hmac-key, else the first of OSPROFILER_HMAC_KEYS. */
function hmacKeyOf(opts: ProfileOptions, io: CliIO): string {
  if (opts.hmacKey !== undefined) {
    if (opts.hmacKey === '') throw usage('--hmac-key must not be empty');
    return opts.hmacKey;
  }
  const fromEnv = parseHmacKeys(io.env[HMAC_KEYS_ENV] ?? '');
  if (fromEnv.length > 0) return fromEnv[0];
  throw usage(`an HMAC key is required: pass --hmac-key K (or set ${HMAC_KEYS_ENV})`);
}

interface Prepared {
  url: URL;
  init: RequestInit & { headers: Headers };
  baseId: string;
}

export function prepareRequest(target: string, opts: ProfileOptions, io: CliIO): Prepared {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw usage(`bad URL ${JSON.stringify(target)}: expected http://host[:port]/path or https://…`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`bad URL ${JSON.stringify(target)}: only http and https are supported`);
  const key = hmacKeyOf(opts, io);
  const method = (opts.request ?? (opts.data !== undefined ? 'POST' : 'GET')).toUpperCase();
  if (!TOKEN.test(method)) throw usage(`bad method ${JSON.stringify(opts.request)}`);

  const headers = new Headers();
  for (const h of opts.header ?? []) {
    const [name, value] = parseHeader(h);
    headers.append(name, value);
  }
  // fetch refuses URLs with credentials: send them as curl does, in Authorization.
  if (url.username !== '' || url.password !== '') {
    if (!headers.has('authorization')) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      headers.set('Authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
    }
    url.username = '';
    url.password = '';
  }
  let body: string | Buffer | undefined;
  if (opts.data !== undefined) {
    if (method === 'GET' || method === 'HEAD') throw usage(`-d cannot be used with ${method}`);
    if (opts.data.startsWith('@')) {
      try {
        body = readFileSync(opts.data.slice(1));
      } catch (err) {
        throw usage(`cannot read ${opts.data.slice(1)}: ${(err as Error).message}`);
      }
    } else {
      body = opts.data;
    }
    if (!headers.has('content-type')) headers.set('Content-Type', 'application/x-www-form-urlencoded');
  }

  const baseId = randomUUID();
  const signed = signedPack({ base_id: baseId, parent_id: baseId }, key);
  headers.set(TRACE_INFO_HEADER, signed.info);
  headers.set(TRACE_HMAC_HEADER, signed.hmac);
  return { url, init: { method, headers, body }, baseId };
}

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

function requestFailed(err: unknown, url: URL, ms: number): CliError {
  const where = url.origin;
  const e = err as Error;
  if (e.name === 'TimeoutError') return new CliError(`no response from ${where} within ${ms} ms (--timeout-ms)`, 1);
  switch (causeCode(err)) {
    case 'ECONNREFUSED':
      return new CliError(`cannot connect to ${where}: connection refused (is the service running on that port?)`, 1);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(`cannot resolve the host of ${where}`, 1);
    case 'ECONNRESET':
      return new CliError(`${where} closed the connection before answering`, 1);
  }
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : e.message;
  return new CliError(`request to ${where} failed: ${detail}`, 1);
}

function nodes(report: Report): ReportNode[] {
  const out: ReportNode[] = [];
  const walk = (list: ReportNode[]) => {
    for (const n of list) {
      out.push(n);
      walk(n.children ?? []);
    }
  };
  walk(report.children ?? []);
  return out;
}

/** Every point has its stop event (Python's builder adds `exception` only then). */
function complete(list: ReportNode[]): boolean {
  return list.every((n) => 'exception' in (n.info as object));
}

/**
 * Reads the trace until it stops changing: at least one point, every point stopped, and
 * the same number of points on two reads in a row. Bounded by `ms`.
 */
async function waitForTrace(driver: Driver, baseId: string, ms: number): Promise<{ report: Report; settled: boolean }> {
  const deadline = Date.now() + ms;
  let last = -1;
  let report: Report = await driver.getReport(baseId);
  for (;;) {
    const list = nodes(report);
    if (list.length > 0 && list.length === last && complete(list)) return { report, settled: true };
    last = list.length;
    if (Date.now() + POLL_MS > deadline) return { report, settled: false };
    await new Promise((r) => setTimeout(r, POLL_MS));
    report = await driver.getReport(baseId);
  }
}

export async function profile(target: string, opts: ProfileOptions, io: CliIO): Promise<number> {
  const { url, init, baseId } = prepareRequest(target, opts, io);
  let status: number;
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'manual' });
    status = res.status;
    await res.arrayBuffer(); // the body is read and discarded
  } catch (err) {
    throw requestFailed(err, url, opts.timeoutMs);
  }
  io.stdout(`HTTP ${status}\nTrace ID: ${baseId}\n`);
  if (!opts.show) return 0;

  const cs = resolveConnectionString(opts.connectionString, io.env);
  let store = `'${redact(cs)}'`;
  const { report, settled } = await withDriver(cs, io, (driver) => {
    store = describeStore(cs, driver);
    io.stderr(`waiting up to ${opts.timeoutMs} ms (--timeout-ms) for the service's trace points of ${baseId} in ${store}\n`);
    return waitForTrace(driver, baseId, opts.timeoutMs);
  });
  if (nodes(report).length === 0) throw new CliError(nothingArrived(baseId, store, opts), 1);
  io.stdout(renderTree(report, { baseId, width: treeWidth(opts.width, io) }));
  if (!settled) io.stderr(`warning: the trace was still changing after ${opts.timeoutMs} ms; points may be missing (raise --timeout-ms)\n`);
  return 0;
}

/** No point arrived: the likely causes, the most common first. */
function nothingArrived(baseId: string, store: string, opts: ProfileOptions): string {
  const key = opts.hmacKey !== undefined ? 'the key given with --hmac-key' : `the first key of ${HMAC_KEYS_ENV}`;
  return (
    `no trace points for ${baseId} arrived in ${store} within ${opts.timeoutMs} ms. Likely causes:\n` +
    `  1. the service does not accept ${key}: it must be one of the service's hmacKeys (${HMAC_KEYS_ENV}); ` +
    'a header signed with any other key is served untraced, without an error;\n' +
    '  2. tracing is off in the service: enabled defaults to false (as in Python); set enabled: true in configure() or OSPROFILER_ENABLED=true;\n' +
    `  3. the service writes to another store: pass the one it uses with --connection-string (or ${CONNECTION_ENV});\n` +
    '  4. the service stores its points in batches (every 100 ms by default) and they had not arrived yet: raise --timeout-ms.'
  );
}
