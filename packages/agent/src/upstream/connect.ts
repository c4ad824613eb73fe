/**
 * Connecting to NATS the way NATS users expect: `nats://user:pass@host:4222` (or
 * `nats://token@host`), several servers comma-separated, a `.creds` file, TLS with
 * `tls://` or CA / certificate / key files. The client library is loaded only here, so
 * an agent without `--upstream` never needs it.
 */
import { readFileSync } from 'node:fs';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { AgentError } from '../errors';

export interface NatsAccess {
  /** `nats://[user:pass@]host:port[,nats://…]`; `tls://` asks for TLS. */
  url: string;
  /** A NATS `.creds` file (JWT + NKey seed). */
  credsFile?: string;
  /** TLS: CA bundle, client certificate and key (PEM files). */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** The connection's name, shown by `nats server report connections`. */
  name?: string;
}

type Transport = typeof import('@nats-io/transport-node');

/** Loads an optional peer, naming the package to install when it is missing. */
export function requireNats<T>(id: string, what: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new AgentError('OSP_AGENT_BAD_OPTION', `${what} needs the ${id} package: npm install ${id}`);
    }
    throw err;
  }
}

/** The connection options for `access` (credentials out of the URL, files read now). */
export function natsOptions(access: NatsAccess, t: Pick<Transport, 'credsAuthenticator'>): NodeConnectionOptions {
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let tls = false;
  for (const raw of access.url.split(',').map((s) => s.trim()).filter(Boolean)) {
    let u: URL;
    try {
      u = new URL(raw.includes('://') ? raw : `nats://${raw}`);
    } catch {
      throw new AgentError('OSP_AGENT_BAD_OPTION', `NATS url "${raw}" does not parse (expected nats://[user:pass@]host:4222)`);
    }
    if (!['nats:', 'tls:'].includes(u.protocol)) throw new AgentError('OSP_AGENT_BAD_OPTION', `NATS url "${raw}": scheme must be nats:// or tls://`);
    if (u.protocol === 'tls:') tls = true;
    if (u.username !== '') {
      user = decodeURIComponent(u.username);
      pass = u.password === '' ? undefined : decodeURIComponent(u.password);
    }
    servers.push(`${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port === '' ? 4222 : u.port}`);
  }
  if (servers.length === 0) throw new AgentError('OSP_AGENT_BAD_OPTION', 'no NATS server given (expected nats://host:4222)');
  const opts: NodeConnectionOptions = {
    servers,
    name: access.name,
    // Never give up: a NATS restart is an outage to wait out, not a reason to stop.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
  };
  if (user !== undefined && pass !== undefined) {
    opts.user = user;
    opts.pass = pass;
  } else if (user !== undefined) {
    opts.token = user;
  }
  if (access.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(access.credsFile);
    } catch (err) {
      throw new AgentError('OSP_AGENT_BAD_OPTION', `NATS creds file ${access.credsFile}: ${(err as Error).message}`);
    }
    opts.authenticator = t.credsAuthenticator(creds);
  }
  if (tls || access.tlsCa !== undefined || access.tlsCert !== undefined) {
    opts.tls = {
      caFile: access.tlsCa,
      certFile: access.tlsCert,
      keyFile: access.tlsKey,
    };
  }
  return opts;
}

/** Connects (one attempt; the caller retries with backoff). */
export async function connectNats(access: NatsAccess): Promise<NatsConnection> {
  const t = requireNats<Transport>('@nats-io/transport-node', 'NATS (--upstream / --nats)');
  return t.connect(natsOptions(access, t));
}
