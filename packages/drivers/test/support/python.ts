/** The real Python OSProfiler: the interop peer script and Debian's `osprofiler` command. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { runPeer, requirePythonOsprofiler } from '../../../core/test/support/python-peer';

export { requirePythonOsprofiler, runPeer };

export const OSPROFILER_CLI = '/usr/bin/osprofiler';
export const NODE_CLI = path.resolve(__dirname, '../../../cli/dist/bin.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n[spawn: ${r.error.message}]` : '') };
}

/** Runs the peer and returns its stdout; throws with its stderr when it fails. */
export function peer(args: string[]): string {
  const r = runPeer(args);
  if (r.status !== 0) throw new Error(`pyosprofiler_peer.py ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Debian's real `osprofiler` command (python3-osprofiler). */
export function pythonCli(args: string[]): Run {
  return run(OSPROFILER_CLI, args);
}

/** Our `osprofiler` command (packages/cli, built). */
export function nodeCli(args: string[]): Run {
  return run(process.execPath, [NODE_CLI, ...args]);
}
