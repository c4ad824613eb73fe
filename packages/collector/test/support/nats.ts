/**
 * NATS for the collector tests: names of the test's own (stream, subjects, bucket), a
 * nats-server of the test's own (free port, own store dir) that can be restarted, and the
 * collector / upstream agent processes. Everything is stopped by handle.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, spawnNode, stopProc, tempDir, waitFor, type Proc } from '../../../agent/test/support/procs';

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
  ) {}

  static async create(flags: string[] = []): Promise<OwnNats> {
    return new OwnNats(await freePort(), flags);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.dir, 'js'), '-m', '0', ...this.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function startUpstreamAgent(args: { socket: string; nats: string; names: Names; partitions: number; spool?: string; agentId?: string; health?: string }): Promise<Proc> {
  const argv = [AGENT_DAEMON, '--listen', args.socket, '--upstream', args.nats, '--subject-prefix', args.names.prefix, '--partitions', String(args.partitions)];
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

export { freePort, spawnNode, stopProc, tempDir, waitFor, type Proc };
