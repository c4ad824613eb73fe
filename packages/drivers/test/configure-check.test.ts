/**
 * Bad settings fail at configure(), in an app laid out as npm installs it (packages copied
 * from their dist, no workspace around them): an unknown scheme names the field, its
 * variable and the schemes installed there; a driver's missing client packages are named
 * all at once.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir';

const PACKAGES = resolve(__dirname, '../..');
const ROOT_MODULES = resolve(PACKAGES, '../node_modules');

/** A fresh app whose node_modules holds copies of the given @osprofiler packages and links to the given clients. */
function app(osprofiler: string[], clients: string[] = []): string {
  const dir = tempDir('osp-configure-check-');
  for (const name of osprofiler) {
    const to = join(dir, 'node_modules', '@osprofiler', name);
    mkdirSync(to, { recursive: true });
    cpSync(join(PACKAGES, name, 'package.json'), join(to, 'package.json'));
    cpSync(join(PACKAGES, name, 'dist'), join(to, 'dist'), { recursive: true });
  }
  for (const name of clients) {
    mkdirSync(join(dir, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(ROOT_MODULES, name), join(dir, 'node_modules', name));
  }
  return dir;
}

/** configure() in a separate process of that app; prints the error message or "ok". */
function configureIn(dir: string, options: object, env: Record<string, string> = {}): string {
  const code = `
    const { configure } = require('@osprofiler/core');
    try { configure(${JSON.stringify(options)}); console.log('ok'); }
    catch (e) { console.log(e.name + ' ' + e.message); }`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('configure(): the connection string is checked before anything connects', () => {
  it('an unknown scheme is one ConfigError naming the field, its variable and the installed schemes (agent included)', () => {
    const dir = app(['core', 'drivers', 'agent']);
    const msg = configureIn(dir, { connectionString: 'nosuch://x' });
    expect(msg).toMatch(/^ConfigError osprofiler config: connectionString \(OSPROFILER_CONNECTION_STRING\): no storage driver for scheme "nosuch"/);
    expect(msg).toMatch(/known schemes: agent, amqp, file, memory, mysql, otlp, postgres, postgresql, redis;/);
    // The same from the environment.
    expect(configureIn(dir, {}, { OSPROFILER_CONNECTION_STRING: 'nosuch://x' })).toBe(msg);
  });

  it('lists only what is installed: core alone knows file and memory', () => {
    const msg = configureIn(app(['core']), { connectionString: 'redis://127.0.0.1:1' });
    expect(msg).toMatch(/connectionString \(OSPROFILER_CONNECTION_STRING\): no storage driver for scheme "redis" \(known schemes: file, memory;/);
    expect(msg).toContain('come with @osprofiler/drivers');
  });

  it('names every missing client package of the scheme in one message', () => {
    const bare = app(['core', 'drivers']);
    expect(configureIn(bare, { connectionString: 'postgresql://u:hunter2@127.0.0.1/db' })).toBe(
      'ConfigError osprofiler config: connectionString (OSPROFILER_CONNECTION_STRING): postgresql:// needs the packages "pg", "pg-copy-streams" ' +
        '(optional peer dependencies of @osprofiler/drivers): npm install pg pg-copy-streams',
    );
    expect(configureIn(bare, { connectionString: 'otlp://127.0.0.1:4318' })).toContain(
      'otlp:// needs the packages "@opentelemetry/api", "@opentelemetry/otlp-transformer", "@opentelemetry/resources" ' +
        '(optional peer dependencies of @osprofiler/drivers): npm install @opentelemetry/api @opentelemetry/otlp-transformer @opentelemetry/resources',
    );
    expect(configureIn(bare, { connectionString: 'redis://127.0.0.1:1' })).toContain('redis:// needs the package "ioredis" (optional peer');
    // pg installed, pg-copy-streams not: only that one is named.
    const half = app(['core', 'drivers'], ['pg']);
    expect(configureIn(half, { connectionString: 'postgresql://127.0.0.1/db' })).toContain('postgresql:// needs the package "pg-copy-streams" (optional');
  });

  it('accepts a scheme whose clients are installed, without connecting (nothing listens on port 1)', () => {
    const dir = app(['core', 'drivers'], ['ioredis']);
    expect(configureIn(dir, { connectionString: 'redis://127.0.0.1:1' })).toBe('ok');
  });
});
