// Starting and stopping the example's processes: each is spawned with a handle, waited for
// by a line it prints, and stopped by that handle (SIGTERM, then SIGKILL after 5 s).
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';

const children = [];

/** Spawns `cmd args`, resolves once `ready` matches its stdout+stderr; rejects (with its output) if it exits first or within `timeoutMs`. */
export function start(label, cmd, args, { env = {}, ready, timeoutMs = 30_000, cwd, keepStdin = false } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: [keepStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const proc = { label, child, out: '' };
  children.push(proc);
  const collect = (d) => {
    proc.out += d.toString();
    if (proc.out.length > 200_000) proc.out = proc.out.slice(-100_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  if (process.env.MULTI_VERBOSE === '1') child.stderr.on('data', (d) => process.stderr.write(`[${label}] ${d}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${timeoutMs} ms:\n${proc.out}`)), timeoutMs);
    const check = () => {
      const m = ready.exec(proc.out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve({ ...proc, match: m });
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code ?? signal}) before it was ready:\n${proc.out}`));
    });
  });
}

/** Stops every process started here, newest first (the services before the agents before the collector). */
export async function stopAll() {
  for (const p of children.reverse()) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
    await new Promise((resolve) => {
      p.child.once('exit', resolve);
      p.child.stdin?.end();
      p.child.kill('SIGTERM');
      setTimeout(() => p.child.kill('SIGKILL'), 5000).unref();
    });
  }
  children.length = 0;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on host:port within 2 s. */
export function reachable(host, port) {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
