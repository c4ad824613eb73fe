/**
 * The Python peer's `serve` (tools/python/pyosprofiler_peer.py): a wsgiref app behind the
 * real WsgiMiddleware, run with Debian's /usr/bin/python3 as a child process that this
 * handle (and only it) stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PEER_SCRIPT, PYTHON } from '../../core/test/support/python-peer';

export interface PythonServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Closes its stdin (the peer exits on EOF); kills this PID if it has not gone in 5 s. */
  stop(): Promise<void>;
}

/** Starts `serve` with `args` and waits (at most `timeoutMs`) for its "LISTENING <port>" line. */
export function startPythonServer(args: readonly string[], timeoutMs = 30_000): Promise<PythonServer> {
  const child = spawn(PYTHON, [PEER_SCRIPT, 'serve', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async (): Promise<void> => {
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`pyosprofiler_peer.py serve did not listen in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pyosprofiler_peer.py serve exited (${code}):\n${stderr}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^LISTENING (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ url: `http://127.0.0.1:${port}`, port, child, stop });
      }
    });
  });
}
