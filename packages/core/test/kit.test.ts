import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { createHmac } from 'node:crypto';
import { configure, failureCounts, flush, get, MemoryDriver, run, shutdown } from '../src/index';
import {
  callInPoint, contained, hostProperty, isWrapped, originalOf, redactConnectionString, rejectionReason, responseFinished, satisfies, scrubSecrets, settle, unwrap, wrap,
} from '../src/instrument';
import { openPoint } from '../src/point';
import { signedPack } from '../src/signing';

describe('wrap / unwrap / isWrapped: one marker', () => {
  it('wraps once per package, sees through other packages’ wrappers, and unwraps', () => {
    const proto = { greet(n: string) { return `hi ${n}`; } };
    const obj = Object.create(proto) as typeof proto;
    expect(wrap(proto, 'greet', 'a', (o) => function greet(this: unknown, n: string) { return `[${o.call(this, n)}]`; })).toBe(true);
    expect(wrap(proto, 'greet', 'a', (o) => o)).toBe(false); // once per package
    expect(wrap(obj, 'greet', 'b', (o) => function (this: unknown, n: string) { return `<${o.call(this, n)}>`; })).toBe(true);
    expect(obj.greet('x')).toBe('<[hi x]>');
    expect(isWrapped(obj.greet, 'a')).toBe(true);
    expect(isWrapped(obj.greet, 'c')).toBe(false);
    expect(obj.greet.name).toBe('greet');
    expect(originalOf(obj.greet)('y')).toBe('hi y');
    expect(unwrap(obj, 'greet', 'a')).toBe(false); // 'b' is the outer one
    expect(unwrap(obj, 'greet', 'b')).toBe(true);
    expect(unwrap(proto, 'greet')).toBe(true);
    expect(obj.greet('z')).toBe('hi z');
  });
});

describe('satisfies: supported version ranges', () => {
  it.each([
    ['4.17.0', '>=4.17.0 <6', true], ['5.3.0', '>=4.17.0 <6', true], ['6.0.0', '>=4.17.0 <6', false], ['4.16.4', '>=4.17.0 <6', false],
    ['11.2.10', '^11.0.0 || ^12.0.0', true], ['13.0.0', '^11.0.0 || ^12.0.0', false], ['0.3.27', '>=0.3.26 <2', true],
    ['0.3.1', '^0.3.2', false], ['0.3.5', '^0.3.2', true], ['0.4.0', '^0.3.2', false], ['4.18.1', '~4.17', false], ['4.17.9', '~4.17', true],
    ['5.0.0-beta.1', '>=5', true], ['x.y', '>=1', false], ['1.2.3', '*', true],
  ])('%s in %s: %s', (v, r, ok) => expect(satisfies(v, r)).toBe(ok));
});

describe('the point lifecycle around a call', () => {
  it('sync, promise (same promise back), rejection and stream results end their point once (Observables: nestjs tests)', async () => {
    const store = new MemoryDriver({}, 'kit-lifecycle');
    configure({ enabled: true, hmacKeys: ['k'], connectionString: 'memory://kit-lifecycle', flushIntervalMs: 5 });
    try {
      const base = '11111111-2222-3333-4444-555555555555';
      await run({ hmacKey: 'k', baseId: base }, async () => {
        expect(callInPoint(openPoint('sync')!, () => 1, { stopInfo: (v) => ({ v }) })).toBe(1);
        const p = Promise.resolve(2);
        expect(callInPoint(openPoint('async')!, () => p)).toBe(p); // the very promise
        await p;
        const bad = Promise.reject(new TypeError('nope'));
        await expect(callInPoint(openPoint('rejected')!, () => bad)).rejects.toThrow('nope');
        expect(() => callInPoint(openPoint('thrown')!, () => { throw new RangeError('sync'); })).toThrow('sync');
        const s = new EventEmitter();
        callInPoint(openPoint('stream')!, () => s, { stream: true });
        s.emit('end');
        s.emit('close');
        expect(get()).toBeDefined();
      });
      await flush();
      const ev = store.rawEvents(base).map((l) => JSON.parse(l) as { name: string; info: Record<string, unknown> });
      const names = ev.map((e) => e.name);
      for (const n of ['sync', 'async', 'rejected', 'thrown', 'stream']) {
        expect(names.filter((x) => x === `${n}-stop`)).toHaveLength(1);
      }
      expect(ev.find((e) => e.name === 'sync-stop')!.info).toMatchObject({ v: 1 });
      expect(ev.find((e) => e.name === 'rejected-stop')!.info).toMatchObject({ etype: 'TypeError', message: 'nope' });
      expect(ev.find((e) => e.name === 'thrown-stop')!.info).toMatchObject({ etype: 'RangeError' });
    } finally {
      await shutdown();
    }
  });

  it('a failing stopInfo is contained and counted under the package', async () => {
    const c = contained('kittest');
    configure({ enabled: true, hmacKeys: ['k'], connectionString: 'memory://kit-lifecycle-2' });
    try {
      run({ hmacKey: 'k' }, () => {
        settle(openPoint('x')!, 5, { contained: c, stopInfo: () => { throw new Error('bad info'); } });
      });
      expect(c.counts()).toEqual({ stopInfo: 1 });
      expect(failureCounts()['kittest.stopInfo']).toBe(1);
    } finally {
      await shutdown();
    }
  });
});

