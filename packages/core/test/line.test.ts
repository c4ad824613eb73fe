import { describe, expect, it } from 'vitest';
import { hasErrorType, infoFields, lineTail, notificationLine, type LineBatch } from '../src/line';
import { pyDumps } from '../src/pyjson';
import { toPrimitive } from '../src/primitive';
import { linesDriver } from './support/recording-driver';
import { frozenInfo } from '../src/instrument';

// What the object path stores: toPrimitive(info), host moved last, then pyDumps of the dict.
function objectPath(info: object | undefined, host: string, project: string | null, service: string | null): string {
  const prim = (info === undefined ? {} : toPrimitive(info)) as Record<string, unknown>;
  delete prim.host;
  prim.host = host;
  return pyDumps({
    name: 'db-start',
    base_id: 'b-1',
    trace_id: 't-1',
    parent_id: 'p-1',
    timestamp: '2026-11-23T06:30:00.000001',
    info: prim,
    project,
    service,
  });
}

function linePath(info: object | undefined, host: string, project: string | null, service: string | null): string {
  return notificationLine('db-start', 'b-1', 't-1', 'p-1', '2026-11-23T06:30:00.000001', info, lineTail(host, project, service));
}

// A small deterministic generator of the values trace info can hold.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 4 ? 12 : 17));
  const str = (): string => ['', 'a', 'é', '"q"', 'line\nbreak', '\u0000\u001f\u007f', '😀', 'tab\t', 'x'.repeat(20), '\ud800'][Math.floor(r() * 10)];
  switch (pick) {
    case 0: return str();
    case 1: return Math.floor(r() * 1000) - 500;
    case 2: return [NaN, Infinity, -Infinity, 0.1, -0, 1e21, 5e-7][Math.floor(r() * 7)];
    case 3: return r() < 0.5;
    case 4: return null;
    case 5: return undefined;
    case 6: return BigInt(Math.floor(r() * 1e6));
    case 7: return new Date(Math.floor(r() * 2e12));
    case 8: return new Date(NaN);
    case 9: return Buffer.from(str());
    case 10: return new TypeError(str());
    case 11: return function named() {};
    case 12: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    case 13: return new Set([randomValue(r, depth + 1), str()]);
    case 14: return new Map<unknown, unknown>([[str(), randomValue(r, depth + 1)], [2, randomValue(r, depth + 1)], ['1', 'one']]);
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[[str(), 'k', '10', '2', 'host', 'etype'][Math.floor(r() * 6)] + (r() < 0.3 ? i : '')] = randomValue(r, depth + 1);
      return o;
    }
  }
}

