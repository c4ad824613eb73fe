/**
 * Opt-in auto-start: `ensureAgent()` makes sure an agent listens on the socket, starting a
 * detached one if none does. Several processes may call it at once (cluster workers): each
 * may start a process, but the socket bind is the lock, so exactly one agent stays; the
 * others exit at once (code 3).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from './errors';
import { isListening } from './agent/bind';
import { FrameReader, FrameType, PROTOCOL_VERSION, encodeFrame, parseJsonObject } from './protocol';
import { EXIT_ALREADY_RUNNING } from './run';

export interface EnsureAgentOptions {
  socketPath: string;
  /** The agent's backend connection string. */
  backend: string;
  spoolDir?: string;
  health?: string;
  /** How long to wait for the socket to answer. Default 5000. */
  startTimeoutMs?: number;
  /** Append the agent's stderr to this file (default: discarded). */
  logFile?: string;
  /** The agent's nice value, 0–19 (default 0: as the app that starts it; above 0, below it). */
  nice?: number;
}

export interface EnsureAgentResult {
  /** True when this call started the agent that now listens. */
  started: boolean;
  /** PID of the process this call spawned (it may have exited: another agent won). */
  pid: number | undefined;
}

export async function ensureAgent(options: EnsureAgentOptions): Promise<EnsureAgentResult> {
  if (await isListening(options.socketPath)) return { started: false, pid: undefined };
  const args = [join(__dirname, 'daemon.js'), '--listen', options.socketPath, '--backend', options.backend];
  if (options.spoolDir !== undefined) args.push('--spool-dir', options.spoolDir);
  if (options.health !== undefined) args.push('--health', options.health);
  if (options.nice !== undefined) args.push('--nice', String(options.nice));
  const log = options.logFile === undefined ? 'ignore' : openSync(options.logFile, 'a', 0o600);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', log], env: process.env });
  if (typeof log === 'number') closeSync(log);
  let exitCode: number | null | undefined;
  child.on('exit', (code) => (exitCode = code));
  child.on('error', () => (exitCode = -1));
  child.unref();
  const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
  while (Date.now() < deadline) {
    if (exitCode !== undefined && exitCode !== EXIT_ALREADY_RUNNING) break;
    const pid = await agentPid(options.socketPath);
    if (pid !== undefined) return { started: pid === child.pid, pid: child.pid };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new AgentError(
    'OSP_AGENT_START_TIMEOUT',
    exitCode === undefined
      ? `no agent answered on ${options.socketPath} within ${options.startTimeoutMs ?? 5000} ms`
      : `the agent exited with code ${exitCode} (run \`osprofiler agent --listen ${options.socketPath} --backend …\` to see why)`,
  );
}

/** The PID of the agent answering on the socket (from its WELCOME), or undefined. */
export function agentPid(socketPath: string, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath);
    const reader = new FrameReader(64 * 1024);
    const done = (pid: number | undefined): void => {
      clearTimeout(t);
      s.destroy();
      resolve(pid);
    };
    const t = setTimeout(() => done(undefined), timeoutMs);
    s.on('connect', () => s.write(encodeFrame(FrameType.HELLO, JSON.stringify({ v: PROTOCOL_VERSION, client: randomBytes(16).toString('hex') }))));
    s.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) {
        const w = f.type === FrameType.WELCOME ? parseJsonObject(f.payload) : undefined;
        done(typeof w?.pid === 'number' ? w.pid : undefined);
      }
    });
    s.on('error', () => done(undefined));
  });
}
