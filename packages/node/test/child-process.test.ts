import { exec, execFile, execFileSync, execSync, fork, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentChildProcess, packContext, TRACE_CONTEXT_ENV, uninstrumentChildProcess } from '../src/index';
import { fixture, openStore, REGISTER, type FlatPoint, type Store } from './support/store';
import { inTrace, KEY } from './support/trace';

// Real processes: /bin/sh, a missing command, and Node children that load the built
// register entry and write to the same file:// store as this process.
let store: Store;
beforeAll(() => {
  store = openStore();
  instrumentChildProcess();
});
afterAll(async () => {
  uninstrumentChildProcess();
  await store.close();
});

function run(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: string | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
}

const execPoints = (ps: FlatPoint[]) => ps.filter((p) => p.name === 'exec');

describe('exec points (child_process, real processes)', () => {
  it("spawn('sh', ['-c', 'echo hi']): an exec point under the caller's point, output unchanged", async () => {
    const plain = await run(spawn('sh', ['-c', 'echo hi']));
    const t = await inTrace(() => run(spawn('sh', ['-c', 'echo hi'], { cwd: '/tmp' })));
    expect(t.result).toEqual(plain);
    const [p] = execPoints(await store.points(t.baseId));
    expect(p.parentId).toBe(t.outerId);
    expect(p.start).toMatchObject({ function: { name: 'sh' }, exec: { command: 'sh', cwd: '/tmp' } });
    expect(p.start.exec).not.toHaveProperty('args');
    expect(p.stop).toMatchObject({ exec: { exit_code: 0, signal: null } });
    expect((p.stop!.exec as { pid: unknown }).pid).toEqual(expect.any(Number));
  });

  it('a failing command (exit 3): exit_code 3, the error reaches the app unchanged, no etype', async () => {
    const pexec = promisify(exec);
    type Failure = { code: number; stdout: string };
    const failure = (): Promise<Failure> => pexec('exit 3').then(() => ({ code: 0, stdout: '' }), (e: unknown) => e as Failure);
    const plain = await failure();
    const t = await inTrace(failure);
    expect(t.result.code).toBe(3);
    expect(Object.keys(t.result).sort()).toEqual(Object.keys(plain).sort());
    const [p] = execPoints(await store.points(t.baseId));
    expect(p.start).toMatchObject({ function: { name: 'exit' }, exec: { command: 'exit', shell: true } });
    expect(p.stop).toMatchObject({ exec: { exit_code: 3, signal: null } });
    expect(p.stop).not.toHaveProperty('etype');
  });

  it('promisify(exec) and promisify(execFile) still resolve {stdout, stderr} (with .child) and are traced', async () => {
    const t = await inTrace(async () => {
      const pe = promisify(exec)('echo hi');
      expect(pe).toHaveProperty('child');
      const a = await pe;
      const b = await promisify(execFile)('sh', ['-c', 'echo there >&2']);
      return [a, b];
    });
    expect(t.result).toEqual([{ stdout: 'hi\n', stderr: '' }, { stdout: '', stderr: 'there\n' }]);
    const ps = execPoints(await store.points(t.baseId));
    expect(ps.map((p) => p.start.function)).toEqual([{ name: 'echo' }, { name: 'sh' }]);
    expect(ps.every((p) => p.parentId === t.outerId && (p.stop?.exec as { exit_code: number }).exit_code === 0)).toBe(true);
  });

  it('a missing command (ENOENT): etype/message recorded, the same error reaches the app', async () => {
    const cmd = `osp-no-such-command-${randomUUID().slice(0, 8)}`;
    const errOf = () =>
      new Promise<NodeJS.ErrnoException>((resolve) => {
        const c = spawn(cmd, ['secret-arg']);
        c.on('error', resolve);
      });
    const plain = await errOf();
    const t = await inTrace(async () => {
      const e = await errOf();
      let syncErr: unknown;
      try {
        execFileSync(cmd);
      } catch (err) {
        syncErr = err;
      }
      return { e, syncErr: syncErr as NodeJS.ErrnoException, r: spawnSync(cmd) };
    });
    expect([t.result.e.code, t.result.e.message]).toEqual([plain.code, plain.message]);
    expect(t.result.syncErr.code).toBe('ENOENT');
    expect((t.result.r.error as NodeJS.ErrnoException).code).toBe('ENOENT');
    const ps = execPoints(await store.points(t.baseId));
    expect(ps).toHaveLength(3);
    expect(ps[0].stop).toEqual({ exec: { pid: null, exit_code: null, signal: null }, etype: 'Error', message: `spawn ${cmd} ENOENT`, host: expect.any(String) });
    expect(ps[1].stop).toMatchObject({ etype: 'Error', message: `spawnSync ${cmd} ENOENT` });
    expect(ps[2].stop).toMatchObject({ etype: 'Error', message: `spawnSync ${cmd} ENOENT` });
  });

  it('a timeout (exec) and an abort (spawn with a signal): the signal recorded, the abort as AbortError', async () => {
    const t = await inTrace(async () => {
      const timedOut = await promisify(exec)('sleep 5', { timeout: 50 }).then(
        () => ({ killed: false, signal: '' }),
        (e: unknown) => e as { killed: boolean; signal: string },
      );
      const ac = new AbortController();
      const c = spawn('sleep', ['5'], { signal: ac.signal });
      const aborted = new Promise<Error>((resolve) => c.on('error', resolve));
      setTimeout(() => ac.abort(), 20);
      const closed = new Promise((resolve) => c.on('close', resolve));
      return { timedOut, abortErr: (await aborted).name, closed: await closed };
    });
    expect([t.result.timedOut.killed, t.result.timedOut.signal, t.result.abortErr]).toEqual([true, 'SIGTERM', 'AbortError']);
    const ps = execPoints(await store.points(t.baseId));
    expect(ps[0].stop).toMatchObject({ exec: { exit_code: null, signal: 'SIGTERM' } });
    expect(ps[0].stop).not.toHaveProperty('etype');
    expect(ps[1].stop).toMatchObject({ exec: { exit_code: null, signal: 'SIGTERM' }, etype: 'AbortError' });
  });

  it('sync forms: execSync, execFileSync (exit 3 throws as before), spawnSync', async () => {
    const t = await inTrace(() => {
      const a = execSync('echo hi', { encoding: 'utf8' });
      let status: unknown;
      try {
        execFileSync('sh', ['-c', 'exit 3'], { stdio: 'pipe' });
      } catch (err) {
        status = (err as { status: number }).status;
      }
      const r = spawnSync('sh', ['-c', 'kill -TERM $$']);
      return { a, status, signal: r.signal };
    });
    expect(t.result).toEqual({ a: 'hi\n', status: 3, signal: 'SIGTERM' });
    const ps = execPoints(await store.points(t.baseId));
    expect(ps.map((p) => p.stop!.exec)).toEqual([
      { pid: null, exit_code: 0, signal: null },
      { pid: expect.any(Number), exit_code: 3, signal: null },
      { pid: expect.any(Number), exit_code: null, signal: 'SIGTERM' },
    ]);
    expect(ps.every((p) => p.stop!.etype === undefined)).toBe(true);
  });

  it('arguments only with showArgs; the environment never (nor NAME=value prefixes of a shell line)', async () => {
    const env = { ...process.env, OSP_TEST_SECRET: 'env-secret-value' };
    const hidden = await inTrace(() => promisify(exec)('OSP_X=prefix-secret echo arg-secret', { env }));
    instrumentChildProcess({ showArgs: true });
    try {
      const shown = await inTrace(() => promisify(execFile)('echo', ['a1', 'a2'], { env }));
      const [p] = execPoints(await store.points(shown.baseId));
      expect(p.start.exec).toMatchObject({ command: 'echo', args: ['a1', 'a2'] });
    } finally {
      instrumentChildProcess();
    }
    const [h] = execPoints(await store.points(hidden.baseId));
    expect(h.start).toMatchObject({ function: { name: 'echo' }, exec: { command: 'echo' } });
    const stored = readdirSync(store.dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
      .join('');
    expect(stored).not.toContain('env-secret-value');
    expect(stored).not.toContain('prefix-secret');
    expect(stored).not.toContain('arg-secret');
    expect(stored).not.toContain(TRACE_CONTEXT_ENV);
  });

  it("spawn() of a missing command with no 'error' listener crashes the app exactly as untraced (separate processes)", () => {
    const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 });
    const plain = node([fixture('spawn-unhandled.cjs')]);
    const traced = node([fixture('spawn-unhandled.cjs'), 'instrument']);
    expect(plain.status).toBe(1);
    expect(traced.status).toBe(plain.status);
    const firstLine = (s: string) => s.split('\n').find((l) => l.includes('ENOENT'));
    expect(firstLine(traced.stderr)).toBe(firstLine(plain.stderr));
  });

  it("outside a trace: no point, the child's environment untouched; the caller's env object is never mutated", async () => {
    const env = { ...process.env, A: '1' };
    const before = { ...env };
    const untraced = await promisify(exec)(`printenv ${TRACE_CONTEXT_ENV} || echo none`, { env });
    expect(untraced.stdout).toBe('none\n');
    const t = await inTrace(() => promisify(exec)(`printenv ${TRACE_CONTEXT_ENV}`, { env }));
    expect(env).toEqual(before);
    expect(t.result.stdout).toMatch(/^[\w-]+\.[\w-]+\n$/);
    expect(execPoints(await store.points(t.baseId))).toHaveLength(1);
  });
});