describe('raw line path (notificationLine) equals pyDumps of the object path', () => {
  it('for the info shapes the adapters record', () => {
    const cases: (object | undefined)[] = [
      undefined,
      {},
      { request: { path: '/a', query: 'x=1', method: 'GET', scheme: 'http' } },
      { db: { statement: 'SELECT 1', params: [] } },
      { function: { name: 'f', args: ['1'], kwargs: {} } },
      { host: 'spoofed', etype: 'ValueError', message: 'bad' },
      { host: undefined, a: undefined, b: 1 },
      { 'ü': 'ü', '\n': '\n' },
    ];
    for (const info of cases) {
      for (const [host, project, service] of [['h', null, null], ['hé"', 'p', 's\n']] as [string, string | null, string | null][]) {
        expect(linePath(info, host, project, service)).toBe(objectPath(info, host, project, service));
      }
    }
  });

  it('for 5,000 random nested values (dates, maps, buffers, errors, bigints, NaN, unicode)', () => {
    const r = rng(42);
    let checked = 0;
    for (let i = 0; i < 5000; i++) {
      const info: Record<string, unknown> = {};
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) info[`k${k}`] = randomValue(r, 0);
      expect(linePath(info, 'host', 'proj', null)).toBe(objectPath(info, 'host', 'proj', null));
      checked++;
    }
    expect(checked).toBe(5000);
  });

  it("an object's first key merged with its parent's key text once the pair repeats: every order and shape", () => {
    // line.ts mergedLead: a pair (the text before an object, its first key) makes one piece
    // the second time in a row; a key under parents in turn, chains of first keys, a first
    // value to escape, arrays of objects and empty objects must still read as pyDumps writes them.
    const shapes: (() => object)[] = [
      () => ({ function: { name: 'f1' } }),
      () => ({ db: { name: 'x', statement: 'SELECT 1' } }),
      () => ({ response: { status_code: 200 }, request: { route: '/r' } }),
      () => ({ request: { path: '/a', query: '', method: 'GET' } }),
      () => ({ a: { b: { c: { d: 'deep' } } }, e: { b: { c: 1 } } }),
      () => ({ a: { b: 'q"uote' }, n: { name: 'line\nbreak' } }),
      () => ({ list: [{ name: 'x' }, { name: 'y' }], o: {}, p: { name: {} } }),
      () => ({ x: 'v', function: { name: 'after a plain value' } }),
      () => ({ x: 1, function: { name: 'after a number' }, y: { name: 'z' } }),
      () => ({ function: { name: 'f', args: ['1'], kwargs: {} }, db: { statement: 'S', params: [{ name: 'p' }] } }),
    ];
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const info = shapes[i < 100 ? i % shapes.length : Math.floor(r() * shapes.length)]();
      expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
    }
  });

  it('cuts deep nesting and cycles exactly as toPrimitive does', () => {
    const deep: Record<string, unknown> = {};
    let cur = deep;
    for (let i = 0; i < 15; i++) cur = (cur.next = { i, list: [i, { d: new Date(0) }] }) as Record<string, unknown>;
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    cyc.list = [cyc, { back: cyc }];
    const shared = { s: 1 };
    const twice = { x: shared, y: shared, z: [shared, shared] };
    const withMap = { m: new Map<unknown, unknown>([['k', { nested: new Set([1, 2]) }]]) };
    class Thing {
      a = 1;
      b = 'two';
    }
    const inst = { thing: new Thing(), bare: Object.assign(Object.create(null) as object, { q: 1 }) };
    for (const info of [deep, cyc, twice, withMap, inst, new Thing(), Object.assign(Object.create(null) as object, { z: 2 })]) {
      expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
    }
    expect(linePath(cyc, 'h', null, null)).toContain('"<circular>"');
    expect(linePath(deep, 'h', null, null)).toContain('"?"');
  });

  it('escapes ids and names that need it (the optimistic build is checked)', () => {
    const tail = lineTail('h', null, null);
    const odd = notificationLine('a"b-start', 'é', 'line\nx', 'back\\slash', '2026-11-23T06:30:00.000001', { k: 'ok' }, tail);
    expect(odd).toBe(
      pyDumps({ name: 'a"b-start', base_id: 'é', trace_id: 'line\nx', parent_id: 'back\\slash', timestamp: '2026-11-23T06:30:00.000001', info: { k: 'ok', host: 'h' }, project: null, service: null }),
    );
    // A clean line after an escaped one is built the fast way again.
    expect(notificationLine('a-stop', 'b', 't', 'p', '2026-11-23T06:30:00.000001', undefined, tail)).toBe(
      '{"name": "a-stop", "base_id": "b", "trace_id": "t", "parent_id": "p", "timestamp": "2026-11-23T06:30:00.000001", "info": {"host": "h"}, "project": null, "service": null}',
    );
  });

  it('escapes ids longer than the loop checks (the RegExp path), wherever the character is', () => {
    const tail = lineTail('h', null, null);
    const id = '0b5d4f1e-4c1a-4f3e-9a57-9e4f3c2b1a00';
    for (const bad of ['"', '\\', '\n', '\u007f', 'é', '\ud800', '😀']) {
      for (const at of [0, 17, id.length]) {
        const odd = id.slice(0, at) + bad + id.slice(at);
        const line = notificationLine('x-start', odd, odd + 'T', odd + 'P', '2026-11-23T06:30:00.000001', { long: odd }, tail);
        expect(line).toBe(
          pyDumps({ name: 'x-start', base_id: odd, trace_id: odd + 'T', parent_id: odd + 'P', timestamp: '2026-11-23T06:30:00.000001', info: { long: odd, host: 'h' }, project: null, service: null }),
        );
      }
    }
  });

  it('writes own keys only, as the object path does, when Object.prototype has an enumerable key', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'yes';
    try {
      const info = { a: 1, nested: { b: 'two' } };
      expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
      expect(linePath(info, 'h', null, null)).not.toContain('polluted');
    } finally {
      delete proto.polluted;
    }
  });

  it("writes objects whose constructor reads Object but whose prototype is not Object.prototype as the object path does", () => {
    // line.ts isFieldObject: such objects are written field by field, not through toPrimitive.
    const base = { inherited: 'no', nested: { x: 1 } };
    const made = Object.assign(Object.create(base) as Record<string, unknown>, { own: 'yes', n: 2 });
    const ownCtor = { constructor: Object, k: 'v' };
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'b' });
    class Shape {
      side = 3;
    }
    const shape = new Shape();
    (shape as unknown as { constructor: unknown }).constructor = Object; // an own field naming Object
    for (const info of [made, ownCtor, nullProto, shape, { inner: made }, { inner: ownCtor }, { inner: nullProto }, { inner: shape }, { list: [made, ownCtor] }]) {
      for (let round = 0; round < 2; round++) expect(linePath(info, 'h', 'p', 's')).toBe(objectPath(info, 'h', 'p', 's'));
    }
  });

  it('writes each key of keys that share a key-text slot (same length and middle character), alternating', () => {
    // 'aaxaa' and 'bbxbb' take one slot; '', 'q' and '\u00e9' (escaped) are the short edge cases.
    const keysInTurn = ['aaxaa', 'bbxbb', 'aaxaa', '', 'bbxbb', 'q', '\u00e9', 'aaxaa'];
    for (let round = 0; round < 3; round++) {
      for (const k of keysInTurn) {
        const info = { [k]: 'v', nested: { [k]: 1, other: { [k === 'aaxaa' ? 'bbxbb' : 'aaxaa']: null } } };
        expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
      }
      const both = { aaxaa: 1, bbxbb: 'two', nested: { bbxbb: [3], aaxaa: { aaxaa: 'x' } } };
      expect(linePath(both, 'h', 'p', 's')).toBe(objectPath(both, 'h', 'p', 's'));
    }
  });

  it('escapes short string values that share a plain value\'s slot (same length and last character), alternating', () => {
    // 'aab' is plain; 'x"b', 'x\\b', '\u00e9ab' and 'a\nb' share its slot; the same text made anew compares equal.
    const values = ['aab', 'x"b', 'aab', 'x\\b', ['a', 'ab'].join(''), '\u00e9ab', 'aab', 'a\nb', '', 'q'.repeat(16), 'q'.repeat(15) + '"'];
    for (let round = 0; round < 3; round++) {
      for (const v of values) {
        const info = { v, nested: { v, list: [v] } };
        expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
      }
    }
  });

  it('infoFields closes a plain string value that ends the info or an object in it', () => {
    const info = { a: 'x', b: { c: 'y' }, d: 'z', host: 'dropped' };
    expect(infoFields(info)).toBe('"a": "x", "b": {"c": "y"}, "d": "z", ');
    expect(infoFields(Object.freeze({ e: 'q"', f: Object.freeze({ g: 'w' }) }))).toBe('"e": "q\\"", "f": {"g": "w"}, ');
    const frozen = Object.freeze({ s: 'end' });
    for (let round = 0; round < 2; round++) expect(linePath(frozen, 'h', 'p', 's')).toBe(objectPath(frozen, 'h', 'p', 's'));
  });

  it("leaves an info's last object's closing brace to the line's tail, whatever follows or is skipped", () => {
    const shapes: Record<string, unknown>[] = [
      { a: { b: 'x' } },
      { a: { b: 1 } },
      { a: {} },
      { a: { b: { c: 'x' } } },
      { a: { b: 'x' }, c: 1 },
      { a: { b: 'x' }, c: 'y' },
      { a: { b: 1 }, d: { e: 'q"' } },
      { a: [{ b: 'x' }] },
      { a: new Date(0) },
      { a: { b: 'x' }, host: 'skipped' },
      { a: { b: 'x' }, u: undefined },
      { s: 'x', a: { b: 'x', c: { d: 2 } } },
    ];
    for (const info of shapes) {
      for (const shape of [info, deepFreeze(structuredClone(info))]) {
        for (let round = 0; round < 2; round++) expect(linePath(shape, 'h', 'p', 's')).toBe(objectPath(shape, 'h', 'p', 's'));
      }
    }
    expect(infoFields({ a: { b: 'x' } })).toBe('"a": {"b": "x"}, ');
    expect(infoFields({ a: { b: 1 }, host: 'h' })).toBe('"a": {"b": 1}, ');
    expect(infoFields(Object.freeze({ a: Object.freeze({ b: 'x' }) }))).toBe('"a": {"b": "x"}, ');
  });

  it('refuses info that is not an object once made primitive, as the object path does', () => {
    expect(() => infoFields([1, 2])).toThrow(TypeError);
    expect(() => infoFields(new Date(0))).toThrow(TypeError);
  });

  it('flags error points as Python does (etype not None)', () => {
    expect(hasErrorType({ etype: 'E' })).toBe(true);
    expect(hasErrorType({ etype: '' })).toBe(true);
    expect(hasErrorType({ etype: null })).toBe(false);
    expect(hasErrorType({})).toBe(false);
    expect(hasErrorType(undefined)).toBe(false);
    expect(hasErrorType(null)).toBe(false);
  });
});

