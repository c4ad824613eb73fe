import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import ts from 'typescript';
import 'reflect-metadata';
import * as core from '../src/index';
import { RecordingDriver } from './support/recording-driver';

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
