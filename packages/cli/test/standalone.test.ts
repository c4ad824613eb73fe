/**
 * The CLI installed on its own, as npm lays it out for `npm install @osprofiler/cli`: its
 * own dependencies only (core, commander), no @osprofiler/agent (an optional peer). Help,
 * the trace commands and profile work; `agent` says which package to install.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGES = resolve(__dirname, '../..');
const ROOT_MODULES = resolve(PACKAGES, '../node_modules');
let app: string;
let bin: string;

function install(dir: string, name: string): void {
  const to = join(dir, 'node_modules', '@osprofiler', name);
  mkdirSync(to, { recursive: true });
  cpSync(join(PACKAGES, name, 'package.json'), join(to, 'package.json'));
  cpSync(join(PACKAGES, name, 'dist'), join(to, 'dist'), { recursive: true });
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: app,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, OSPROFILER_STATE_DIR: join(app, 'state') },
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'osp-cli-standalone-'));
  install(app, 'core');
  install(app, 'cli');
  symlinkSync(join(ROOT_MODULES, 'commander'), join(app, 'node_modules', 'commander'));
  bin = join(app, 'node_modules', '@osprofiler', 'cli', 'dist', 'bin.js');
});

afterAll(() => rmSync(app, { recursive: true, force: true }));

describe('@osprofiler/cli without @osprofiler/agent', () => {
  it('declares the agent an optional peer, not a dependency', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGES, 'cli', 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@osprofiler/core', 'commander']);
    expect(pkg.peerDependencies['@osprofiler/agent']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@osprofiler/agent']).toEqual({ optional: true });
  });

  it('help, trace list and trace show run', () => {
    const help = cli(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: osprofiler/);
    expect(cli(['help', 'agent']).status).toBe(0);
    const list = cli(['trace', 'list', '--connection-string', 'memory://']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain('| base_id | timestamp |');
    const show = cli(['trace', 'show', '12345678-1234-4234-8234-123456789abc', '--connection-string', 'memory://']);
    expect(show.status).toBe(1);
    expect(show.stderr).toContain("not found in 'memory://'");
  });

  it('`agent` names the package to install, exit 1', () => {
    const r = cli(['agent', '--listen', join(app, 'agent.sock'), '--backend', 'memory://']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'error: osprofiler agent needs the @osprofiler/agent package, an optional peer dependency of @osprofiler/cli: npm install @osprofiler/agent\n',
    );
  });

  it('an unknown scheme lists what is installed here (no agent, no drivers)', () => {
    const r = cli(['trace', 'list', '--connection-string', 'redis://127.0.0.1:1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no storage driver for scheme "redis" (known schemes: file, memory;');
  });
});
