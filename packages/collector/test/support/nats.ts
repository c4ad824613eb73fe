/**
 * NATS for the collector tests: names of the test's own (stream, subjects, bucket), a
 * nats-server of the test's own (free port, own store dir) that can be restarted, and the
 * collector / upstream agent processes. Everything is stopped by handle.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from '../../../../tools/testing/redis-server';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, spawnNode, stopProc, tempDir, waitFor, type Proc } from '../../../agent/test/support/procs';
import { flushApp, load, startApp } from '../../../agent/test/support/load';
import { readStore, sentPoints } from '../../../agent/test/support/store';

export const SHARED_NATS = 'nats://127.0.0.1:4222';
export const COLLECTOR_DAEMON = resolve(__dirname, '../../dist/daemon.js');
export const AGENT_DAEMON = resolve(__dirname, '../../../agent/dist/daemon.js');

export interface Names {
  stream: string;
  prefix: string;
  queue: string;
}

export function testNames(tag: string): Names {
  const r = randomBytes(4).toString('hex');
  return { stream: `OSPT_${tag}_${r}`, prefix: `ospt${tag}${r}`, queue: `osprofiler-collector-${tag}-${r}` };
}

/** Deletes the test's stream, dead-letter stream and lease bucket. */
export async function dropJetStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url.replace(/^nats:\/\//, '') });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of [stream, `${stream}_DEADLETTER`, `KV_${stream}_LEASES`]) await jsm.streams.delete(s).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** A nats-server of the test's own: loopback, free port, own store dir; restartable with the same store. */
export class OwnNats {
  proc: Proc | undefined;
  readonly dir = tempDir('nats');
  constructor(
    readonly port: number,
    /** Extra server flags, e.g. --user/--pass. */
    readonly flags: string[] = [],
    /** Listen address: 127.0.0.1, or ::1 for the IPv6 test. */
    readonly host = '127.0.0.1',
  ) {}

  static async create(flags: string[] = [], host?: string): Promise<OwnNats> {
    return new OwnNats(await freePort(), flags, host);
  }

  get url(): string {
    return `nats://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('/usr/sbin/nats-server', ['-a', this.host, '-p', String(this.port), '-js', '-sd', join(this.dir, 'js'), '-m', '0', ...this.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    this.proc = { child, stderr: () => out, exited };
    await waitFor(`nats-server on ${this.port}`, () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${out}`);
      return /Server is ready/.test(out);
    });
  }

  async stop(): Promise<void> {
    if (this.proc !== undefined) await stopProc(this.proc);
    this.proc = undefined;
  }
}

export interface CollectorProc extends Proc {
  health: string;
}

export async function startCollectorProc(args: { nats: string; backend: string; names: Names; partitions: number; extra?: string[] }): Promise<CollectorProc> {
  const health = `127.0.0.1:${await freePort()}`;
  const argv = [
    COLLECTOR_DAEMON,
    '--nats', args.nats,
    '--backend', args.backend,
    '--stream', args.names.stream,
    '--subject-prefix', args.names.prefix,
    '--partitions', String(args.partitions),
    '--health', health,
    // Fast takeover for the tests (defaults: 6 s TTL, 1.5 s renew, 15 s ack wait).
    '--lease-ttl-ms', '3000',
    '--lease-renew-ms', '700',
    '--ack-wait-ms', '4000',
    ...(args.extra ?? []),
  ];
  const p = spawnNode(argv);
  await waitFor('collector start', () => {
    if (p.child.exitCode !== null) throw new Error(`collector exited ${p.child.exitCode}: ${p.stderr()}`);
    return /consuming/.test(p.stderr());
  }, 20_000);
  return { ...p, health };
}

export async function startUpstreamAgent(args: { socket: string; nats: string; names: Names; partitions: number; spool?: string; agentId?: string; health?: string; extra?: string[] }): Promise<Proc> {
  const argv = [AGENT_DAEMON, '--listen', args.socket, '--upstream', args.nats, '--subject-prefix', args.names.prefix, '--partitions', String(args.partitions), ...(args.extra ?? [])];
  if (args.spool !== undefined) argv.push('--spool-dir', args.spool);
  if (args.agentId !== undefined) argv.push('--agent-id', args.agentId);
  if (args.health !== undefined) argv.push('--health', args.health);
  const p = spawnNode(argv);
  await waitFor(`agent on ${args.socket}`, () => {
    if (p.child.exitCode !== null) throw new Error(`agent exited ${p.child.exitCode}: ${p.stderr()}`);
    return /listening on/.test(p.stderr());
  });
  return p;
}

export function healthz(address: string): Promise<{ partitions: number[]; metrics: Record<string, unknown> & { written: number; messages: number; redeliveries: number; duplicates: number; deadLetters: Record<string, number> } }> {
  const [host, port] = address.split(':');
  return new Promise((res, rej) => {
    const req = request({ host, port: Number(port), path: '/healthz' }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => {
        try {
          res(JSON.parse(body));
        } catch (err) {
          rej(err);
        }
      });
    });
    req.on('error', rej);
    req.end();
  });
}

export interface Servers {
  nats: OwnNats;
  redis: RedisServer;
  /** Processes the test started; SIGKILLed (last first) in afterAll. */
  procs: Proc[];
}

/** A nats-server (with the flags `natsFlags` resolves to) and a redis-server of the test's own: started in beforeAll, stopped with the test's processes in afterAll. */
export function useServers(natsFlags: () => string[] | Promise<string[]>): Servers {
  const s = { procs: [] as Proc[] } as Servers;
  beforeAll(async () => {
    s.nats = await OwnNats.create(await natsFlags());
    await s.nats.start();
    s.redis = new RedisServer({ port: await freePort(), persist: true });
    await s.redis.start();
  });
  afterAll(async () => {
    for (const p of s.procs.reverse()) await stopProc(p, 'SIGKILL');
    await s.nats?.stop();
    await s.redis?.stop();
  });
  return s;
}

