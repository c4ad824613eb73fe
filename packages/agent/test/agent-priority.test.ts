// `--nice N` runs the agent process below the apps it serves (src/priority.ts): every thread
// at N, the default leaves the priority as it was started, a process started nicer keeps its
// value, bad values are refused with the flag named.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DAEMON, spawnNode, stopProc, tempDir, waitFor, type Proc } from './support/procs';
import { runAgentProcess } from '../src/run';

const CLI = resolve(__dirname, '../../cli/dist/bin.js');

/** The nice value of each of the process's threads (/proc/PID/task/TID/stat, field 19). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, nice field 19.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

async function listening(p: Proc): Promise<void> {
  await waitFor('the agent', () => {
    if (p.child.exitCode !== null) throw new Error(`agent exited ${p.child.exitCode}: ${p.stderr()}`);
    return /listening on/.test(p.stderr());
  });
}

function daemonArgs(dir: string, extra: string[] = []): string[] {
  return [DAEMON, '--listen', join(dir, 'agent.sock'), '--backend', `file://${join(dir, 'store')}`, ...extra];
}

describe.skipIf(process.platform !== 'linux')('agent priority', () => {
  it('every thread of the daemon runs at --nice N; by default as it was started', async () => {
    const dir = tempDir('nice');
    const ten = spawnNode(daemonArgs(dir, ['--nice', '10']));
    try {
      await listening(ten);
      const nices = threadNices(ten.child.pid!);
      // V8's platform workers and libuv's threads exist before the agent lowers itself.
      expect(nices.length).toBeGreaterThan(4);
      expect(new Set(nices)).toEqual(new Set([10]));
      expect(ten.stderr()).toMatch(/listening on .*, nice 10$/m);
    } finally {
      expect(await stopProc(ten)).toBe(0);
    }
    const chosen = spawnNode([CLI, 'agent', '--listen', join(dir, 'cli.sock'), '--backend', `file://${join(dir, 'store')}`, '--nice', '4']);
    try {
      await listening(chosen);
      expect(new Set(threadNices(chosen.child.pid!))).toEqual(new Set([4]));
    } finally {
      expect(await stopProc(chosen)).toBe(0);
    }
    const byDefault = spawnNode(daemonArgs(dir));
    try {
      await listening(byDefault);
      expect(new Set(threadNices(byDefault.child.pid!))).toEqual(new Set([threadNices(process.pid)[0]]));
    } finally {
      expect(await stopProc(byDefault)).toBe(0);
    }
  }, 30_000);

  it('a daemon started nicer than asked keeps its own value', async () => {
    const dir = tempDir('nice');
    const child = spawn('nice', ['-n', '15', process.execPath, ...daemonArgs(dir, ['--nice', '10'])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const p: Proc = { child, stderr: () => err, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
    try {
      await listening(p);
      expect(new Set(threadNices(child.pid!))).toEqual(new Set([15]));
      expect(err).toMatch(/, nice 15$/m);
    } finally {
      expect(await stopProc(p)).toBe(0);
    }
  }, 30_000);

  it('refuses a nice value outside 0-19, naming the flag (daemon, CLI, options)', async () => {
    const dir = tempDir('nice');
    for (const bad of ['20', '-1', 'x']) {
      const d = spawnNode(daemonArgs(dir, ['--nice', bad]));
      expect(await d.exited).toBe(2);
      expect(d.stderr()).toContain(`--nice "${bad}": expected an integer from 0 to 19`);
      const c = spawnNode([CLI, 'agent', '--listen', join(dir, 'c.sock'), '--backend', 'memory://', '--nice', bad]);
      expect(await c.exited).not.toBe(0);
      expect(c.stderr()).toMatch(/option '--nice <n>' argument '.*' is invalid\. must be a whole number from 0 to 19/);
    }
    const errors: string[] = [];
    const code = await runAgentProcess({ socketPath: join(dir, 'o.sock'), backend: 'memory://', nice: 2.5 }, { info: () => undefined, error: (l) => errors.push(l) });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain('nice (--nice) 2.5: expected an integer from 0 to 19');
  }, 30_000);
});