describe('the child continues the trace (Node children with the register entry)', () => {
  const childArgs = ['--require', REGISTER, fixture('child-points.cjs')];

  function expectChildTree(ps: FlatPoint[], outerId: string, baseId: string) {
    const ex = ps.find((p) => p.name === 'exec')!;
    expect(ex.parentId).toBe(outerId);
    const proc = ps.find((p) => p.name === 'process')!;
    expect(proc.parentId).toBe(ex.traceId);
    expect(proc.start).toMatchObject({ function: { name: 'child-points.cjs' }, process: { pid: (ex.stop!.exec as { pid: number }).pid } });
    expect(proc.stop).toMatchObject({ process: { exit_code: 0 } });
    const work = ps.find((p) => p.name === 'child_work')!;
    expect(work.parentId).toBe(proc.traceId);
    expect(ps.find((p) => p.name === 'child_inner')!.parentId).toBe(work.traceId);
    expect(ps.find((p) => p.name === 'child_async')!.parentId).toBe(proc.traceId);
    expect(ps.map((p) => p.name).sort()).toEqual(['child_async', 'child_inner', 'child_work', 'exec', 'outer', 'process']);
    void baseId;
  }

  it('spawn(node --require register child.cjs): process point under exec, child points under it, same base_id', async () => {
    const t = await inTrace(() => run(spawn(process.execPath, childArgs, { env: store.env() })));
    const out = JSON.parse(t.result.out) as { seen: { baseId: string }; env: string | null };
    expect(out.seen.baseId).toBe(t.baseId);
    expect(out.env).toBeNull(); // consumed: grandchildren never inherit a stale context
    expectChildTree(await store.waitFor(t.baseId, 6), t.outerId, t.baseId);
  });

  it('fork(child.cjs) and a shell line that starts node (the variable passes through sh)', async () => {
    const f = await inTrace(() => run(fork(fixture('child-points.cjs'), [], { execArgv: ['--require', REGISTER], env: store.env(), stdio: 'pipe' })));
    expectChildTree(await store.waitFor(f.baseId, 6), f.outerId, f.baseId);
    const ex = (await store.points(f.baseId)).find((p) => p.name === 'exec')!;
    expect(ex.start).toMatchObject({ function: { name: 'child-points.cjs' }, exec: { fork: true } });

    // fork(URL) as well (the docs' plain Node sample does it; it used to go untraced)
    const u = await inTrace(() => run(fork(pathToFileURL(fixture('child-points.cjs')), [], { execArgv: ['--require', REGISTER], env: store.env(), stdio: 'pipe' })));
    expectChildTree(await store.waitFor(u.baseId, 6), u.outerId, u.baseId);
    const exU = (await store.points(u.baseId)).find((p) => p.name === 'exec')!;
    expect(exU.start).toMatchObject({ function: { name: 'child-points.cjs' }, exec: { command: fixture('child-points.cjs'), fork: true } });

    const s = await inTrace(() => promisify(exec)(`"${process.execPath}" ${childArgs.join(' ')}`, { env: store.env() }));
    const ps = await store.waitFor(s.baseId, 6);
    expect(ps.find((p) => p.name === 'exec')!.start.function).toEqual({ name: process.execPath.split('/').pop() });
    expect(ps.find((p) => p.name === 'process')!.parentId).toBe(ps.find((p) => p.name === 'exec')!.traceId);
  });

  it('a bundled child without a preload: continueFromParent(main) runs main in a process point under exec', async () => {
    const t = await inTrace(() => run(spawn(process.execPath, [fixture('child-explicit.cjs')], { env: store.env() })));
    expect(JSON.parse(t.result.out)).toEqual({ baseId: t.baseId });
    const ps = await store.waitFor(t.baseId, 4);
    const ex = ps.find((p) => p.name === 'exec')!;
    const proc = ps.find((p) => p.name === 'process')!;
    expect(proc.parentId).toBe(ex.traceId);
    expect(ps.find((p) => p.name === 'explicit_work')!.parentId).toBe(proc.traceId);
  });

  it('a forged, expired or wrongly-keyed context: the child runs untraced and stores nothing', async () => {
    const baseId = randomUUID();
    const parent = randomUUID();
    const cases = {
      forged: packContext(baseId, parent, 'NOT_THE_KEY', 60_000),
      expired: packContext(baseId, parent, KEY, 1_000, Date.now() - 10_000),
      tampered: packContext(baseId, parent, KEY, 60_000).replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      garbage: 'not a token',
    };
    for (const [name, token] of Object.entries(cases)) {
      const r = await run(spawn(process.execPath, childArgs, { env: { ...store.env(), [TRACE_CONTEXT_ENV]: token } }));
      expect(JSON.parse(r.out), name).toEqual({ seen: null, env: null });
      expect(r.code, name).toBe(0);
    }
    // The valid control: the same child with a good token is traced.
    const ok = await run(spawn(process.execPath, childArgs, { env: { ...store.env(), [TRACE_CONTEXT_ENV]: packContext(baseId, parent, KEY, 60_000) } }));
    expect((JSON.parse(ok.out) as { seen: { baseId: string } }).seen.baseId).toBe(baseId);
    const ps = await store.waitFor(baseId, 4);
    expect(ps.map((p) => p.name).sort()).toEqual(['child_async', 'child_inner', 'child_work', 'process']);
  });
});
