import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import ts from 'typescript';
import 'reflect-metadata';
import * as core from '../src/index';
import { RecordingDriver } from './support/recording-driver';
import { runtime } from '../src/runtime';

const nodeRequire = createRequire(__filename);
let driver: RecordingDriver;
beforeEach(() => {
  driver = new RecordingDriver();
  core.configure({ driver, host: 'h', flushIntervalMs: 5 });
});
afterEach(() => core.shutdown());

/** Compiles `source` with the real TypeScript compiler in the given decorator mode and loads it. */
function compile(source: string, legacy: boolean): Record<string, any> {
  const out = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: legacy,
      emitDecoratorMetadata: legacy,
    },
  });
  const mod = { exports: {} as Record<string, any> };
  const req = (id: string) => (id === '@osprofiler/core' ? core : nodeRequire(id));
  new Function('require', 'module', 'exports', out.outputText)(req, mod, mod.exports);
  return mod.exports;
}

const SOURCE = `
import 'reflect-metadata';
import { trace, traceClass } from '@osprofiler/core';

// Like Nest's @MessagePattern: metadata stored on the method function itself.
export function Pattern(p: string): any {
  return function (target: any, key: any, descriptor?: PropertyDescriptor) {
    if (descriptor) { Reflect.defineMetadata('pattern', p, descriptor.value); return descriptor; }
    Reflect.defineMetadata('pattern', p, target); return target;
  };
}

@traceClass('driver', { hideArgs: false })
export class Service {
  @Pattern('svc.get')
  get(id: number) { return this.load(id); }
  load(id: number) { return { id }; }
  async later() { return 7; }
}

export class Api {
  @trace('rpc', { hideResult: false })
  call(x: string) { return x.toUpperCase(); }
}
`;

for (const legacy of [true, false]) {
  describe(`${legacy ? 'legacy (experimentalDecorators)' : 'standard'} decorators`, () => {
    it('trace and traceClass produce points with Class.method names, keep Reflect metadata', async () => {
      const { Service, Api } = compile(SOURCE, legacy);
      expect(Reflect.getMetadata('pattern', Service.prototype.get)).toBe('svc.get');
      const svc = new Service();
      const api = new Api();
      const base = `dec-${legacy}`;
      await core.run({ hmacKey: 'k', baseId: base }, async () => {
        expect(svc.get(3)).toEqual({ id: 3 });
        expect(await svc.later()).toBe(7);
        expect(api.call('a')).toBe('A');
      });
      // Untraced calls still work and make no points.
      expect(api.call('b')).toBe('B');
      await core.flush();
      const ev = driver.byBase(base);
      expect(ev.map((e) => e.name)).toEqual([
        'driver-start', 'driver-start', 'driver-stop', 'driver-stop',
        'driver-start', 'driver-stop', 'rpc-start', 'rpc-stop',
      ]);
      expect(ev[0].info.function).toEqual({ name: 'Service.get', args: '[3]' });
      expect(ev[1].info.function).toEqual({ name: 'Service.load', args: '[3]' });
      expect(ev[1].parent_id).toBe(ev[0].trace_id);
      expect(ev[6].info.function).toEqual({ name: 'Api.call' });
      expect(ev[7].info.function).toEqual({ result: '"A"' });
      expect(driver.events).toHaveLength(8);
    });
  });
}

describe("a traced function's start info", () => {
  type Ev = { phase: number; name: string; info: object | undefined };
  const recorded = async (body: () => void): Promise<Ev[]> => {
    const evs: Ev[] = [];
    const saved = runtime.sink;
    runtime.sink = { point: (phase, name, _b, _t, _p, info) => void evs.push({ phase, name, info }) };
    try {
      await core.run({ hmacKey: 'k', baseId: 'dec-infos' }, async () => body());
    } finally {
      runtime.sink = saved;
    }
    return evs.filter((e) => e.phase === 0);
  };

  it('by default (arguments hidden, no extra info) one frozen info once the name repeats', async () => {
    const f = core.trace('fn')(function work(x: number) {
      return x + 1;
    });
    const starts = await recorded(() => {
      for (let i = 0; i < 3; i++) expect(f(i)).toBe(i + 1);
    });
    expect(starts).toHaveLength(3);
    for (const s of starts) expect(s.info).toEqual({ function: { name: 'work' } });
    expect(Object.isFrozen(starts[0].info)).toBe(false);
    expect(Object.isFrozen(starts[1].info)).toBe(true);
    expect(Object.isFrozen((starts[1].info as { function: object }).function)).toBe(true);
    expect(starts[2].info).toBe(starts[1].info);
  });

  it("a base method on two subclasses: each call its own class's name, alternating ones never shared", async () => {
    class Base {
      m(): number {
        return 1;
      }
    }
    core.traceClass('svc')(Base);
    class A extends Base {}
    class B extends Base {}
    const a = new A();
    const b = new B();
    const starts = await recorded(() => {
      for (let i = 0; i < 3; i++) {
        a.m();
        b.m();
      }
      a.m();
      a.m();
    });
    expect(starts.map((s) => (s.info as { function: { name: string } }).function.name)).toEqual(['A.m', 'B.m', 'A.m', 'B.m', 'A.m', 'B.m', 'A.m', 'A.m']);
    expect(starts.slice(0, 7).every((s) => !Object.isFrozen(s.info))).toBe(true);
    expect(Object.isFrozen(starts[7].info)).toBe(true);
  });

  it('extra info or shown arguments: a fresh info every call, the options never frozen', async () => {
    const extra = { component: { kind: 'cache' } };
    const f = core.trace('fn', { info: extra })(function withExtra() {
      return 0;
    });
    const g = core.trace('fn', { hideArgs: false })(function withArgs(x: number) {
      return x;
    });
    const starts = await recorded(() => {
      for (let i = 0; i < 3; i++) {
        f();
        g(i);
      }
    });
    expect(starts).toHaveLength(6);
    for (let i = 0; i < 3; i++) {
      expect(starts[2 * i].info).toEqual({ component: { kind: 'cache' }, function: { name: 'withExtra' } });
      expect(starts[2 * i + 1].info).toEqual({ function: { name: 'withArgs', args: `[${i}]` } });
    }
    expect(starts.every((s) => !Object.isFrozen(s.info))).toBe(true);
    expect(Object.isFrozen(extra) || Object.isFrozen(extra.component)).toBe(false);
  });
});
