import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncResource } from 'node:async_hooks';
import { configure, flush, get, run, shutdown, traced, trace, traceClass, failureCounts } from '../src/index';
import { RecordingDriver } from './support/recording-driver';

let driver: RecordingDriver;
beforeEach(() => {
  driver = new RecordingDriver();
  configure({ driver, host: 'h', flushIntervalMs: 5 });
});
afterEach(() => shutdown());

class MyError extends Error {}

describe('scoped points', () => {
  it('sync: returns the value; a throw records etype/message and rethrows the same error', async () => {
    const err = new MyError('kaboom');
    run({ hmacKey: 'k', baseId: 's1' }, () => {
      expect(traced('ok', () => 42)).toBe(42);
      let caught: unknown;
      try {
        traced('failing', { a: 1 }, () => {
          throw err;
        });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(err);
    });
    await flush();
    const ev = driver.byBase('s1');
    expect(ev.map((e) => e.name)).toEqual(['ok-start', 'ok-stop', 'failing-start', 'failing-stop']);
    expect(ev[2].info).toEqual({ a: 1, host: 'h' });
    expect(ev[3].info).toEqual({ etype: 'MyError', message: 'kaboom', host: 'h' });
  });

  it('async: the point ends when the promise settles; rejection rethrown untouched', async () => {
    const err = new TypeError('bad');
    await run({ hmacKey: 'k', baseId: 's2' }, async () => {
      await expect(traced('slow', async () => 'v')).resolves.toBe('v');
      await expect(traced('rej', async () => Promise.reject(err))).rejects.toBe(err);
    });
    await flush();
    const ev = driver.byBase('s2');
    expect(ev.map((e) => e.name)).toEqual(['slow-start', 'slow-stop', 'rej-start', 'rej-stop']);
    expect(ev[3].info).toMatchObject({ etype: 'TypeError', message: 'bad' });
  });

  it('runs fn as the point, then gives the caller its profiler back (after a throw too, and across async resources)', async () => {
    run({ hmacKey: 'k', baseId: 's3' }, () => {
      const root = get();
      let inner: unknown;
      traced('outer', () => {
        inner = get();
        expect(inner).not.toBe(root);
        // fn switching to another async resource and back, as a callback from a pool would.
        const res = new AsyncResource('x');
        res.runInAsyncScope(() => traced('in-scope', () => expect(get()).not.toBe(inner)));
        expect(get()).toBe(inner);
        expect(() => traced('throws', () => { throw new Error('x'); })).toThrow('x');
        expect(get()).toBe(inner);
      });
      expect(get()).toBe(root);
    });
    expect(get()).toBeUndefined();
    await flush();
    const ev = driver.byBase('s3');
    const names = ev.map((e) => e.name);
    expect(names).toEqual(['outer-start', 'in-scope-start', 'in-scope-stop', 'throws-start', 'throws-stop', 'outer-stop']);
    const outer = ev[0].trace_id;
    expect(ev[1].parent_id).toBe(outer);
    expect(ev[3].parent_id).toBe(outer);
  });

  it('outside a trace runs the function with no point and no wrapper promise', async () => {
    const p = Promise.resolve(5);
    expect(traced('x', () => p)).toBe(p);
    await flush();
    expect(driver.events).toHaveLength(0);
  });

  it('trace() wrapper records function name, args only when asked, result only when asked', async () => {
    const add = trace('driver', { hideArgs: false, hideResult: false })(function add(a: number, b: number) {
      return a + b;
    });
    const hidden = trace('driver')(function secret(_pw: string) {
      return 'token';
    });
    run({ hmacKey: 'k', baseId: 's3' }, () => {
      expect(add(2, 3)).toBe(5);
      expect(hidden('hunter2')).toBe('token');
    });
    await flush();
    const ev = driver.byBase('s3');
    expect(ev[0].info).toEqual({ function: { name: 'add', args: '[2, 3]' }, host: 'h' });
    expect(ev[1].info).toEqual({ function: { result: '5' }, host: 'h' });
    expect(ev[2].info).toEqual({ function: { name: 'secret' }, host: 'h' });
    expect(JSON.stringify(ev)).not.toContain('hunter2');
    expect(JSON.stringify(ev)).not.toContain('token');
    expect(add.name).toBe('add');
    expect(add.length).toBe(2);
  });

  it('info that cannot be serialised (cycles, BigInt) is made safe, not thrown', async () => {
    const cyc: Record<string, unknown> = { n: 1n };
    cyc.self = cyc;
    run({ hmacKey: 'k', baseId: 's4' }, () => traced('weird', cyc, () => undefined));
    await flush();
    expect(driver.byBase('s4')[0].info).toEqual({ n: '1', self: '<circular>', host: 'h' });
  });

  it('a failing driver is contained and counted, the app is unaffected', async () => {
    driver.failNext = 1;
    const before = failureCounts()['driver.notify'] ?? 0;
    expect(run({ hmacKey: 'k', baseId: 's5' }, () => traced('p', () => 'fine'))).toBe('fine');
    await flush();
    expect(failureCounts()['driver.notify']).toBe(before + 1);
    run({ hmacKey: 'k', baseId: 's6' }, () => traced('p', () => 'fine'));
    await flush();
    expect(driver.byBase('s6')).toHaveLength(2);
  });
});

describe('traceClass', () => {
  it('traces public methods (inherited too) under one point name, skips private and excluded', async () => {
    class Base {
      inherited() {
        return 'i';
      }
    }
    class Repo extends Base {
      find(id: number) {
        return { id };
      }
      async save() {
        return this._internal();
      }
      _internal() {
        return 'saved';
      }
      skipMe() {
        return 0;
      }
      get prop() {
        return 1;
      }
    }
    traceClass('db', { exclude: ['skipMe'] })(Repo);
    const r = new Repo();
    await run({ hmacKey: 'k', baseId: 'c1' }, async () => {
      r.find(1);
      await r.save();
      r.inherited();
      r.skipMe();
      expect(r.prop).toBe(1);
    });
    await flush();
    const names = driver.byBase('c1').filter((e) => e.name === 'db-start').map((e) => (e.info.function as { name: string }).name);
    expect(names).toEqual(['Repo.find', 'Repo.save', 'Repo.inherited']);
  });
});
