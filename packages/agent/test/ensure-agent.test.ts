// Opt-in auto-start: 4 cluster workers call ensureAgent() at once, with a stale socket
// file (its agent was killed) in place: exactly one agent results.
import { describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, connectable, sleep, spawnNode, startAgentProc, tempDir } from './support/procs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ensureAgent', () => {
  it('4 cluster workers at once, stale socket file present: exactly one agent runs', async () => {
    const dir = tempDir('ensure');
    const socket = join(dir, 'agent.sock');
    // A crashed agent leaves its socket file behind.
    const crashed = await startAgentProc({ socket, backend: `file://${join(dir, 'store')}` });
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(existsSync(socket)).toBe(true);
    expect(await connectable(socket)).toBe(false);

    const primary = spawnNode([join(FIXTURES, 'cluster.cjs'), socket, `file://${join(dir, 'store')}`, join(dir, 'spool')]);
    let out = '';
    primary.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await primary.exited;
    const results = JSON.parse(out) as { started?: boolean; pid?: number; error?: string }[];
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.filter((r) => r.started).length).toBe(1);
    const spawned = results.map((r) => r.pid).filter((p): p is number => p !== undefined);
    // The losers exit (code 3) as soon as they see the winner; on a busy machine that can
    // take a moment. A second agent would stay alive.
    for (let i = 0; i < 200 && spawned.filter(alive).length > 1; i++) await sleep(50);
    await sleep(300);
    const running = spawned.filter(alive);
    try {
      expect(running.length).toBe(1);
      expect(running[0]).toBe(results.find((r) => r.started)?.pid);
      expect(await connectable(socket)).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
    } finally {
      for (const pid of running) process.kill(pid, 'SIGTERM');
    }
    for (let i = 0; i < 100 && running.some(alive); i++) await sleep(50);
    expect(running.filter(alive)).toEqual([]);
    expect(existsSync(socket)).toBe(false);
  }, 30_000);
});
