/** Runs a Node program in its own process and waits for its `LISTENING <port>` line. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  port: number;
  output(): string;
  /** Stops this process (SIGTERM, then SIGKILL after 3 s) and resolves with its exit code. */
  stop(): Promise<number | null>;
}

export function startChild(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; timeoutMs?: number } = {}): Promise<Child> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const proc = spawn(process.execPath, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const stop = () => stopProcess(proc, exited);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no LISTENING line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /LISTENING (\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve({ proc, port: Number(m[1]), output: () => out, stop });
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${out}`));
    });
  });
}

/**
 * Stops `proc` (SIGTERM, then SIGKILL after 3 s) unless it has ended, and resolves with its
 * exit code; `exited` is the promise of its `exit` event, made when it was spawned.
 */
export async function stopProcess(proc: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  const code = await exited;
  clearTimeout(t);
  return code;
}
