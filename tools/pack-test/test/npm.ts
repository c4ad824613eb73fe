/** npm and node steps for the packaging test: each in its own process, capped in time, with the calling npm's settings left out. */
import { spawn, spawnSync } from 'node:child_process';

/** The environment of a user's shell: none of the npm_* variables the `npm test` that runs us set. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !/^(NX_|VITEST|OSPROFILER_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end, killed (and failed) past `timeoutMs`. */
export function runStep(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = cleanEnv()): Ran {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const ran = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? `${r.error.message} after ${ran.ms} ms` : `exit ${r.status}`;
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${why}\n${ran.stderr.slice(-4000)}\n${ran.stdout.slice(-2000)}`);
  }
  return ran;
}

/** `npm install` of local tarballs (and pinned registry packages) into `app`: from the cache when it can, capped in time. */
export function npmInstall(app: string, specs: string[], timeoutMs = 180_000): Ran {
  return runStep('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', '--save-exact', ...specs], app, timeoutMs);
}

export interface Server {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node …args` in `cwd` and waits (bounded) for its `LISTENING <port>` line. Stopped by its handle. */
export function startServer(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Server> {
  const proc = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      void stop();
      fail(new Error(`no LISTENING line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    proc.stdout.on('data', () => {
      const m = /LISTENING (\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      ok({ port: Number(m[1]), output: () => out, stop });
    });
    void exited.then(() => {
      clearTimeout(timer);
      fail(new Error(`exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${out}`));
    });
  });
}