/** The collector daemon with `extra` flags, expected to fail start-up (exit 1); its stderr. */
export async function refusedCollector(s: Servers, names: Names, extra: string[], nats = s.nats.url): Promise<string> {
  const p = spawnNode([COLLECTOR_DAEMON, '--nats', nats, '--backend', s.redis.url(), '--stream', names.stream, '--subject-prefix', names.prefix, ...extra]);
  s.procs.push(p);
  const code = await p.exited;
  if (code !== 1) throw new Error(`collector exited ${code}, expected 1: ${p.stderr()}`);
  return p.stderr();
}

/**
 * One upstream agent (spawned, its NATS flags in `agentExtra`) fed by an app under bounded
 * load; resolves when every point sent is in the redis store, once. The processes go into
 * `procs` for the caller's afterAll.
 */
export async function flowThrough(args: { nats: string; names: Names; partitions: number; redisPort: number; procs: Proc[]; agentExtra?: string[]; requests?: number }): Promise<{ expected: number; stored: number; duplicates: number; agent: Proc }> {
  const socket = join(tempDir('flow'), 'a.sock');
  const agent = await startUpstreamAgent({ socket, nats: args.nats, names: args.names, partitions: args.partitions, extra: args.agentExtra });
  args.procs.push(agent);
  const app = await startApp(`agent://${socket}`);
  args.procs.push(app);
  const { sent, failures } = await load(app.port, { concurrency: 2, maxRequests: args.requests ?? 100, durationMs: 10_000 });
  if (failures !== 0) throw new Error(`${failures} app requests failed`);
  if ((await flushApp(app.port)).pending !== 0) throw new Error('app still has points pending');
  const expected = sentPoints(sent);
  let stored = await readStore(args.redisPort, sent);
  await waitFor('stored', async () => (stored = await readStore(args.redisPort, sent)).points.size >= expected.size, 20_000).catch(() => undefined);
  return { expected: expected.size, stored: stored.points.size, duplicates: stored.duplicates, agent };
}

export interface TlsFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  otherCa: string;
}

/**
 * A CA of the test's own and the certificates signed by it (openssl, EC P-256, 2 days):
 * the server's with IP SANs 127.0.0.1 and ::1 (nats.js checks the name against the IP it
 * dialled) and a client certificate for mutual TLS.
 */
export function makeTlsFiles(): TlsFiles {
  const dir = tempDir('tls');
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => void execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) ssl('req', '-x509', ...ec, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`), '-days', '2', '-subj', `/CN=osprofiler test ${ca}`);
  const sign = (name: string, ext: string): void => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=osprofiler test ${name}`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  sign('server', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  sign('client', 'extendedKeyUsage=clientAuth\n');
  return { dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), otherCa: f('other-ca.pem') };
}

/** nats-server flags for TLS with these files; `verify` asks every client for a certificate (mutual TLS). */
export function tlsServerFlags(t: TlsFiles, verify: boolean): string[] {
  return ['--tls', '--tlscert', t.serverCert, '--tlskey', t.serverKey, '--tlscacert', t.ca, ...(verify ? ['--tlsverify'] : [])];
}

export { freePort, spawnNode, stopProc, tempDir, waitFor, type Proc };

export interface OperatorMode {
  /** nats-server config (`-c`): operator JWT, system account, resolver MEMORY with both accounts preloaded. */
  config: string;
  /** A user of the account with JetStream, as `nsc generate creds` writes it. */
  creds: string;
  /** A user signed by an account the server does not know. */
  strangerCreds: string;
}

/**
 * Decentralised JWT auth made by the test (@nats-io/jwt): an operator, a system account,
 * an application account with JetStream limits, its user's .creds, and a user of an
 * unknown account. No nsc, no shared resolver: the server preloads the account JWTs.
 */
export async function makeOperatorMode(): Promise<OperatorMode> {
  const jwt = await import('@nats-io/jwt');
  const dir = tempDir('jwt');
  const okp = jwt.createOperator();
  const sys = jwt.createAccount();
  const app = jwt.createAccount();
  const unknown = jwt.createAccount();
  const operatorJwt = await jwt.encodeOperator('osp-test-operator', okp, { system_account: sys.getPublicKey() });
  const sysJwt = await jwt.encodeAccount('SYS', sys, {}, { signer: okp });
  const unlimited = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, subs: -1, data: -1, payload: -1, conn: -1, imports: -1, exports: -1, wildcards: true, leaf: -1 };
  const appJwt = await jwt.encodeAccount('APP', app, { limits: unlimited }, { signer: okp });
  const userCreds = async (account: ReturnType<typeof jwt.createAccount>, name: string): Promise<string> => {
    const ukp = jwt.createUser();
    const file = join(dir, `${name}.creds`);
    writeFileSync(file, jwt.fmtCreds(await jwt.encodeUser(name, ukp, account), ukp), { mode: 0o600 });
    return file;
  };
  const config = join(dir, 'server.conf');
  writeFileSync(
    config,
    [
      `operator: ${operatorJwt}`,
      `system_account: ${sys.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${sys.getPublicKey()}: ${sysJwt}`,
      `  ${app.getPublicKey()}: ${appJwt}`,
      '}',
      '',
    ].join('\n'),
  );
  return { config, creds: await userCreds(app, 'osp-collector'), strangerCreds: await userCreds(unknown, 'stranger') };
}
