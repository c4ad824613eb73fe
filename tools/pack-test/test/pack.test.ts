/**
 * The packages as a user gets them: every workspace package is packed (`npm pack`), its
 * tarball's contents checked, installed on its own into a fresh app outside the repository,
 * and all of them together into an app that traces requests in ESM and CommonJS, with the
 * explicit API and with automatic mode (`node --import`/`--require @osprofiler/auto`), into a
 * file:// store in a temp dir that is read back through the installed core and CLI.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, npmInstall, runStep, startServer, type Server } from './npm';

const ROOT = resolve(__dirname, '../../..');
const APP_SOURCES = join(__dirname, 'app');
const KEY = 'pack-test-key';

interface Pkg {
  name: string;
  dir: string;
  json: Record<string, any>;
  tarball: string;
  files: string[];
}

const packages: Pkg[] = readdirSync(join(ROOT, 'packages'))
  .map((d) => join(ROOT, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter((p) => p.json.private !== true)
  .map((p) => ({ name: p.json.name as string, dir: p.dir, json: p.json, tarball: '', files: [] }));
const byName = new Map(packages.map((p) => [p.name, p]));

/** What each package may bring of ours when installed on its own: core, and for auto the adapters it loads. */
const OURS_NEEDED: Record<string, string[]> = {
  '@osprofiler/core': [],
  '@osprofiler/auto': ['@osprofiler/core', '@osprofiler/express', '@osprofiler/node'],
  // The collector decodes the agent's line batches by the upstream contract the agent publishes with.
  '@osprofiler/collector': ['@osprofiler/agent', '@osprofiler/core'],
};

const tmp = mkdtempSync(join(tmpdir(), 'osp-pack-'));
const tarballs = join(tmp, 'tarballs');
let full: string;
const servers: Server[] = [];

function newApp(name: string, type: 'module' | 'commonjs' = 'commonjs'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type }, null, 2));
  return dir;
}

/** Our packages a package.json requires (dependencies, and peers not marked optional), transitively. */
function oursRequired(name: string, seen = new Set<string>()): Set<string> {
  const json = byName.get(name)!.json;
  const optional = json.peerDependenciesMeta ?? {};
  const wanted = [...Object.keys(json.dependencies ?? {}), ...Object.keys(json.peerDependencies ?? {}).filter((n) => optional[n]?.optional !== true)];
  for (const dep of wanted) {
    if (!dep.startsWith('@osprofiler/') || seen.has(dep)) continue;
    seen.add(dep);
    oursRequired(dep, seen);
  }
  return seen;
}

function installedOurs(app: string): string[] {
  const dir = join(app, 'node_modules/@osprofiler');
  return existsSync(dir) ? readdirSync(dir).map((d) => `@osprofiler/${d}`).sort() : [];
}

