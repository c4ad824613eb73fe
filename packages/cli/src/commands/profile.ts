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
import { Command, InvalidArgumentError } from 'commander';
import { redact, resolveConnectionString, withDriver } from '../connection';
import { CliError } from '../io';
import type { CliIO } from '../io';
import type { RunState } from '../program';
import { renderTree } from '../render/tree';

export const DEFAULT_PROFILE_TIMEOUT_MS = 5000;
const POLL_MS = 100;
export const HMAC_KEYS_ENV = 'OSPROFILER_HMAC_KEYS';

export interface ProfileOptions {
  hmacKey?: string;
  request?: string;
  data?: string;
  header?: string[];
  show?: boolean;
  timeoutMs: number;
  connectionString?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function usage(message: string): CliError {
  return new CliError(message, 2);
}

function timeoutMs(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 600_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds from 1 to 600000.');
  }
  return Number(value);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
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
  const { report, settled } = await withDriver(cs, io, (driver) => waitForTrace(driver, baseId, opts.timeoutMs));
  if (nodes(report).length === 0) {
    throw new CliError(
      `no trace points for ${baseId} arrived in '${redact(cs)}' within ${opts.timeoutMs} ms. ` +
        'Check that the service accepts this HMAC key, has tracing enabled and writes to this backend.',
      1,
    );
  }
  io.stdout(renderTree(report, { baseId, width: Math.min(io.columns ?? 100, 100) }));
  if (!settled) io.stderr(`warning: the trace was still changing after ${opts.timeoutMs} ms; points may be missing (raise --timeout-ms)\n`);
  return 0;
}

const CS_HELP = 'storage to read the trace from with --show (as for `trace show`)';

/** Adds `profile` to the program (called from program.ts). */
export function registerProfileCommand(program: Command, io: CliIO, state: RunState): void {
  program
    .command('profile')
    .description('Send one request signed for a new trace, print its status and trace id; --show prints the trace.')
    .argument('<url>', 'http:// or https:// URL of a service traced with OSProfiler (Node or Python)')
    .option('--hmac-key <key>', `key to sign the trace with (default: the first of env ${HMAC_KEYS_ENV})`)
    .option('-X, --request <method>', 'HTTP method (default: GET, or POST with -d)')
    .option('-d, --data <data>', 'request body; @FILE reads it from FILE')
    .option('-H, --header <header>', "extra header 'Name: value' (repeatable)", collect)
    .option('--show', 'wait for the trace points and print the tree')
    .option('--timeout-ms <ms>', 'bound for the request, and for the wait with --show', timeoutMs, DEFAULT_PROFILE_TIMEOUT_MS)
    .option('--connection-string <cs>', CS_HELP)
    .action(async (url: string, opts: ProfileOptions) => {
      state.exitCode = await profile(url, opts, io);
    });
}
