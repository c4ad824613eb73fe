import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createDriver, get, start, stop } from '@osprofiler/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProfileFlag, profileCli, profileCliFromArgv } from '../src/index';
import { recordPoints, type Recorder } from './support/recorder';
import { startServer, type TestServer } from './support/servers';
import { tempDir } from '../../../tools/testing/temp-dir';

let rec: Recorder;
beforeAll(() => {
  rec = recordPoints(['K']);
});

const UUID = /^Trace ID: ([0-9a-f-]{36})\n$/;

function capture() {
  const lines: string[] = [];
  return { lines, stream: (l: string) => void lines.push(l) };
}

describe('profileCli', () => {
  it('a sync command: same result, synchronously; its points carry the printed trace id', async () => {
    const c = capture();
    let inside = '';
    const r = profileCli(
      'K',
      () => {
        inside = get()!.baseId;
        start('cli_step');
        stop();
        return 42;
      },
      { stream: c.stream },
    );
    expect(r).toBe(42);
    expect(c.lines).toHaveLength(1);
    const id = UUID.exec(c.lines[0])![1];
    expect(id).toBe(inside);
    await rec.settle();
    expect(rec.named('cli_step-start', id)).toHaveLength(1);
  });

  it('an async command: same value, points flushed before the line is printed', async () => {
    const c = capture();
    const p = profileCli(
      'K',
      async () => {
        start('cli_async');
        await new Promise((r) => setTimeout(r, 5));
        stop();
        return { ok: true };
      },
      { stream: c.stream },
    );
    expect(c.lines).toEqual([]);
    expect(await p).toEqual({ ok: true });
    const id = UUID.exec(c.lines[0])![1];
    expect(rec.named('cli_async-stop', id)).toHaveLength(1);
  });

  it('a throwing or rejecting command: the same error, and the line is still printed', async () => {
    const c = capture();
    const boom = new RangeError('bad');
    expect(() =>
      profileCli(
        'K',
        () => {
          throw boom;
        },
        { stream: c.stream },
      ),
    ).toThrow(boom);
    await expect(profileCli('K', () => Promise.reject(boom), { stream: c.stream })).rejects.toBe(boom);
    expect(c.lines.map((l) => UUID.test(l))).toEqual([true, true]);
  });

  it('finds --profile <HMAC> and --profile=<HMAC>, leaving the other arguments', () => {
    expect(findProfileFlag(['list', '--profile', 'K', '-v'])).toEqual({ hmacKey: 'K', args: ['list', '-v'] });
    expect(findProfileFlag(['--profile=K2', 'x'])).toEqual({ hmacKey: 'K2', args: ['x'] });
    expect(findProfileFlag(['x', '--', '--profile', 'K'])).toEqual({ hmacKey: undefined, args: ['x', '--', '--profile', 'K'] });
    expect(findProfileFlag(['x'])).toEqual({ hmacKey: undefined, args: ['x'] });
  });

  it('profileCliFromArgv without the flag runs the command untraced and prints nothing', () => {
    const c = capture();
    expect(profileCliFromArgv(['a'], (args) => [args, get()], { stream: c.stream })).toEqual([['a'], undefined]);
    expect(c.lines).toEqual([]);
  });
});

describe("a user's CLI with --profile (separate process, file:// backend in a temp dir)", () => {
  let srv: TestServer;
  let dir: string;
  beforeAll(async () => {
    srv = await startServer();
    dir = tempDir('osp-node-cli-');
  });
  afterAll(async () => {
    await srv.close();
  });

  function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'user-cli.cjs'), ...args], {
        cwd: join(__dirname, '..'),
        env: { ...process.env, OSPROFILER_CONNECTION_STRING: `file://${dir}` },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('prints `Trace ID: <base_id>` last, keeps the exit code, and the trace is stored', async () => {
    const r = await runCli([`${srv.url}/cli`, 'list', '--profile', 'K']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^command output: /);
    const id = /^Trace ID: ([0-9a-f-]{36})$/.exec(lines.at(-1)!)![1];
    const driver = await createDriver(`file://${dir}`);
    try {
      const report = await driver.getReport(id);
      const names = JSON.stringify(report.stats);
      expect(names).toContain('cli_command');
      expect(names).toContain('rpc');
    } finally {
      await driver.close();
    }
    // The local server saw the trace headers of the CLI's rpc point.
    expect(srv.seen.at(-1)!.info).toBeDefined();
  });

  it('without --profile: same output and exit code, no Trace ID line, no headers', async () => {
    const r = await runCli([`${srv.url}/cli`, 'list']);
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain('Trace ID');
    expect(srv.seen.at(-1)!.info).toBeUndefined();
  });
});