describe('one redaction', () => {
  it('hides the userinfo password and password-like query values, and scrubs echoes', () => {
    expect(redactConnectionString('redis://:pw@h:6379/0?password=pw2&db=1')).toBe('redis://:***@h:6379/0?password=***&db=1');
    expect(redactConnectionString('postgresql://u:p@postgres/db')).toBe('postgresql://u:***@postgres/db');
    expect(redactConnectionString('file:///a/b')).toBe('file:///a/b');
    // NATS reads a lone userinfo as a token: the token is the secret.
    expect(redactConnectionString('nats://s3cr3t@127.0.0.1:4222')).toBe('nats://***@127.0.0.1:4222');
    expect(redactConnectionString('nats://u:pw@h:4222')).toBe('nats://u:***@h:4222');
    expect(redactConnectionString('postgresql://postgres@h/db')).toBe('postgresql://postgres@h/db');
    expect(scrubSecrets('bad token s3cr3t', 'nats://s3cr3t@h')).toBe('bad token ***');
    expect(scrubSecrets('auth failed for s%40cret and s@cret', 'redis://u:s%40cret@h')).toBe('auth failed for *** and ***');
  });
});

describe('why a trace header was rejected (debug output)', () => {
  it('names the reason, never the key or the values', () => {
    const { info, hmac } = signedPack({ base_id: 'b', parent_id: 'p' }, 'right');
    expect(rejectionReason({ 'x-trace-info': info, 'x-trace-hmac': hmac }, ['wrong'])).toBe('X-Trace-HMAC does not match any of the 1 configured key(s)');
    expect(rejectionReason({ 'x-trace-info': info, 'x-trace-hmac': hmac }, [])).toMatch(/no HMAC keys/);
    expect(rejectionReason({ 'x-trace-info': info, 'x-trace-hmac': ['a', 'b'] }, ['right'])).toBe('a trace header is repeated');
    expect(rejectionReason({}, ['right'])).toBeUndefined();
    const signedJunk = signedPack({ base_id: 'b', parent_id: 'p' }, 'right');
    const junk = Buffer.from('not json').toString('base64');
    expect(signedJunk.hmac).toHaveLength(40);
    expect(rejectionReason({ 'x-trace-info': junk, 'x-trace-hmac': createHmac('sha1', 'right').update(junk).digest('hex') }, ['right'])).toMatch(/signed but does not hold/);
  });
});

