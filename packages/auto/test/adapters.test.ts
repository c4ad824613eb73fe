import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFileDriver } from '@osprofiler/core';
import { startChild, type Child } from '../../../tools/testing/child-process';
import { listedIds } from '../../../tools/testing/file-store';
import { httpGet, signedHeaders } from '../../../tools/testing/http';
import { tempDir } from '../../../tools/testing/temp-dir';

// Automatic mode with each adapter besides Express: every app runs in its own `node`
// process, loaded as users do it (`--import` an ESM app, `--require` a CommonJS one), and
// contains no osprofiler code beyond Nest's `@Traced` decorator.
const PKG = resolve(__dirname, '..');
const FIXTURES = join(__dirname, 'fixtures');
const KEY = 'auto-adapters-key';
const tmp = tempDir('osp-auto-adapters-');
const children: Child[] = [];

afterAll(async () => {
  for (const c of children) await c.stop();
});

const get = httpGet;

const signed = (baseId: string): Record<string, string> => signedHeaders(baseId, KEY);

async function run(flag: '--import' | '--require', app: string, store: string, extra: Record<string, string> = {}): Promise<Child> {
  const env = {
    ...process.env,
    OSPROFILER_ENABLED: 'true',
    OSPROFILER_HMAC_KEYS: KEY,
    OSPROFILER_CONNECTION_STRING: `file://${store}`,
    OSPROFILER_FLUSH_INTERVAL_MS: '10',
    OSPROFILER_SERVICE: 'auto-adapters',
    ...extra,
  };
  const c = await startChild([flag, '@osprofiler/auto', join(FIXTURES, app)], env, { cwd: PKG, timeoutMs: 30_000 });
  children.push(c);
  return c;
}

async function report(store: string, baseId: string, done: (r: any) => boolean): Promise<any> {
  const driver = createFileDriver(`file://${store}`);
  try {
    const end = Date.now() + 10_000;
    for (;;) {
      const r = (await driver.getReport(baseId)) as any;
      if (done(r)) return r;
      if (Date.now() > end) throw new Error(`trace ${baseId} incomplete: ${JSON.stringify(r.stats)}`);
      await new Promise((t) => setTimeout(t, 25));
    }
  } finally {
    await driver.close();
  }
}

const start = (node: any, name: string) => node.info[`meta.raw_payload.${name}-start`];
const stop = (node: any, name: string) => node.info[`meta.raw_payload.${name}-stop`];
const stopped = (name: string) => (x: any) => JSON.stringify(x).includes(`${name}-stop`) && JSON.stringify(x).includes('wsgi-stop');

const FLAVOURS = [
  ['--import', 'mjs'],
  ['--require', 'cjs'],
] as const;