/** Freezes `v` and every plain object, array, Date, Map and Set in it (a Buffer cannot be frozen). */
function deepFreeze<T>(v: T, seen = new Set<unknown>()): T {
  if (v === null || typeof v !== 'object' || seen.has(v) || Buffer.isBuffer(v)) return v;
  seen.add(v);
  if (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) deepFreeze(x, seen);
  return Object.freeze(v);
}

describe('frozen info: its text is made once (knex and typeorm pass one per query shape)', () => {
  it('writes the same lines for 5,000 random infos frozen, frozen at the top only, and not frozen', () => {
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const info: Record<string, unknown> = {};
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) info[r() < 0.2 ? 'host' : `k${k}`] = randomValue(r, 0);
      const expected = objectPath(info, 'h', 'p', 's');
      expect(linePath(info, 'h', 'p', 's')).toBe(expected);
      const frozen = i % 3 === 0 ? Object.freeze(info) : deepFreeze(info);
      // The first line fills the cache, the second (and one after another info) reads it.
      expect(linePath(frozen, 'h', 'p', 's')).toBe(expected);
      expect(linePath(frozen, 'h', 'p', 's')).toBe(expected);
      linePath({ other: i }, 'h', 'p', 's');
      expect(linePath(frozen, 'h', 'p', 's')).toBe(expected);
    }
  });

  it('the shapes the adapters freeze, deep nesting and cycles frozen: the same text as the object path', () => {
    const knex = deepFreeze({ function: { name: 'knex.first' }, db: { system: 'sqlite', client: 'better-sqlite3', operation: 'select', table: 'items' } });
    const deep: Record<string, unknown> = {};
    let cur = deep;
    for (let i = 0; i < 15; i++) cur = (cur.next = { i, list: [i, { s: 'é' }] }) as Record<string, unknown>;
    const cyc: Record<string, unknown> = { a: 1, host: 'spoofed', u: undefined };
    cyc.self = cyc;
    cyc.list = [cyc, { back: cyc }];
    for (const info of [knex, deepFreeze(deep), deepFreeze(cyc), Object.freeze({}), Object.freeze({ etype: 'E', message: 'm' })]) {
      for (let round = 0; round < 2; round++) expect(linePath(info, 'h', null, null)).toBe(objectPath(info, 'h', null, null));
    }
    // Refused as before (primitives pass Object.isFrozen), with the object path's message.
    for (const bad of [Object.freeze([1, 2]), 'text', 5, null, Object.freeze(() => 1)]) {
      for (let round = 0; round < 2; round++) expect(() => infoFields(bad as object)).toThrow(/trace info must be an object|Cannot convert/);
    }
  });

  it('never keeps the text of an info that can still change', () => {
    const nested = { rows: 1 };
    const list = [1];
    const date = new Date(0);
    const fn = function f(): void {};
    let calls = 0;
    const getter = Object.defineProperty({}, 'n', { enumerable: true, get: () => ++calls });
    const map = new Map([['k', 1]]);
    class Box {
      v = 1;
    }
    const f = Object.freeze;
    // [info, a change after its first line (undefined: none possible, still not cached)]
    const cases: [object, (() => void) | undefined][] = [
      [f({ db: nested }), () => (nested.rows = 2)],
      [f({ a: f({ b: f({ list }) }) }), () => list.push(2)],
      [f({ at: f(date) }), () => date.setTime(1000)],
      [f({ f: fn }), () => (fn.toString = () => 'changed')],
      [f({ m: f(map) }), () => map.set('k', 2)],
      // A class instance is written through toPrimitive, like a Buffer: never cached.
      [f({ box: f(new Box()) }), undefined],
      [f(new Box()), undefined],
      [f({ b: Buffer.from('one') }), undefined],
    ];
    for (const [info, change] of cases) {
      const before = linePath(info, 'h', null, null);
      expect(before).toBe(objectPath(info, 'h', null, null));
      change?.();
      const after = linePath(info, 'h', null, null);
      if (change !== undefined) expect(after).not.toBe(before);
      expect(after).toBe(objectPath(info, 'h', null, null));
    }
    // A getter may answer differently each time it is read (this one counts its reads).
    const g = f(getter);
    expect(linePath(g, 'h', null, null)).toContain('"n": 1,');
    expect(linePath(g, 'h', null, null)).toContain('"n": 2,');
  });

  it('reads a cached info not at all: a frozen Proxy that counts its reads', () => {
    let reads = 0;
    const info = new Proxy(deepFreeze({ db: { operation: 'select' }, n: 1 }), {
      get(t, k, r) {
        reads++;
        return Reflect.get(t, k, r) as unknown;
      },
    });
    const expected = objectPath(info, 'h', null, null);
    expect(linePath(info, 'h', null, null)).toBe(expected);
    linePath({ other: 1 }, 'h', null, null); // not the last one: found in the WeakMap
    reads = 0;
    expect(linePath(info, 'h', null, null)).toBe(expected);
    expect(linePath(info, 'h', null, null)).toBe(expected);
    expect(reads).toBe(0);
    // The same object unfrozen is read on every line.
    const open = new Proxy({ db: { operation: 'select' }, n: 1 }, {
      get(t, k, r) {
        reads++;
        return Reflect.get(t, k, r) as unknown;
      },
    });
    linePath(open, 'h', null, null);
    expect(reads).toBeGreaterThan(0);
  });

  it("frozenInfo (the adapters' helper) freezes plain data all the way down, and such an info is read once", () => {
    const at = new Date(0);
    class Box {
      v = 1;
    }
    const box = new Box();
    const shape = { function: { name: 'knex.select' }, db: { system: 'sqlite', tables: ['a', { alias: 'b' }], at, box } };
    expect(frozenInfo(shape)).toBe(shape);
    for (const o of [shape, shape.function, shape.db, shape.db.tables, shape.db.tables[1]]) expect(Object.isFrozen(o)).toBe(true);
    // Not plain data: left as it is (so this info is formatted every time, never cached wrong).
    expect(Object.isFrozen(at)).toBe(false);
    expect(Object.isFrozen(box)).toBe(false);
    expect(linePath(shape, 'h', null, null)).toBe(objectPath(shape, 'h', null, null));
    let reads = 0;
    const info = new Proxy(frozenInfo({ function: { name: 'UserRepository.find' }, db: { operation: 'select', params: [1, 'x'] } }), {
      get(t, k, r) {
        reads++;
        return Reflect.get(t, k, r) as unknown;
      },
    });
    const expected = objectPath(info, 'h', null, null);
    expect(linePath(info, 'h', null, null)).toBe(expected);
    linePath({ other: 1 }, 'h', null, null);
    reads = 0;
    expect(linePath(info, 'h', null, null)).toBe(expected);
    expect(reads).toBe(0);
  });

  it('a Proxy whose traps throw is formatted as before (not cached, and not a new failure)', () => {
    const info = new Proxy(
      { a: 1 },
      {
        isExtensible: () => {
          throw new Error('no');
        },
      },
    );
    expect(linePath(info, 'h', null, null)).toBe(objectPath({ a: 1 }, 'h', null, null));
  });
});

