/**
 * Both ends of the supported range: Nest 11.0.0 (CommonJS) and Nest 12.5.1 (ESM-only,
 * loaded by our CommonJS build through Node's require(esm)). Each lives in its own fixture
 * tree (test/fixtures/<name>, installed on first use with npm's own client under the
 * shared lock); the built package is copied into it so it resolves that tree's @nestjs/*
 * as an app's installed copy would. The app is test/fixtures/app.mjs, a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDriver, type Driver } from '@osprofiler/core';
import { request, signed } from './support';

const PKG = resolve(__dirname, '..');
const FIXTURES = join(__dirname, 'fixtures');
const KEY = 'VERSIONS_KEY';

/** Installs the fixture's dependencies with npm (under the shared lock) unless all are there. */
function ensureInstalled(dir: string): void {
  const deps = Object.keys((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  if (deps.every((d) => existsSync(join(dir, 'node_modules', d, 'package.json')))) return;
  execFileSync('flock', ['/tmp/osp-npm.lock', 'npm', 'install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit', timeout: 180_000 });
}

function installSelf(dir: string): void {
  if (!existsSync(join(PKG, 'dist', 'index.js'))) throw new Error('build @osprofiler/nestjs first (npx tsc -p tsconfig.build.json)');
  const target = join(dir, 'node_modules', '@osprofiler', 'nestjs');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(PKG, 'package.json'), join(target, 'package.json'));
  cpSync(join(PKG, 'dist'), join(target, 'dist'), { recursive: true });
  const app = join(dir, 'node_modules', '.osp-app');
  mkdirSync(app, { recursive: true });
  cpSync(join(FIXTURES, 'app.mjs'), join(app, 'app.mjs'));
  cpSync(join(FIXTURES, 'app-ms.mjs'), join(app, 'app-ms.mjs'));
}

function startApp(dir: string, storeDir: string, script = 'app.mjs', env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, [join(dir, 'node_modules', '.osp-app', script)], {
      env: { ...process.env, KEY, CONNECTION: `file://${storeDir}`, OSPROFILER_ENABLED: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`app did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveP({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code}): ${err}`));
    });
  });
}

async function report(driver: Driver, baseId: string, want: number): Promise<any[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = (await driver.getReport(baseId)) as { children: any[] };
    if (r.children.length >= want || Date.now() > end) return r.children;
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe.each([
  { name: 'nest11-low', version: '11.0.0' },
  { name: 'nest12', version: '12.5.1' },
])('Nest $version ($name)', ({ name, version }) => {
  const dir = join(FIXTURES, name);
  const storeDir = mkdtempSync(join(tmpdir(), 'osp-nest-versions-'));
  let app: { child: ChildProcess; port: number };
  let driver: Driver;

  beforeAll(async () => {
    ensureInstalled(dir);
    expect(JSON.parse(readFileSync(join(dir, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version).toBe(version);
    installSelf(dir);
    app = await startApp(dir, storeDir);
    driver = await createDriver(`file://${storeDir}`, {});
  }, 200_000);
  afterAll(async () => {
    app?.child.kill();
    await driver?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('a signed request gets a wsgi point with route, controller/handler; an HttpException records etype and status', async () => {
    const ok = randomUUID();
    const r = await request(`http://127.0.0.1:${app.port}/users/7`, { headers: signed(KEY, ok, ok) });
    expect(JSON.parse(r.body.toString())).toEqual({ id: '7' });
    const [node] = await report(driver, ok, 1);
    expect(node.info.name).toBe('wsgi');
    const stop = node.info['meta.raw_payload.wsgi-stop'].info;
    expect(stop.request).toEqual({ route: '/users/:id' });
    expect(stop.nest).toEqual({ controller: 'UsersController', handler: 'get' });
    expect(stop.response).toEqual({ status_code: 200 });

    const bad = randomUUID();
    expect((await request(`http://127.0.0.1:${app.port}/users/missing`, { headers: signed(KEY, bad, bad) })).status).toBe(404);
    const [n2] = await report(driver, bad, 1);
    const s2 = n2.info['meta.raw_payload.wsgi-stop'].info;
    expect(s2.etype).toBe('NotFoundException');
    expect(s2.response).toEqual({ status_code: 404 });
  });
});

describe('Nest 12.5.1 microservices (nest12, @nestjs/microservices 12.1.1 on nats.js 3) over NATS 127.0.0.1:4222', () => {
  const dir = join(FIXTURES, 'nest12');
  const storeDir = mkdtempSync(join(tmpdir(), 'osp-nest12-ms-'));
  let app: { child: ChildProcess; port: number };
  let driver: Driver;

  beforeAll(async () => {
    ensureInstalled(dir);
    installSelf(dir);
    app = await startApp(dir, storeDir, 'app-ms.mjs', { SUBJECT: `nest12.double.${randomUUID()}` });
    driver = await createDriver(`file://${storeDir}`, {});
  }, 200_000);
  afterAll(async () => {
    app?.child.kill();
    await driver?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('the client rpc point carries the trace in NATS headers; the handler continues under it', async () => {
    const base = randomUUID();
    const r = await request(`http://127.0.0.1:${app.port}/ask/21`, { headers: signed(KEY, base, base) });
    expect(JSON.parse(r.body.toString())).toEqual({ doubled: 42 });
    const end = Date.now() + 10_000;
    let wsgi: any;
    for (;;) {
      [wsgi] = await report(driver, base, 1);
      const client = wsgi?.children?.[0];
      if ((client?.children?.length ?? 0) > 0 || Date.now() > end) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const client = wsgi.children[0];
    expect(client.info.name).toBe('rpc');
    expect(client.info['meta.raw_payload.rpc-start'].info.message).toMatchObject({ transport: 'nats' });
    const handler = client.children[0];
    expect(handler.info.name).toBe('rpc');
    expect(handler.parent_id).toBe(client.trace_id);
    expect(handler.info['meta.raw_payload.rpc-start'].info.nest).toEqual({ controller: 'AskController', handler: 'double' });
  });
});
