/**
 * Runs tools/python/pyosprofiler_peer.py with Debian's /usr/bin/python3 (the only
 * interpreter that sees python3-osprofiler; a pyenv `python3` does not).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const PEER_SCRIPT = path.resolve(__dirname, '../../../../tools/python/pyosprofiler_peer.py');

export interface PeerResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the peer with `args`; `input` (optional) is written to its stdin. Never throws. */
export function runPeer(args: string[], input?: string): PeerResult {
  const r = spawnSync(PYTHON, [PEER_SCRIPT, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
  });
  const spawnError = r.error ? `\n[spawn error: ${r.error.message}]` : '';
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + spawnError };
}

/** Runs a batch subcommand: one JSON line in per request, one JSON line out per request. */
export function runPeerBatch<T>(subcommand: string, requests: readonly unknown[]): T[] {
  const r = runPeer([subcommand], requests.map((q) => JSON.stringify(q)).join('\n') + '\n');
  if (r.status !== 0) throw new Error(`python peer ${subcommand} failed (status ${r.status}):\n${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== requests.length) {
    throw new Error(`python peer ${subcommand}: ${requests.length} requests but ${lines.length} answers\n${r.stderr}`);
  }
  return lines.map((l) => JSON.parse(l) as T);
}

/**
 * Makes sure the real Python OSProfiler is importable and returns its version. THROWS (so
 * interop tests fail, never silently skip) when it is not.
 */
export function requirePythonOsprofiler(): string {
  const probe = spawnSync(PYTHON, ['-c', 'import osprofiler'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Python OSProfiler is required for the interop tests but \`${PYTHON} -c 'import osprofiler'\` failed` +
        ` (status ${probe.status}${probe.error ? `, ${probe.error.message}` : ''}):\n${probe.stderr ?? ''}\n` +
        'Install it with: apt-get install -y python3-osprofiler python3-webob (and use /usr/bin/python3, not a pyenv python3).',
    );
  }
  const v = runPeer(['version']);
  const version = v.stdout.trim();
  if (v.status !== 0 || version === '') {
    throw new Error(`pyosprofiler_peer.py version failed (status ${v.status}):\n${v.stderr}`);
  }
  return version;
}
