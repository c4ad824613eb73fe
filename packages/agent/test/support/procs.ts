/** Real processes for the tests: agents and the app fixture (each test's own redis-server: tools/testing/redis-server). Each test stops what it started, by handle. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir as sharedTempDir } from '../../../../tools/testing/temp-dir';

export const AGENT_DIST = resolve(__dirname, '../../dist');
export const DAEMON = join(AGENT_DIST, 'daemon.js');
export const FIXTURES = resolve(__dirname, '../fixtures');
export { freePort } from '../../../../tools/testing/redis-server';

/** A temp dir of the test file's own, removed when the file is done (tools/testing/temp-dir). */
export function tempDir(prefix: string): string {
  return sharedTempDir(`osp-agent-${prefix}-`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function connectable(path: string): Promise<boolean> {
  return new Promise((r) => {
    const s = createConnection(path);
    s.on('connect', () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
}

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function spawnNode(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exited };
}

export async function startAgentProc(args: { socket: string; backend: string; spool?: string; health?: string }): Promise<Proc> {
  const argv = [DAEMON, '--listen', args.socket, '--backend', args.backend];
  if (args.spool) argv.push('--spool-dir', args.spool);
  if (args.health) argv.push('--health', args.health);
  const p = spawnNode(argv);
  await waitFor(`agent on ${args.socket}`, async () => {
    if (p.child.exitCode !== null) throw new Error(`agent exited ${p.child.exitCode}: ${p.stderr()}`);
    return /listening on/.test(p.stderr());
  });
  return p;
}

/** SIGTERM (or the given signal) and wait for the exit; SIGKILL after the bound. */
export async function stopProc(p: Proc, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}
