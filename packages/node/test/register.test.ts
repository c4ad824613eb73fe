import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from './support/store';

// Automatic mode, proven in separate Node processes on the BUILT package (as users load it).
const PKG = join(__dirname, '..');
const fixture = (f: string) => join(__dirname, 'fixtures', f);
// Node releases other than the machine's: core's fixture (npm test's set-up installs it).
const releases = createRequire(__filename)(join(PKG, '..', 'core', 'test', 'fixtures', 'node-releases', 'releases.cjs')) as {
  nodeBinary(line: string): string;
};

function node(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: PKG, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const expected = { tracedParentsAreRpcPoints: true, rpcPoints: 2, untraced: { get: null, fetch: null }, wrapped: true };

describe('@osprofiler/node/register (separate processes)', () => {
  it('node --import @osprofiler/node/register: an ESM app (named `import { get } from "node:http"` included)', () => {
    const r = node(['--import', '@osprofiler/node/register', fixture('esm-app.mjs')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ kind: 'esm', ...expected });
  });

  it('node --require @osprofiler/node/register: a CommonJS app', () => {
    const r = node(['--require', '@osprofiler/node/register', fixture('cjs-app.cjs')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ kind: 'cjs', ...expected });
  });

  it('loading it twice (--require and --import) instruments once: one point per call', () => {
    const r = node(['--require', '@osprofiler/node/register', '--import', '@osprofiler/node/register', fixture('cjs-app.cjs')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ kind: 'cjs', ...expected });
  });

  it("a traced request with no 'error' listener crashes the app exactly as an untraced one", () => {
    const plain = node([fixture('unhandled-error.cjs')]);
    const traced = node([fixture('unhandled-error.cjs'), 'instrument']);
    expect(plain.status).toBe(1);
    expect(traced.status).toBe(plain.status);
    const firstLines = (s: string) => s.split('\n').filter((l) => /Error|ECONNREFUSED/.test(l) && !l.includes(' at ')).join('\n').replace(/\d{4,5}/g, 'PORT');
    expect(firstLines(traced.stderr)).toBe(firstLines(plain.stderr));
    expect(traced.stderr).toContain('ECONNREFUSED');
  });
});

/**
 * Each Node line the engines admit, and Node 24's two AsyncLocalStorage implementations: on
 * Node 24 (AsyncContextFrame) the context an `--import` preload enters ends with the
 * preload's evaluation, so the main module saw no trace of its own there (core's
 * process-wide trace, `enterProcessTrace`).
 */
const runtimes: [string, () => string, string[]][] = [
  ["this machine's node", () => process.execPath, []],
  ['Node 22', () => releases.nodeBinary('22'), []],
  ['Node 24', () => releases.nodeBinary('24'), []],
  ['Node 24 --no-async-context-frame', () => releases.nodeBinary('24'), ['--no-async-context-frame']],
];

describe.each(runtimes)('automatic mode: child processes and worker threads (separate processes), %s', (_label, nodeBin, flags) => {
  it('--require register (twice): exec points for a command and a fork, a thread point; fork and worker continue the trace', async () => {
    const store = openStore();
    try {
      const r = spawnSync(
        nodeBin(),
        [...flags, '--require', '@osprofiler/node/register', '--import', '@osprofiler/node/register', fixture('auto-parent.cjs')],
        { cwd: PKG, encoding: 'utf8', timeout: 30_000, env: store.env() },
      );
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { baseId: string; stdout: string };
      expect(out.stdout).toBe('hi\n');
      const ps = await store.waitFor(out.baseId, 12);
      const names = ps.map((p) => p.name).sort();
      expect(names).toEqual(
        ['auto_request', 'child_async', 'child_inner', 'child_work', 'exec', 'exec', 'process', 'thread', 'worker', 'worker_async', 'worker_inner', 'worker_work'].sort(),
      );
      const one = (n: string) => ps.filter((p) => p.name === n);
      const req = one('auto_request')[0];
      expect(one('exec').every((p) => p.parentId === req.traceId)).toBe(true);
      expect(one('thread')[0].parentId).toBe(req.traceId);
      const forkPoint = one('exec').find((p) => (p.start.exec as { fork?: boolean }).fork === true)!;
      expect(one('process')[0].parentId).toBe(forkPoint.traceId);
      expect(one('child_work')[0].parentId).toBe(one('process')[0].traceId);
      expect(one('worker')[0].parentId).toBe(one('thread')[0].traceId);
      expect(one('worker_work')[0].parentId).toBe(one('worker')[0].traceId);
    } finally {
      await store.close();
    }
  });

  it('--import register, an ESM app with named imports: exec and thread points, the forked child and the worker continue the trace', async () => {
    const store = openStore();
    try {
      const r = spawnSync(nodeBin(), [...flags, '--import', '@osprofiler/node/register', fixture('auto-parent-esm.mjs')], {
        cwd: PKG,
        encoding: 'utf8',
        timeout: 30_000,
        env: store.env(),
      });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { baseId: string; stdout: string };
      expect(out.stdout).toBe('esm\n');
      const ps = await store.waitFor(out.baseId, 12);
      expect(ps.map((p) => p.name).sort()).toEqual(
        ['esm_request', 'exec', 'exec', 'process', 'child_async', 'child_inner', 'child_work', 'thread', 'worker', 'worker_async', 'worker_inner', 'worker_work'].sort(),
      );
      const req = ps.find((p) => p.name === 'esm_request')!;
      expect(ps.filter((p) => p.name === 'exec').every((p) => p.parentId === req.traceId)).toBe(true);
      const forkPoint = ps.find((p) => p.name === 'exec' && (p.start.exec as { fork?: boolean }).fork === true)!;
      expect(ps.find((p) => p.name === 'process')!.parentId).toBe(forkPoint.traceId);
      expect(ps.find((p) => p.name === 'child_work')!.parentId).toBe(ps.find((p) => p.name === 'process')!.traceId);
      expect(ps.find((p) => p.name === 'thread')!.start).toMatchObject({ function: { name: 'worker-points.cjs' } });
      expect(ps.find((p) => p.name === 'worker')!.parentId).toBe(ps.find((p) => p.name === 'thread')!.traceId);
    } finally {
      await store.close();
    }
  });
});