describe.each(FLAVOURS)('node %s @osprofiler/auto (%s app)', (flag, ext) => {
  it.each(['knex', 'typeorm', 'pg'])('Express + %s: the query is a db point inside the wsgi point', async (lib) => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run(flag, `${lib}-app.${ext}`, store);
    const base = randomUUID();
    expect(await get(c.port, '/pets/cat', signed(base))).toEqual({ status: 200, body: JSON.stringify([{ name: 'cat', legs: 4 }]) });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 1 && (x.stats.db?.count ?? 0) >= 1 && stopped('db')(x));
    const wsgi = rep.children[0];
    expect(stop(wsgi, 'wsgi').info).toMatchObject({ request: { route: '/pets/:name' }, response: { status_code: 200 } });
    const db = wsgi.children.find((n: any) => n.info.name === 'db');
    expect(db).toBeDefined();
    expect(db.parent_id).toBe(wsgi.trace_id);
    expect(JSON.stringify(start(db, 'db').info)).toContain(lib === 'pg' ? 'pg.Pool.query' : 'auto_' + lib + '_pets');
    expect(rep.stats.db.count).toBe(1);
    // No SQL bindings are stored by default.
    expect(JSON.stringify(rep)).not.toContain('"cat"]');
    expect(c.output()).not.toMatch(/Warning|Error:/);
  }, 60_000);

  it('Fastify: a signed request is a wsgi point with the route template; errors recorded', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run(flag, `fastify-app.${ext}`, store);
    const base = randomUUID();
    expect(await get(c.port, '/pets/cat?x=1', signed(base))).toEqual({ status: 200, body: JSON.stringify({ name: 'cat' }) });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 1 && stopped('wsgi')(x));
    expect(start(rep.children[0], 'wsgi').info.request).toEqual({ path: '/pets/cat', query: 'x=1', method: 'GET', scheme: 'http' });
    expect(stop(rep.children[0], 'wsgi').info).toMatchObject({ request: { route: '/pets/:name' }, response: { status_code: 200 } });
    const errBase = randomUUID();
    expect((await get(c.port, '/boom', signed(errBase))).status).toBe(500);
    const errRep = await report(store, errBase, (x) => x.stats.wsgi?.count === 1 && stopped('wsgi')(x));
    expect(stop(errRep.children[0], 'wsgi').info).toMatchObject({ etype: 'Error', message: 'boom', response: { status_code: 500 }, request: { route: '/boom' } });
    expect(c.output()).not.toMatch(/Warning|Error:/);
  }, 60_000);

  it.each(['express', 'fastify'])('Nest on %s without ProfilerModule: one wsgi point per request (Nest owns it), the @Traced provider inside, errors', async (platform) => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run(flag, `nest-app.${ext}`, store, { NEST_PLATFORM: platform });
    const base = randomUUID();
    expect(await get(c.port, '/pets/dog', signed(base))).toEqual({ status: 200, body: JSON.stringify({ name: 'dog', legs: 4 }) });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 1 && x.stats.driver?.count === 1 && stopped('driver')(x));
    expect(rep.stats.wsgi.count).toBe(1);
    expect(rep.children).toHaveLength(1);
    const wsgi = rep.children[0];
    expect(start(wsgi, 'wsgi').info.request).toMatchObject({ path: '/pets/dog', method: 'GET' });
    expect(stop(wsgi, 'wsgi').info).toMatchObject({ request: { route: '/pets/:name' }, response: { status_code: 200 } });
    expect(JSON.stringify(rep)).toContain('PetsController');
    const driver = wsgi.children.find((n: any) => n.info.name === 'driver');
    expect(start(driver, 'driver').info.function.name).toContain('legs');

    const errBase = randomUUID();
    expect((await get(c.port, '/pets/missing', signed(errBase))).status).toBe(404);
    const errRep = await report(store, errBase, (x) => x.stats.wsgi?.count === 1 && stopped('wsgi')(x));
    expect(errRep.stats.wsgi.count).toBe(1);
    expect(stop(errRep.children[0], 'wsgi').info).toMatchObject({ etype: 'NotFoundException', response: { status_code: 404 } });

    // An unsigned request stores nothing.
    expect((await get(c.port, '/pets/cat')).status).toBe(200);
    expect(await listedIds(store, [base, errBase])).toEqual([base, errBase].sort());
    expect(c.output()).not.toMatch(/Warning|Error:/);
  }, 60_000);
});

describe('Nest microservices in automatic mode (NATS)', () => {
  it('a hybrid app with no ProfilerModule: the NATS handler continues the trace under the client rpc point', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run('--import', 'nest-ms-app.mjs', store, { SUBJECT: `osp.auto.${process.pid}.${randomUUID()}` });
    const base = randomUUID();
    expect(await get(c.port, '/ask/21', signed(base))).toEqual({ status: 200, body: JSON.stringify({ doubled: 42 }) });
    const rep = await report(store, base, (x) => x.stats.wsgi?.count === 1 && x.stats.rpc?.count === 2 && stopped('rpc')(x));
    const wsgi = rep.children[0];
    const client = wsgi.children.find((n: any) => n.info.name === 'rpc');
    expect(client).toBeDefined();
    const handler = client.children.find((n: any) => n.info.name === 'rpc');
    expect(handler).toBeDefined();
    expect(handler.parent_id).toBe(client.trace_id);
    expect(c.output()).not.toMatch(/Warning|Error:/);
  }, 60_000);
});

describe('autoStatus()', () => {
  it('lists every adapter that registered, and notes what was skipped', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    const c = await run('--require', 'status-app.cjs', store);
    const status = JSON.parse(/STATUS (.*)/.exec(c.output())![1]);
    expect(status.enabled).toBe(true);
    expect(status.adapters).toEqual(['express', 'fastify', 'nestjs', 'knex', 'typeorm', 'pg', 'node']);
    expect(status.notes).toEqual([]);
  }, 30_000);

  it('an adapter that is not installed is skipped with a note; the others register', async () => {
    const store = mkdtempSync(join(tmp, 'store-'));
    // The preload hides @osprofiler/knex from resolution, as if it were not installed.
    const c = await run('--require', 'status-app.cjs', store, { NODE_OPTIONS: `--require ${join(FIXTURES, 'hide-knex.cjs')}` });
    const status = JSON.parse(/STATUS (.*)/.exec(c.output())![1]);
    expect(status.adapters).toEqual(['express', 'fastify', 'nestjs', 'typeorm', 'pg', 'node']);
    expect(status.notes).toEqual(['knex: @osprofiler/knex is not installed']);
    expect(c.output()).not.toMatch(/Warning/);
  }, 30_000);
});