describe('the notifier on the raw path', () => {
  it('hands a driver with notifyLines the batch as lines; a point with bad info is lost alone', async () => {
    const { configure, flush, run, start, stop, notifierStats, shutdown } = await import('../src/index.js');
    const got: LineBatch[] = [];
    const driver = linesDriver((b) => void got.push(b));
    configure({ driver, host: 'h', service: 's', flushIntervalMs: 10_000 });
    const lostBefore = notifierStats()?.lost ?? 0;
    run({ hmacKey: 'k' }, () => {
      start('a', { n: 1 });
      stop({ etype: 'E' });
      start('bad', [1, 2] as unknown as object); // info that is not an object: refused
      stop();
      start('é"q', { s: 'ü' });
      stop();
    });
    await flush(5_000);
    expect(got).toHaveLength(1);
    const b = got[0];
    expect(b.lines).toHaveLength(5);
    expect(b.baseIds).toHaveLength(5);
    expect(b.timestamps.every((t) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/.test(t))).toBe(true);
    expect(b.timestamps).toEqual(b.lines.map((l) => (JSON.parse(l) as { timestamp: string }).timestamp)); // made apart from the lines, when read
    expect([...(b.errors ?? [])]).toEqual([0, 1, 0, 0, 0]);
    expect(b.lines.map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['a-start', 'a-stop', 'bad-stop', 'é"q-start', 'é"q-stop']);
    // the index, read from the points after the lost one, stays aligned with the lines
    expect(b.index!.names).toEqual(['a', 'a', 'bad', 'é"q', 'é"q']);
    expect([...b.index!.phases]).toEqual([0, 1, 1, 0, 1]);
    for (const l of b.lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    expect((notifierStats()?.lost ?? 0) - lostBefore).toBe(1);
    await shutdown(1_000);
  });
});

describe('the notifier on the raw path: runs of names and base ids', () => {
  it("writes the object path's text when names, phases and base ids change or repeat from line to line", async () => {
    const { configure, flush, run, start, stop, traced, shutdown } = await import('../src/index.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', project: 'p', service: 's', flushIntervalMs: 10_000 });
    const bases = ['11111111-2222-4333-8444-555555555555', 'b"2', 'b-é'];
    const names = ['fn', 'wsgi', 'n"q'];
    const infos: (object | undefined)[] = [undefined, { function: { name: 'f' } }, { a: 'x', b: { c: 'y"', d: {} } }, { s: '\n', t: '' }];
    const r = rng(7);
    const expected: [string, string, unknown][] = []; // base_id, name, info of each point, in order
    const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
    for (let t = 0; t < 40; t++) {
      const base = pick(bases);
      run({ hmacKey: 'k', baseId: base }, () => {
        const nest = (k: number): void => {
          if (k === 0) return;
          const [name, info] = [pick(names), pick(infos)];
          expected.push([base, `${name}-start`, info ?? {}]);
          traced(name, info, () => nest(k - 1));
          expected.push([base, `${name}-stop`, {}]);
        };
        const [name, info, stopInfo] = [pick(names), pick(infos), pick(infos)];
        expected.push([base, `${name}-start`, info ?? {}]);
        start(name, info);
        if (r() < 0.5) {
          // Another trace's point of the same name in between (concurrent requests): same
          // name head, another base id, on both phases.
          const other = pick(bases.filter((b) => b !== base));
          run({ hmacKey: 'k', baseId: other }, () => {
            start(name);
            stop();
          });
          expected.push([other, `${name}-start`, {}], [other, `${name}-stop`, {}]);
        }
        nest(Math.floor(r() * 4));
        expected.push([base, `${name}-stop`, stopInfo ?? {}]);
        stop(stopInfo);
      });
    }
    await flush(5_000);
    const lines = got.flatMap((b) => [...b.lines]);
    expect(lines.length).toBeGreaterThan(80);
    // Each line is pyDumps of the dict it parses to (the object path's text), key order included.
    for (const l of lines) expect(pyDumps(JSON.parse(l) as Record<string, unknown>)).toBe(l);
    const parsed = lines.map((l) => JSON.parse(l) as { base_id: string; name: string; info: Record<string, unknown> });
    expect(parsed.map((e) => [e.base_id, e.name, { ...e.info, host: undefined }])).toEqual(expected.map(([b, n, i]) => [b, n, { ...(i as object), host: undefined }]));
    expect(new Set(parsed.map((e) => e.base_id))).toEqual(new Set(bases));
    // The index the notifier hands over (made from its points, not its lines) is the one parsing the lines gives.
    const { indexOfLines } = await import('../src/search.js');
    for (const b of got) expect(b.index).toEqual(indexOfLines(b));
    await shutdown(1_000);
  });
});

