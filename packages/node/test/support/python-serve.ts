/**
 * The REAL Python OSProfiler WsgiMiddleware (a wsgiref app run by
 * tools/python/pyosprofiler_peer.py serve) as the receiving service.
 */
import { spawn } from 'node:child_process';
import { PEER_SCRIPT, PYTHON, requirePythonOsprofiler } from '../../../core/test/support/python-peer';

export interface PythonServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** What the Python app answers. */
export interface PythonAnswer {
  traced: boolean;
  base_id: string | null;
  wsgi_trace_id: string | null;
  wsgi_parent_id: string | null;
  result: string;
}

export { requirePythonOsprofiler };

export function startPythonServer(keys: string): Promise<PythonServer> {
  const child = spawn(PYTHON, [PEER_SCRIPT, 'serve', '--key', keys, '--port', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.stdin.end(); // the peer exits when its stdin closes
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`python serve did not start within 20 s:\n${stderr}`));
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ port, url: `http://127.0.0.1:${port}`, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`python serve exited (${code}):\n${stderr}`));
    });
  });
}
