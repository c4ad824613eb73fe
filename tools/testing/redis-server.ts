/**
 * A redis-server of the test's own: a free loopback port, a temp dir, stopped by its handle
 * (never by name). Nothing another test or engineer stores is visible to it, so listings and
 * counts see exactly what the test wrote. Restartable on the same port and dir (`persist`
 * keeps the data across a restart: AOF, fsynced on every write).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tempDir } from './temp-dir';

/** A port nothing listens on now (the OS's pick for port 0 on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** The port to use (default: a free one, chosen at the first start). */
  port?: number;
  /** Keep the data across stop()/start() (append-only file fsynced on every write). Default false. */
  persist?: boolean;
  /** Bound on the wait for "Ready to accept connections". Default 15 s. */
  startTimeoutMs?: number;
  /** More redis-server arguments, e.g. `['--requirepass', 'pw']`. */
  args?: readonly string[];
}

export class RedisServer {
  // Removed by close(), or when the test file is done (temp-dir.ts) if only stop() was called.
  readonly dir = tempDir('osp-redis-');
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private log = '';
  private _port: number | undefined;

  constructor(private readonly options: RedisServerOptions = {}) {
    this._port = options.port;
  }

  /** Creates and starts a server on a free port. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options);
    await server.start();
    return server;
  }

  get port(): number {
    if (this._port === undefined) throw new Error('redis-server: start() it first');
    return this._port;
  }

  /** `redis://127.0.0.1:<port>/<db><query>`. */
  url(db = 0, query = ''): string {
    return `redis://127.0.0.1:${this.port}/${db}${query}`;
  }

  /** The running process (for tests that kill it on purpose). */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    this._port ??= await freePort();
    const persist = this.options.persist === true;
    const args = ['--port', String(this._port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--daemonize', 'no'];
    args.push(...(persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
    args.push(...(this.options.args ?? []));
    let child: ChildProcess;
    try {
      child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`redis-server could not be started (Debian's redis-server; tools/scripts/setup-machine.sh installs it): ${(err as Error).message}`);
    }
    this.child = child;
    this.log = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.log += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.log += s));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${this._port} ${why}:\n${this.log}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
      child.once('error', (err) => fail(`failed to start (${err.message}; Debian's redis-server, see tools/scripts/setup-machine.sh)`));
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
      const onData = () => {
        if (!/Ready to accept connections/.test(this.log)) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      };
      child.stdout!.on('data', onData);
    }).catch(async (err: Error) => {
      await this.stop();
      throw err;
    });
  }

  /** Stops this process (SIGTERM, SIGKILL after 10 s); the dir stays for a restart. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(t);
    }
    this.child = undefined;
  }

  /** Stops the process and removes its dir. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
