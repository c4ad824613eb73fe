/**
 * Connecting to NATS the way NATS users expect: `nats://user:pass@host:4222` (or
 * `nats://token@host`), several servers comma-separated, a `.creds` file, TLS with
 * `tls://` or CA / certificate / key files. The client library is loaded only here, so
 * an agent without `--upstream` never needs it.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { redactConnectionString } from '@osprofiler/core/instrument';
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

/** Reads a file named by an option, or fails naming the option (start-up check, not at first connect). */
function readOption(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AgentError('OSP_AGENT_BAD_OPTION', `${flag} ${file}: ${(err as Error).message}`);
  }
}

function badFile(flag: string, file: string, what: string): never {
  throw new AgentError('OSP_AGENT_BAD_OPTION', `${flag} ${file}: ${what}`);
}

/**
 * Start-up checks of the TLS and creds files: readable and of the right kind, so a typo
 * fails `osprofiler agent/collector` at once, naming the option, instead of every
 * reconnect failing later in the log. Files are read again at each connect (rotation).
 */
export function checkNatsFiles(access: Pick<NatsAccess, 'credsFile' | 'tlsCa' | 'tlsCert' | 'tlsKey'>): void {
  if ((access.tlsCert === undefined) !== (access.tlsKey === undefined)) {
    throw new AgentError('OSP_AGENT_BAD_OPTION', '--nats-tls-cert and --nats-tls-key go together (mutual TLS needs both)');
  }
  const pem: [string, string | undefined, (b: Buffer) => unknown, string][] = [
    ['--nats-tls-ca', access.tlsCa, (b) => new X509Certificate(b), 'not a PEM certificate (CA bundle)'],
    ['--nats-tls-cert', access.tlsCert, (b) => new X509Certificate(b), 'not a PEM certificate'],
    // The key's bytes never go into the message.
    ['--nats-tls-key', access.tlsKey, (b) => createPrivateKey(b), 'not a PEM private key (or an encrypted one)'],
  ];
  for (const [flag, file, parse, what] of pem) {
    if (file === undefined) continue;
    const bytes = readOption(flag, file);
    try {
      parse(bytes);
    } catch {
      badFile(flag, file, what);
    }
  }
  if (access.credsFile !== undefined) {
    const text = readOption('--nats-creds', access.credsFile).toString('utf8');
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
      badFile('--nats-creds', access.credsFile, 'not a NATS .creds file (expected a user JWT and an NKEY seed block, as `nsc generate creds` writes)');
    }
  }
}

/** The connection options for `access` (credentials out of the URL, files read now). */
export function natsOptions(access: NatsAccess, t: Pick<Transport, 'credsAuthenticator'>): NodeConnectionOptions {
  checkNatsFiles(access);
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let tls = false;
  for (const raw of access.url.split(',').map((s) => s.trim()).filter(Boolean)) {
    const full = raw.includes('://') ? raw : `nats://${raw}`;
    // Messages show the url with its password as ***.
    const shown = redactConnectionString(full);
    let u: URL;
    try {
      u = new URL(full);
    } catch {
      throw new AgentError('OSP_AGENT_BAD_OPTION', `NATS url "${shown}" does not parse (expected nats://[user:pass@]host:4222)`);
    }
    if (!['nats:', 'tls:'].includes(u.protocol)) throw new AgentError('OSP_AGENT_BAD_OPTION', `NATS url "${shown}": scheme must be nats:// or tls://`);
    if (u.protocol === 'tls:') tls = true;
    if (u.username !== '') {
      user = decodeURIComponent(u.username);
      pass = u.password === '' ? undefined : decodeURIComponent(u.password);
    }
    // URL keeps IPv6 brackets in hostname (`[::1]`), which is the form nats.js wants.
    servers.push(`${u.hostname}:${u.port === '' ? 4222 : u.port}`);
  }
  if (servers.length === 0) throw new AgentError('OSP_AGENT_BAD_OPTION', 'no NATS server given (expected nats://host:4222)');
  const opts: NodeConnectionOptions = {
    servers,
    name: access.name,
    // Never give up: a NATS restart is an outage to wait out, not a reason to stop.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    // No stack captured per request for its possible timeout error: a JetStream publish
    // (its ack is a request) took ~340k instructions with it, ~205k without (20 KB bodies,
    // callgrind) — 0.45–1.1k a point at 300–125 points a message. Errors keep their messages.
    noAsyncTraces: true,
  };
  if (user !== undefined && pass !== undefined) {
    opts.user = user;
    opts.pass = pass;
  } else if (user !== undefined) {
    opts.token = user;
  }
  if (access.credsFile !== undefined) {
    opts.authenticator = t.credsAuthenticator(readOption('--nats-creds', access.credsFile));
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
  try {
    return await t.connect(natsOptions(access, t));
  } catch (err) {
    throw tlsHint(err, access);
  }
}

// Node's codes for a server certificate that does not verify (the message alone,
// "unable to verify the first certificate", does not say which option to look at).
const UNTRUSTED = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** A certificate verification failure, reworded to name the option; other errors as they are. */
export function tlsHint(err: unknown, access: Pick<NatsAccess, 'url' | 'tlsCa' | 'tlsCert'>): unknown {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: string };
  const code = [e?.code, e?.cause?.code].find((c): c is string => typeof c === 'string' && UNTRUSTED.test(c));
  if (code === undefined) {
    // A server that wants a client certificate (mutual TLS) closes the TLS 1.3 session
    // after the handshake; nats.js then only reports "timeout".
    const tls = access.tlsCa !== undefined || /(^|,)\s*tls:/.test(access.url);
    if (tls && access.tlsCert === undefined && /timeout|closed/i.test(e?.message ?? '')) {
      return new AgentError('OSP_AGENT_BAD_OPTION', `${e.message ?? 'failed'} (if the server asks clients for certificates, mutual TLS, give --nats-tls-cert and --nats-tls-key)`);
    }
    return err;
  }
  return new AgentError('OSP_AGENT_BAD_OPTION', `TLS: the server's certificate is not trusted (${code}: ${e.message ?? ''}); check --nats-tls-ca (the CA that signed it) and that the URL's host is in its names`);
}
