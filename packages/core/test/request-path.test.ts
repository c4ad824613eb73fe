// The HTTP request path's shortcuts give exactly what the general code gives: the wsgi start
// info (wsgi-info.ts), the root point (point.ts openRootPoint), the entry's run (runtime.ts runCall).
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { openPoint, openRootPoint, Point } from '../src/point';
import { newProfiler, Profiler } from '../src/profiler';
import { runCall, runIn, runtime, storage, type PointSink } from '../src/runtime';
import { isUuidBeforeLast } from '../src/uuid';
import { pythonPath, splitTarget, wsgiRequestInfo } from '../src/wsgi-info';

describe('wsgiRequestInfo: the safe origin-form shortcut', () => {
  const general = (req: { method?: string; socket?: unknown }, target: string) => {
    const { path, query } = splitTarget(target);
    const encrypted = (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true;
    return { path: pythonPath(path), query, method: req.method ?? '', scheme: encrypted ? 'https' : 'http' };
  };
  const targets = [
    '/', '/hello', '/a/b/c', "/x-y_z.~!$&'()*+,;=:@", '//double', '/a?b=1', '/a?', '/?x', '/a%2fb', '/caf%c3%a9', '/a b', '/a#f',
    '/ü', '/a\n', '*', '', 'http://h:1/p?q=1', 'HTTP://h', 'h/p', '/a/../b', '/%', '/%zz', '/a/%41',
  ];
  it.each(targets)('%j: the same info, field for field and in the same order', (t) => {
    for (const req of [{ method: 'GET', socket: {} }, { method: 'POST', socket: { encrypted: true } }, { socket: null }]) {
      const got = wsgiRequestInfo(req as unknown as IncomingMessage, t);
      const want = general(req, t);
      expect(got).toEqual(want);
      expect(Object.keys(got)).toEqual(Object.keys(want));
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    }
  });
  it('defaults to req.url', () => {
    expect(wsgiRequestInfo({ url: '/u?v', method: 'GET', socket: {} } as unknown as IncomingMessage)).toEqual({ path: '/u', query: 'v', method: 'GET', scheme: 'http' });
  });
});

describe('openRootPoint: openPoint under newProfiler, without the root profiler', () => {
  type Ev = [number, string, string, string, string, object | undefined];
  let saved: PointSink | undefined;
  let saveMax: number | undefined;
  const record = (): Ev[] => {
    const evs: Ev[] = [];
    saved ??= runtime.sink;
    saveMax = runtime.maxTracePoints;
    runtime.sink = { point: (...a) => void evs.push(a) };
    return evs;
  };
  afterEach(() => {
    if (saved !== undefined) runtime.sink = saved;
    runtime.maxTracePoints = saveMax;
  });
  const shape = (p: Point) => ({
    name: p.name, traceId: p.traceId, parentId: p.parentId, stopped: p.isStopped,
    profiler: { hmacKey: p.profiler.hmacKey, baseId: p.profiler.baseId, currentId: p.profiler.currentId, parentId: p.profiler.parentId, budget: { ...p.profiler.budget } },
  });

  it.each([
    ['base and parent', 'B', 'P'],
    ['base only', 'B', undefined],
    ['base, empty parent', 'B', ''],
  ])('%s: the same start event, point and profiler', (_, base, parent) => {
    const evs = record();
    const a = openRootPoint('wsgi', { request: { path: '/' } }, 'k', base, parent);
    const b = openPoint('wsgi', { request: { path: '/' } }, newProfiler('k', base, parent))!;
    expect(a).toBeInstanceOf(Point);
    expect(a.profiler).toBeInstanceOf(Profiler);
    expect(evs).toHaveLength(2);
    expect(evs[0][4]).toBe(parent || base);
    expect(evs[0].filter((_, i) => i !== 3)).toEqual(evs[1].filter((_, i) => i !== 3));
    expect(evs[0][3]).toBe(a.traceId);
    expect({ ...shape(a), traceId: '', profiler: { ...shape(a).profiler, currentId: '' } }).toEqual({ ...shape(b), traceId: '', profiler: { ...shape(b).profiler, currentId: '' } });
    expect(a.profiler.currentId).toBe(a.traceId);
    a.stop({ response: { status_code: 200 } });
    b.stop({ response: { status_code: 200 } });
    expect(evs[2].filter((_, i) => i !== 3)).toEqual(evs[3].filter((_, i) => i !== 3));
    expect(evs[2][3]).toBe(a.traceId);
  });

  it('a fresh trace: its base id drawn right before the point’s id, the point under it', () => {
    const evs = record();
    const a = openRootPoint('wsgi', undefined, 'k', undefined, undefined);
    const base = a.profiler.baseId;
    expect(isUuidBeforeLast(base)).toBe(true);
    expect(evs).toEqual([[0, 'wsgi', base, a.traceId, base, undefined]]);
    expect(a.parentId).toBe(base);
  });

  it('past the budget (maxTracePoints 0): nothing recorded, as under a root profiler', () => {
    const evs = record();
    runtime.maxTracePoints = 0;
    const a = openRootPoint('wsgi', {}, 'k', 'B', 'P');
    const b = openPoint('wsgi', {}, newProfiler('k', 'B', 'P'))!;
    expect(shape(a)).toEqual(shape(b));
    a.stop();
    b.stop();
    expect(evs).toEqual([]);
  });
});

describe('runCall: runIn around fn.call(self, a, b, c)', () => {
  it('passes this and the arguments, runs in the store, puts the old one back (also on a throw)', () => {
    const outer = newProfiler('k', 'O');
    const inner = newProfiler('k', 'I');
    const self = { tag: 'self' };
    runIn(outer, () => {
      const r = runCall(inner, function (this: typeof self, a: number, b: string, c: unknown) {
        return [this.tag, a, b, c, storage.getStore()];
      }, self, 1, 'two', undefined);
      expect(r).toEqual(['self', 1, 'two', undefined, inner]);
      expect(storage.getStore()).toBe(outer);
      expect(() => runCall(inner, () => {
        throw new Error('x');
      }, undefined, 0, 0, 0)).toThrow('x');
      expect(storage.getStore()).toBe(outer);
      expect(runCall(outer, () => storage.getStore(), undefined, 0, 0, 0)).toBe(outer);
    });
    expect(storage.getStore()).toBeUndefined();
  });
});