/** The files a package.json points at (main, types, exports, bin). */
function entryFiles(json: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk([json.main, json.types, json.exports, json.bin]);
  return out.filter((f) => f.startsWith('./') || !f.includes(':')).map((f) => f.replace(/^\.\//, ''));
}

beforeAll(() => {
  mkdirSync(tarballs);
  for (const p of packages) {
    const r = runStep('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], p.dir, 60_000);
    const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
    p.tarball = join(tarballs, info.filename);
    p.files = info.files.map((f) => f.path).sort();
  }
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack contents', () => {
  it.each(packages.map((p) => [p.name, p] as const))('%s holds its build, README and package.json only', (_name, p) => {
    const extra = p.files.filter((f) => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(f) && !f.startsWith('dist/') && !(f.startsWith('bin/') && p.json.bin));
    expect(extra, 'files outside dist/ (sources, tests, configs) in the tarball').toEqual([]);
    expect(p.files.filter((f) => /\.tsbuildinfo$|test-results\.json$|(^|\/)test\//.test(f))).toEqual([]);
    expect(p.files).toContain('README.md');
    for (const f of entryFiles(p.json)) expect(p.files, `${f} (named in package.json) is packed`).toContain(f);
    expect(p.json.publishConfig?.access).toBe('public');
    expect(p.json.license).toBe('Apache-2.0');
  });
});

describe('commands', () => {
  // npm links a workspace's bin only if its target exists at install time: in a fresh clone
  // (`npm ci && npm run build`) dist/ does not, and `npx osprofiler` then ran another
  // `osprofiler` on PATH. So every bin target is a committed file.
  it.each(packages.filter((p) => p.json.bin !== undefined).map((p) => [p.name, p] as const))('%s: every bin target is tracked by git', (_name, p) => {
    const bins: string[] = typeof p.json.bin === 'string' ? [p.json.bin] : Object.values(p.json.bin);
    for (const bin of bins) {
      const r = spawnSync('git', ['ls-files', '--error-unmatch', bin], { cwd: p.dir, encoding: 'utf8' });
      expect(r.status, `${bin} is not a committed file: ${r.stderr}`).toBe(0);
    }
  });
});

describe('each package installs on its own with only what it needs', () => {
  it.each(packages.map((p) => [p.name, p] as const))('%s', (name, p) => {
    const app = newApp(`alone-${name.split('/')[1]}`);
    const ours = [...oursRequired(name)];
    npmInstall(app, [p.tarball, ...ours.map((n) => byName.get(n)!.tarball)]);
    expect(installedOurs(app)).toEqual([name, ...(OURS_NEEDED[name] ?? ['@osprofiler/core'])].sort());
    // Loads from CommonJS and from ESM with nothing else installed (optional peers absent).
    runStep(process.execPath, ['-e', `require(${JSON.stringify(name)})`], app, 30_000);
    runStep(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(name)})`], app, 30_000);
  });
});

describe('an app of its own, every package installed from the tarballs', () => {
  let core: any;

  beforeAll(() => {
    full = newApp('app');
    const express = JSON.parse(readFileSync(join(ROOT, 'node_modules/express/package.json'), 'utf8')).version as string;
    npmInstall(full, [...packages.map((p) => p.tarball), `express@${express}`], 240_000);
    for (const f of readdirSync(APP_SOURCES)) copyFileSync(join(APP_SOURCES, f), join(full, f));
    core = createRequire(join(full, 'package.json'))('@osprofiler/core');
  });

  /** The stored trace, read back through the installed core, once `done` holds (bounded). */
  async function stored(store: string, baseId: string, done: (r: any) => boolean): Promise<any> {
    const driver = core.createFileDriver(`file://${store}`);
    try {
      for (const end = Date.now() + 15_000; ; ) {
        const r = await driver.getReport(baseId);
        if (done(r)) return r;
        if (Date.now() > end) throw new Error(`trace ${baseId} incomplete in ${store}: ${JSON.stringify(r)}`);
        await new Promise((t) => setTimeout(t, 50));
      }
    } finally {
      await driver.close();
    }
  }

  const names = (nodes: any[]): unknown[] => nodes.map((n) => (n.children.length === 0 ? n.info.name : { [n.info.name]: names(n.children) }));

  it.each([['explicit.mjs'], ['explicit.cjs']])('explicit API, %s: the request and its db point are stored', async (file) => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const r = runStep(process.execPath, [file], full, 60_000, cleanEnv({ APP_KEY: KEY, APP_STORE: `file://${store}` }));
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { baseId: string; status: number; body: unknown };
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ id: '7', total: 42 });
    const report = await stored(store, out.baseId, (t) => t.children.length > 0 && t.stats.db?.count === 1);
    expect(names(report.children)).toEqual([{ wsgi: ['db'] }]);
    const wsgi = report.children[0].info;
    expect(wsgi['meta.raw_payload.wsgi-start'].info.request).toMatchObject({ method: 'GET', path: '/orders/7' });
    expect(wsgi.service).toBe(file.endsWith('.mjs') ? 'pack-esm' : 'pack-cjs');

    // The installed CLI reads the same store.
    const cli = runStep(join(full, 'node_modules/.bin/osprofiler'), ['trace', 'show', out.baseId, '--json', '--connection-string', `file://${store}`], full, 30_000);
    expect(JSON.parse(cli.stdout).children[0].info.name).toBe('wsgi');
  });

  it.each([
    ['--import', 'auto.mjs'],
    ['--require', 'auto.cjs'],
  ])('automatic mode, node %s @osprofiler/auto %s: the request, its fetch and the inner request are stored', async (flag, file) => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const env = cleanEnv({
      OSPROFILER_ENABLED: 'true',
      OSPROFILER_HMAC_KEYS: KEY,
      OSPROFILER_CONNECTION_STRING: `file://${store}`,
      OSPROFILER_FLUSH_INTERVAL_MS: '10',
      OSPROFILER_SERVICE: 'pack-auto',
    });
    const server = await startServer([flag, '@osprofiler/auto', file], full, env);
    servers.push(server);
    const baseId = crypto.randomUUID();
    const { info, hmac } = core.signedPack({ base_id: baseId, parent_id: baseId }, KEY);
    const res = await fetch(`http://127.0.0.1:${server.port}/hello/ada`, { headers: { 'X-Trace-Info': info, 'X-Trace-HMAC': hmac } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'ada', inner: 'inner' });
    const untraced = await fetch(`http://127.0.0.1:${server.port}/hello/bob`);
    expect(await untraced.json()).toEqual({ hello: 'bob', inner: 'inner' });
    const report = await stored(store, baseId, (t) => t.stats.wsgi?.count === 2);
    expect(names(report.children)).toEqual([{ wsgi: [{ rpc: ['wsgi'] }] }]);
    expect(report.children[0].info['meta.raw_payload.wsgi-start'].info.request).toMatchObject({ method: 'GET', path: '/hello/ada' });
    await server.stop();
    // Only the signed request was traced: the store holds one trace.
    expect((await core.createFileDriver(`file://${store}`).listTraces()).map((t: { base_id: string }) => t.base_id)).toEqual([baseId]);
  });
});