describe('lint rule osprofiler/catch-contained', () => {
  it('rejects a bare catch (even with a comment); accepts contained(), recordFailure(), a rethrow', async () => {
    const plugin = (await import(resolve(__dirname, '../../../tools/eslint/osprofiler-rules.mjs'))).default;
    const linter = new Linter({ configType: 'flat' });
    const config = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser }, plugins: { osprofiler: plugin }, rules: { 'osprofiler/catch-contained': 'error' as const } }];
    const lint = (code: string) => linter.verify(code, config, { filename: 'x.ts' }).map((m) => m.ruleId);
    expect(lint('try { f(); } catch { /* never break the app */ }')).toEqual(['osprofiler/catch-contained']);
    expect(lint('try { f(); } catch { return undefined; }'.replace('return undefined;', 'x = 1;'))).toEqual(['osprofiler/catch-contained']);
    expect(lint('try { f(); } catch (err) { setTimeout(() => { throw err; }); }')).toEqual(['osprofiler/catch-contained']);
    expect(lint("try { f(); } catch (err) { contained('place', err); }")).toEqual([]);
    expect(lint("try { f(); } catch (err) { recordFailure('x', err); }")).toEqual([]);
    expect(lint('try { f(); } catch (err) { if (bad(err)) throw err; }')).toEqual([]);
    expect(lint('function g() { try { f(); } catch (err) { return Promise.reject(err); } }')).toEqual([]);
  });
});

describe('the subpath from an application', () => {
  it('@osprofiler/core/instrument loads with require and import, one instance with the main entry, data properties only', async () => {
    const { spawnSync } = await import('node:child_process');
    const cwd = resolve(__dirname, '..', '..', 'express'); // a package that depends on core
    const cjs = spawnSync(process.execPath, ['-e', [
      "const i = require('@osprofiler/core/instrument'); const c = require('@osprofiler/core');",
      "const getters = Object.keys(i).filter((k) => Object.getOwnPropertyDescriptor(i, k).get !== undefined);",
      "i.contained('subpath')('x', new Error('e'));",
      "console.log(JSON.stringify({ getters, counted: c.failureCounts()['subpath.x'], appApiHere: 'configure' in i, kitInMain: 'recordFailure' in c }));",
    ].join('\n')], { cwd, encoding: 'utf8' });
    expect(JSON.parse(cjs.stdout)).toEqual({ getters: [], counted: 1, appApiHere: false, kitInMain: false });
    const esm = spawnSync(process.execPath, ['--input-type=module', '-e', [
      "import { contained, wrap } from '@osprofiler/core/instrument'; import { failureCounts } from '@osprofiler/core';",
      "contained('subpath')('y', new Error('e')); console.log(JSON.stringify({ wrap: typeof wrap, counted: failureCounts()['subpath.y'] }));",
    ].join('\n')], { cwd, encoding: 'utf8' });
    expect(JSON.parse(esm.stdout)).toEqual({ wrap: 'function', counted: 1 });
  });
});

describe('host objects read by keyed loads (kit host-object.ts)', () => {
  // responseFinished stands in for Node's `res.writableFinished` getter at 'close': the same
  // answer for a response that was sent whole and for one whose client went away.
  async function closeReadings(handler: (res: import('node:http').ServerResponse) => void, abort: boolean): Promise<{ ours: boolean; node: boolean }> {
    const http = await import('node:http');
    let reading: { ours: boolean; node: boolean } | undefined;
    const closed = new Promise<void>((done) => {
      const server = http.createServer((_req, res) => {
        res.on('close', () => {
          reading = { ours: responseFinished(res), node: res.writableFinished };
          server.close();
          done();
        });
        handler(res);
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        const req = http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          if (abort) req.destroy();
          else res.resume();
        });
        req.on('error', () => {});
        if (abort) setTimeout(() => req.destroy(), 50);
      });
    });
    await closed;
    return reading!;
  }

  it('finished response: true, as res.writableFinished', async () => {
    expect(await closeReadings((res) => res.end('hello'), false)).toEqual({ ours: true, node: true });
  });

  it('client gone mid-response and before any: false, as res.writableFinished', async () => {
    expect(await closeReadings((res) => res.write('part'), true)).toEqual({ ours: false, node: false });
    expect(await closeReadings(() => {}, true)).toEqual({ ours: false, node: false });
  });

  it('hostProperty reads own and inherited properties, getters included', async () => {
    const proto = { get g() { return 7; }, p: 1 };
    const o = Object.assign(Object.create(proto) as object, { own: 'x' });
    expect([hostProperty(o, 'own'), hostProperty(o, 'p'), hostProperty(o, 'g'), hostProperty(o, 'none')]).toEqual(['x', 1, 7, undefined]);
  });
});
