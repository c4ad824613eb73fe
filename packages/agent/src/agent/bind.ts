/**
 * Binding the agent's socket is the "one agent per socket" lock. A socket file nobody
 * answers on is stale (a crashed agent) and is removed; the check-unlink-listen steps run
 * under a lock directory (`<socket>.lock`, mkdir is atomic), so two agents starting at
 * once can never both remove and re-create the file.
 */
import { chmodSync, mkdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { AgentError } from '../errors';

const LOCK_STALE_MS = 10_000;

/** True when something accepts connections on the socket (or is too busy to answer quickly). */
export function isListening(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath);
    const t = setTimeout(() => {
      s.destroy();
      resolve(true);
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.removeListener('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // Mode 0600 from the start: no window in which others could connect.
    const old = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(old);
    }
  });
}

async function takeLock(lock: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmdirSync(lock);
    } catch {
      // gone meanwhile
    }
    if (Date.now() > deadline) throw new AgentError('OSP_AGENT_LISTEN', `could not take ${lock}; remove it if no agent is starting`);
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
}

export async function bindSocket(server: Server, socketPath: string): Promise<void> {
  const lock = socketPath + '.lock';
  await takeLock(lock, Date.now() + 15_000);
  try {
    try {
      await listen(server, socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await isListening(socketPath)) {
        throw new AgentError('OSP_AGENT_ALREADY_RUNNING', `an agent is already listening on ${socketPath}`);
      }
      unlinkSync(socketPath); // stale: its agent is gone
      await listen(server, socketPath);
    }
    chmodSync(socketPath, 0o600);
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // removed as stale by someone else
    }
  }
}