describe('start ids: the uuid4 just drawn skips the escaping check, any other id is checked', () => {
  it('writes a sink caller\'s own start id (another copy of core, quotes, non-ASCII) escaped, and fresh ids as they are', async () => {
    const { configure, flush, run, start, stop, shutdown } = await import('../src/index.js');
    const { runtime } = await import('../src/runtime.js');
    const { uuid4 } = await import('../src/uuid.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000 });
    const odd = ['t"1\\é', 'plain-but-not-drawn', 'ü'.repeat(40) + '"'];
    let fresh = '';
    run({ hmacKey: 'k' }, () => {
      start('a');
      for (const id of odd) {
        uuid4(); // the last uuid4 is not this start's id
        runtime.sink.point(0, 'own', 'b"ase', id, 'p\u0001', undefined);
        runtime.sink.point(1, 'own', 'b"ase', id, 'p\u0001', undefined);
      }
      fresh = uuid4();
      runtime.sink.point(0, 'drawn', 'b"ase', fresh, fresh, undefined); // as Profiler.start passes it
      stop();
    });
    await flush(5_000);
    const lines = got.flatMap((b) => [...b.lines]);
    expect(lines).toHaveLength(2 + 2 * odd.length + 1);
    for (const l of lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    const events = lines.map((l) => JSON.parse(l) as { name: string; base_id: string; trace_id: string; parent_id: string });
    expect(events.slice(1, 1 + 2 * odd.length).map((e) => e.trace_id)).toEqual(odd.flatMap((id) => [id, id]));
    for (const e of events.slice(1, 1 + 2 * odd.length)) expect([e.base_id, e.parent_id]).toEqual(['b"ase', 'p\u0001']);
    const drawn = events.find((e) => e.name === 'drawn-start');
    expect(drawn?.trace_id).toBe(fresh);
    expect(lines.find((l) => l.startsWith('{"name": "drawn-start"'))).toContain(`"trace_id": "${fresh}", "parent_id": "${fresh}"`);
    await shutdown(1_000);
  });

  it("writes a root's fresh base id as it is, and a base id drawn before the start's id but not by uuid4 escaped", async () => {
    const { configure, flush, run, start, stop, shutdown } = await import('../src/index.js');
    const { runtime } = await import('../src/runtime.js');
    const { uuid4 } = await import('../src/uuid.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000 });
    let base = '';
    run({ hmacKey: 'k' }, () => {
      start('root'); // a root profiler's base (newProfiler) and this start's id: the two last uuid4s
      stop();
    });
    // A sink caller whose base is not the uuid4 drawn before its start's id (notifier.ts FRESH_ROOT).
    uuid4();
    const id = uuid4();
    runtime.sink.point(0, 'odd', 'b"ase\u00e9', id, 'b"ase\u00e9', undefined);
    runtime.sink.point(1, 'odd', 'b"ase\u00e9', id, 'b"ase\u00e9', undefined);
    // A fresh base and start id, then a sink caller's start with a quoted base whose id is fresh too.
    base = uuid4();
    const first = uuid4();
    runtime.sink.point(0, 'pair', base, first, base, undefined);
    runtime.sink.point(1, 'pair', base, first, base, undefined);
    await flush(5_000);
    const lines = got.flatMap((b) => [...b.lines]);
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    const events = lines.map((l) => JSON.parse(l) as { name: string; base_id: string; trace_id: string });
    expect(events[0].base_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(events.filter((e) => e.name.startsWith('odd')).map((e) => e.base_id)).toEqual(['b"ase\u00e9', 'b"ase\u00e9']);
    expect(lines.filter((l) => l.startsWith('{"name": "pair')).every((l) => l.includes(`"base_id": "${base}", "trace_id": "${first}"`))).toBe(true);
    await shutdown(1_000);
  });
});

describe('a trace continued from a signed header: its base id written as it came', () => {
  it('writes a canonical header\'s ids as they are, and a base id that needs escaping escaped, on every line', async () => {
    const { configure, flush, run, traced, shutdown, signedPack, extract } = await import('../src/index.js');
    const { pyString } = await import('../src/pyjson.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000, hmacKeys: ['k'] });
    const cases: Array<[string, string]> = [
      ['1b4e28ba-2fa1-11d2-883f-0016d3cca427', '6fa459ea-ee8a-3ca4-894e-db77e160355e'], // canonical, a slice of the decoded text
      ['1b4e28ba-2fa1-11d2-883f-0016d3cca427', ''], // canonical, no parent: the base
      ['short-base', 'short-par'], // canonical, shorter than V8's slices
      ['a base with spaces and symbols !#$%&()*+,-./:;<=>?@[]^_`{|}~', 'p'], // canonical: every plain character
      ['b"ase\\with\u00e9 and a long enough tail \u0001', 'p"\u2603'], // the general path: escaped
      ['\u00fc'.repeat(20), '\u00fc'.repeat(20)],
    ];
    for (const [base, parent] of cases) {
      const { info, hmac } = signedPack({ base_id: base, parent_id: parent }, 'k');
      const options = extract({ 'x-trace-info': info, 'x-trace-hmac': hmac }, ['k']);
      expect(options).toEqual({ hmacKey: 'k', baseId: base, parentId: parent === '' ? base : parent });
      run(options!, () => traced('wsgi', () => traced('fn', () => traced('fn', () => 1))));
    }
    await flush(5_000);
    const lines = got.flatMap((b) => [...b.lines]);
    expect(lines).toHaveLength(6 * cases.length);
    for (const l of lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    cases.forEach(([base, parent], c) => {
      const mine = lines.slice(6 * c, 6 * c + 6);
      const events = mine.map((l) => JSON.parse(l) as { name: string; base_id: string; trace_id: string; parent_id: string });
      expect(events.map((e) => e.name)).toEqual(['wsgi-start', 'fn-start', 'fn-start', 'fn-stop', 'fn-stop', 'wsgi-stop']);
      for (const l of mine) expect(l).toContain(`"base_id": ${pyString(base)}, "trace_id": "`);
      for (const e of events) expect(e.base_id).toBe(base);
      expect(events[0].parent_id).toBe(parent === '' ? base : parent);
      expect(events[5].parent_id).toBe(parent === '' ? base : parent);
      expect(mine[0]).toContain(`"parent_id": ${pyString(parent === '' ? base : parent)}`);
      expect(events[1].parent_id).toBe(events[0].trace_id);
      expect(events[2].parent_id).toBe(events[1].trace_id);
    });
    await shutdown(1_000);
  });
  it('escapes a base id that shares a noted plain base id\'s table slot, or differs from it in one character', async () => {
    const { configure, flush, run, start, stop, shutdown, signedPack, extract } = await import('../src/index.js');
    const { notePlainId, isNotedPlain } = await import('../src/plain-ids.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000, hmacKeys: ['k'] });
    const plain = 'ab000000-0000-4000-8000-000000000000';
    const { info, hmac } = signedPack({ base_id: plain, parent_id: plain }, 'k');
    const options = extract({ 'x-trace-info': info, 'x-trace-hmac': hmac }, ['k'])!;
    expect(isNotedPlain(plain)).toBe(true);
    const odd = ['ab000000-0000-4000-8000-00000000000"', 'ab"00000-0000-4000-8000-000000000000', 'ab\u00e90000-0000-4000-8000-00000000000'];
    for (const base of odd) expect(isNotedPlain(base)).toBe(false);
    run(options, () => {
      start('plain');
      stop();
    });
    for (const base of odd) {
      notePlainId(plain); // the slot still holds the plain id
      run({ hmacKey: 'k', baseId: base, parentId: base }, () => {
        start('odd');
        stop();
      });
    }
    await flush(5_000);
    const lines = got.flatMap((b) => [...b.lines]);
    expect(lines).toHaveLength(2 + 2 * odd.length);
    for (const l of lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    expect(lines.map((l) => (JSON.parse(l) as { base_id: string }).base_id)).toEqual([plain, plain, ...odd.flatMap((b) => [b, b])]);
    await shutdown(1_000);
  });
});

describe('the notifier under load', () => {
  it('sends a batch as soon as it holds 256 points, without waiting for the timer', async () => {
    const { configure, run, start, stop, shutdown } = await import('../src/index.js');
    const got: number[] = [];
    const driver = linesDriver((b) => void got.push(b.baseIds.length));
    configure({ driver, host: 'h', flushIntervalMs: 60_000 });
    run({ hmacKey: 'k' }, () => {
      for (let i = 0; i < 100; i++) {
        start('few');
        stop();
      }
    });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([]); // 200 points: they wait for the timer
    run({ hmacKey: 'k' }, () => {
      for (let i = 0; i < 100; i++) {
        start('more');
        stop();
      }
    });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([400]);
    await shutdown(1_000);
  });
});

describe("a stop line reuses its start's ids text only when trace id, parent id and second are its own", () => {
  it('writes every stop with its own ids: crossed, other parents, escaped ids, deep, another second', async () => {
    const { configure, flush, shutdown } = await import('../src/index.js');
    const { runtime } = await import('../src/runtime.js');
    const { uuid4 } = await import('../src/uuid.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000 });
    const sink = runtime.sink;
    const expected: [string, string, string][] = []; // name, trace_id, parent_id
    const point = (phase: 0 | 1, name: string, trace: string, parent: string): void => {
      sink.point(phase, name, 'b-1', trace, parent, phase === 0 ? { k: name } : undefined);
      expected.push([`${name}-${phase === 0 ? 'start' : 'stop'}`, trace, parent]);
    };
    // Ids of one slot (the same first two hex digits), opened and closed crossed.
    const a = 'aa000000-0000-4000-8000-000000000001';
    const b = 'aa000000-0000-4000-8000-000000000002';
    point(0, 'a', a, 'b-1');
    point(0, 'b', b, a);
    point(1, 'a', a, 'b-1');
    point(1, 'b', b, a);
    // The same trace id stopped under another parent, then with a parent equal in text only.
    point(0, 'c', 'c-1', 'p-1');
    point(1, 'c', 'c-1', 'p-2');
    point(0, 'd', 'd-1', 'p-1');
    point(1, 'd', 'd-1', ['p', '1'].join('-'));
    // Ids that need escaping, stopped twice (the second stop finds the first's text).
    point(0, 'e', 'e"1\u00e9', 'p"\u0001');
    point(1, 'e', 'e"1\u00e9', 'p"\u0001');
    point(1, 'e', 'e"1\u00e9', 'p"\u0001');
    // Fresh ids (the uuid4 just drawn: the start's ids text is kept), stopped in reverse
    // order, crossed, under another parent, past the kept texts' depth (16), twice.
    const fresh = (): string => uuid4();
    const g = Array.from({ length: 20 }, fresh);
    g.forEach((id, i) => point(0, `g${i}`, id, i === 0 ? 'b-1' : g[i - 1]));
    for (let i = g.length - 1; i >= 0; i--) point(1, `g${i}`, g[i], i === 0 ? 'b-1' : g[i - 1]);
    const h1 = fresh();
    point(0, 'h1', h1, 'b-1');
    const h2 = fresh();
    point(0, 'h2', h2, 'b-1');
    point(1, 'h1', h1, 'b-1');
    point(1, 'h2', h2, 'b-1');
    point(1, 'h2', h2, 'b-1');
    const i1 = fresh();
    point(0, 'i', i1, 'p-1');
    point(1, 'i', i1, 'p-2');
    const j1 = fresh();
    point(0, 'j', j1, 'p-1');
    point(1, 'j', j1, ['p', '1'].join('-'));
    // A stop in another second than its start, with a sink caller's id and a fresh one.
    point(0, 'f', 'f-1', 'p-1');
    const k1 = fresh();
    point(0, 'k', k1, 'p-1');
    await new Promise((r) => setTimeout(r, 1_050));
    point(1, 'k', k1, 'p-1');
    point(1, 'f', 'f-1', 'p-1');
    await flush(5_000);
    const batches = got.filter((g) => g.lines.length > 0);
    const lines = batches.flatMap((g) => [...g.lines]);
    const timestamps = batches.flatMap((g) => [...g.timestamps]);
    expect(lines).toHaveLength(expected.length);
    for (const l of lines) expect(l).toMatch(/^[\x20-\x7e]+$/);
    for (const l of lines) expect(pyDumps(JSON.parse(l) as Record<string, unknown>)).toBe(l);
    const events = lines.map((l) => JSON.parse(l) as { name: string; trace_id: string; parent_id: string; timestamp: string });
    expect(events.map((e) => [e.name, e.trace_id, e.parent_id])).toEqual(expected);
    expect(events.map((e) => e.timestamp)).toEqual(timestamps);
    for (const n of ['f', 'k']) {
      const f = events.filter((e) => e.name.startsWith(`${n}-`));
      expect(f[0].timestamp.slice(0, 19)).not.toBe(f[1].timestamp.slice(0, 19));
    }
    await shutdown(1_000);
  });
});

describe("a line's timestamp: its second and millisecond kept as one piece while they repeat", () => {
  it('timestampSecond + timestampMilli + timestampSub is formatTimestamp, at every edge', async () => {
    const { formatTimestamp, timestampMilli, timestampSecond, timestampSub } = await import('../src/clock.js');
    const at = Date.UTC(2026, 11, 31, 23, 59, 59);
    const ms = [at, at + 0.000999, at + 0.001, at + 0.999, at + 0.9995, at + 1, at + 999.999, at + 999.9999, at + 1000, at + 1000.0005, 0, 86_400_000 * 366 + 0.5];
    const r = rng(7);
    for (let i = 0; i < 2_000; i++) ms.push(at + r() * 3_000);
    for (const t of ms) {
      const sub = timestampSub(t);
      expect(timestampSecond() + timestampMilli() + sub).toBe(formatTimestamp(t));
    }
  });

  it('writes each line with its own timestamp across milliseconds and seconds, notificationLine in between', async () => {
    const { configure, flush, shutdown } = await import('../src/index.js');
    const { runtime } = await import('../src/runtime.js');
    const { nowMs } = await import('../src/clock.js');
    const got: LineBatch[] = [];
    configure({ driver: linesDriver((b) => void got.push(b)), host: 'h', flushIntervalMs: 10_000 });
    const sink = runtime.sink;
    const tail = lineTail('h', null, null);
    let n = 0;
    // Points over a few milliseconds, a few to a millisecond.
    const burst = (ms: number): void => {
      const end = nowMs() + ms;
      while (nowMs() < end) {
        for (let k = 0; k < 3; k++) sink.point((n++ & 1) as 0 | 1, 'p', 'b-1', `t-${n}`, 'b-1', { k });
        const t = nowMs();
        while (nowMs() - t < 0.3);
      }
    };
    burst(10);
    await flush(5_000);
    // A line of the raw path whose timestamp is the last batch's second text (the cache's key)
    // and one a whole timestamp: the next batch, in the same millisecond, writes its own.
    const lastLine = got[got.length - 1].lines.at(-1) as string;
    const second = (JSON.parse(lastLine) as { timestamp: string }).timestamp.slice(0, 20);
    for (const ts of [second, `${second}123456`]) {
      const line = notificationLine('x-start', 'b-1', 't-1', 'p-1', ts, { a: 1 }, tail);
      expect((JSON.parse(line) as { timestamp: string }).timestamp).toBe(ts);
      burst(1);
      await flush(5_000);
    }
    // Across a second: bursts from just before a second's end until the clock has passed it
    // (a timer can fire late on a loaded machine, so the wait alone cannot promise both sides),
    // then some more. Bounded: at most 200 bursts of 8 ms.
    await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() % 1_000) - 3)));
    const first = Math.floor(Date.now() / 1_000);
    for (let i = 0; i < 200 && Math.floor(Date.now() / 1_000) === first; i++) burst(8);
    burst(8);
    await flush(5_000);
    const batches = got.filter((g) => g.lines.length > 0);
    const lines = batches.flatMap((g) => [...g.lines]);
    const timestamps = batches.flatMap((g) => [...g.timestamps]);
    expect(lines).toHaveLength(n);
    for (const l of lines) expect(pyDumps(JSON.parse(l) as Record<string, unknown>)).toBe(l);
    const stamps = lines.map((l) => (JSON.parse(l) as { timestamp: string }).timestamp);
    expect(stamps).toEqual(timestamps);
    expect(new Set(stamps.map((s) => s.slice(0, 23))).size).toBeGreaterThan(3); // milliseconds (a loaded machine may skip some)
    expect(new Set(stamps.map((s) => s.slice(0, 19))).size).toBeGreaterThan(1);
    await shutdown(1_000);
  });
});
