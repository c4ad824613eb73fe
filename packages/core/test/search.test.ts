import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../src/drivers/memory';
import { BatchNotifier } from '../src/notifier';
import type { Driver } from '../src/driver';
import type { LineBatch } from '../src/line';
import { timeKey } from '../src/timestamp';
import { KEYED_STAMPS } from '../../../tools/testing/time-stamps';
import { MAX_TEXT, deltasOfBatch, mergeDelta, recordToJson, deltasOfNotifications, indexOfEvents, indexOfLines, recordOfEvents, type RootCandidate, type TraceDelta } from '../src/search';
import type { Notification } from '../src/notification';
import { parseStoredEvent } from '../src/drivers/stored-event';
import type { LineIndex } from '../src/line';
import { linesOfNotifications } from '../src/line';
import { searchContract, searchFixture } from '../../../tools/testing/search-contract';
import { linesDriver } from './support/recording-driver';

describe('memory:// search contract', () => {
  const d = new MemoryDriver();
  searchContract({ driver: () => d as unknown as Driver, write: async (batches) => batches.forEach((b) => d.notify(b)) });
});

describe('search index data', () => {
  it('the notifier hands the index beside the lines, equal to what parsing the lines gives', async () => {
    const got: LineBatch[] = [];
    const sink = linesDriver((b) => void got.push(b));
    const n = new BatchNotifier(sink, { project: 'p', service: 's', host: 'h', flushIntervalMs: 1, maxBufferPoints: 100 });
    n.point(0, 'wsgi', 'B', 'T1', 'B', { request: { method: 'GET', path: '/x/1', query: '', scheme: 'http' } });
    n.point(0, 'sql', 'B', 'T2', 'T1', { db: { statement: 'SELECT 1' } });
    n.point(1, 'sql', 'B', 'T2', 'T1', undefined);
    n.point(1, 'wsgi', 'B', 'T1', 'B', { request: { route: '/x/:id' }, etype: 'E', message: 'boom' });
    await n.flush();
    expect(got).toHaveLength(1);
    const b = got[0];
    expect(b.index).toBeDefined();
    const parsed = indexOfLines(b);
    expect({ ...b.index, phases: [...b.index!.phases] }).toEqual({ ...parsed, phases: [...parsed.phases] });
    const delta = deltasOfBatch(b).get('B')!;
    expect(delta).toMatchObject({ points: 2, error: true, services: ['s'], projects: ['p'], hosts: ['h'], route: '/x/:id' });
    expect(delta.root).toMatchObject({ name: 'wsgi', top: true, detail: 'GET /x/1' });
  });

  it('linesOfNotifications fills the same index as parsing', () => {
    const fx = searchFixture();
    const b = linesOfNotifications(fx.batches[0]);
    const parsed = indexOfLines(b);
    expect({ ...b.index, phases: [...b.index!.phases] }).toEqual({ ...parsed, phases: [...parsed.phases] });
  });
});

/** A LineIndex with its phases as a plain array (toEqual compares them with the other fields). */
const plainIndex = (ix: LineIndex | undefined): unknown => (ix === undefined ? undefined : { ...ix, phases: [...ix.phases] });

/**
 * The same points through the three paths that make index entries: notification objects
 * (linesOfNotifications, deltasOfNotifications), their formatted lines read back
 * (indexOfLines: by layout, or parsed whole when off it) and those lines parsed
 * (indexOfEvents). All must index a point as its line says.
 */
function expectOneIndex(points: readonly Notification[], label: string): LineBatch {
  const b = linesOfNotifications(points);
  expect(b.lines, label).toHaveLength(points.length);
  const fromLines = indexOfLines(b);
  const fromEvents = indexOfEvents(b.lines.map((l) => parseStoredEvent(l)));
  expect(plainIndex(b.index), `${label}: notifications vs lines`).toEqual(plainIndex(fromLines));
  expect(plainIndex(b.index), `${label}: notifications vs events`).toEqual(plainIndex(fromEvents));
  // The error index: Python's `data.get("info", {}).get("etype") is not None`, of the line.
  const errors = b.lines.map((l) => {
    const info = parseStoredEvent(l)?.info as Record<string, unknown> | null | undefined;
    return info !== null && typeof info === 'object' && info.etype !== undefined && info.etype !== null ? 1 : 0;
  });
  expect(b.errors === null ? points.map(() => 0) : [...b.errors], `${label}: errors`).toEqual(errors);
  const withoutIndex: LineBatch = { baseIds: b.baseIds, timestamps: b.timestamps, lines: b.lines, errors: b.errors };
  expect(deltasOfNotifications(points), `${label}: deltas of notifications vs lines`).toEqual(deltasOfBatch(withoutIndex));
  expect(deltasOfBatch(b), `${label}: deltas of the carried index vs lines`).toEqual(deltasOfBatch(withoutIndex));
  return b;
}

/** Seeded batches of 1-12 odd points (fields of other types, missing, infos of every shape). */
function randomPoints(start: number): () => Notification[] {
  let seed = start;
  const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const names = ['wsgi-start', 'wsgi-stop', 'db-start', 'db-stop', 'x', '-stop', '-start', 'ü-stop', 5, undefined, null];
  const strs = ['s', '', 'ü', 'a"b', 3, null, undefined, false];
  const requests = [undefined, null, 'r', { method: 'GET', path: '/p' }, { route: '/r/:id' }, { method: 'PUT', route: '/r', url: 'http://x' }, { method: 1, route: '/m' }, { url: 'http://u' }];
  const info = (): unknown => {
    if (r() < 0.2) return pick([undefined, null, 'text', 0, [1], true]);
    const o: Record<string, unknown> = {};
    if (r() < 0.5) o.request = pick(requests);
    if (r() < 0.3) o.db = pick([{ statement: 'SELECT 1' }, { statement: 2 }, null]);
    if (r() < 0.2) o.exec = { command: pick(['ls', 'x'.repeat(400)]) };
    if (r() < 0.2) o.function = pick([{ name: 'f' }, 'f']);
    if (r() < 0.2) o.etype = pick(['E', null, 0, '']);
    if (r() < 0.2) o.message = pick(['m', 1]);
    if (r() < 0.8) o.host = pick(['h1', 'h2', '', 4, null]);
    return o;
  };
  return () => {
    const points: Notification[] = [];
    for (let i = 0, n = 1 + Math.floor(r() * 12); i < n; i++) {
      const base = pick(['A', 'B']);
      const ts = `2026-03-01T12:00:00.${String(Math.floor(r() * 50)).padStart(6, '0')}`;
      const p: Record<string, unknown> = { name: pick(names), base_id: base, trace_id: `T${i}`, parent_id: pick([base, 'T0', 'é', 1, undefined]), timestamp: ts, info: info(), project: pick(strs), service: pick(strs) };
      for (const f of ['info', 'project', 'service']) if (r() < 0.1) delete p[f];
      points.push(p as unknown as Notification);
    }
    return points;
  };
}

describe('one index entry for every source', () => {
  const ts = (k: number): string => `2026-03-01T12:00:00.${String(k).padStart(6, '0')}`;
  const P = (name: unknown, parent: unknown, info: unknown, more: Record<string, unknown> = {}, k = 0): Notification =>
    ({ name, base_id: 'B', trace_id: `T${k}`, parent_id: parent, timestamp: ts(k), ...(info === undefined ? {} : { info }), project: 'p', service: 's', ...more }) as unknown as Notification;

  it('odd points index alike from notifications, lines and events', () => {
    const points = [
      P('wsgi-start', 'B', { request: { method: 'GET', path: '/x/1', query: '', scheme: 'http' }, host: 'h1' }),
      P('db-start', 'T0', { db: { statement: 'SELECT 1' }, host: 'h1' }, { service: undefined, project: undefined }, 1), // no project, no service
      P('db-stop', 'T0', { host: 'h1' }, { service: null, project: null }, 2),
      P(7, 8, { host: 9, exec: { command: 'ls -l' } }, { project: 5, service: true }, 3), // not strings
      P(undefined, undefined, null, {}, 4), // no name, no parent, null info
      P('fn-start', 'T0', 'not an object', { service: '' }, 5),
      P('fn-stop', 'T0', [1, 2], {}, 6),
      P('fn-start', 'T0', undefined, {}, 7), // no info
      P('fn-stop', 'T0', { etype: 'ValueError', message: 'boom', host: 'h2' }, {}, 8), // error info
      P('fn-start', 'T0', { function: { name: 'f' }, etype: null, host: 'h2' }, {}, 9), // etype null: no error
      P('fn-stop', 'T0', { etype: 0, host: 'h2' }, {}, 10), // etype 0 is not None; no message
      P('wsgi-stop', 'B', { host: 'h1' }, {}, 11), // a top-level stop without a route
      P('wsgi-stop', 'B', { request: { route: '/x/:id' }, host: 'h1' }, {}, 12), // route, no method
      P('wsgi-stop', 'B', { request: { method: 'POST', route: '/y' }, response: { status_code: 500 }, host: 'h1' }, {}, 13),
      P('rpc-stop', 'T0', { request: { route: 7 }, host: 'h1' }, {}, 14), // route not a string
      P('é"q-start', 'T0', { project: 'inner', host: 'h3' }, {}, 15), // off the layout (escapes), a "project" key inside INFO
      P('plain', 'T0', { value: NaN, host: 'h3' }, {}, 16), // neither -start nor -stop; a bare NaN in the line
      P('fn-start', 'T0', { function: 'not an object', db: { statement: 5 }, request: { url: 'http://u' }, host: 'h3' }, {}, 17),
      P('fn-start', 'T0', { db: { statement: 5 }, exec: null, function: { name: 'g' }, host: 'h3' }, {}, 18), // the first string detail found
    ];
    const b = expectOneIndex(points, 'table');
    const ix = b.index!;
    expect(ix.names).toEqual(['wsgi', 'db', 'db', '', '', 'fn', 'fn', 'fn', 'fn', 'fn', 'fn', 'wsgi', 'wsgi', 'wsgi', 'rpc', 'é"q', 'plain', 'fn', 'fn']);
    expect([...ix.phases]).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(ix.parentIds.slice(3, 5)).toEqual(['', '']);
    expect(ix.projects.slice(0, 5)).toEqual(['p', null, null, null, 'p']);
    expect(ix.services.slice(0, 6)).toEqual(['s', null, null, null, 's', '']);
    expect(ix.hosts.slice(0, 9)).toEqual(['h1', 'h1', 'h1', '', '', '', '', '', 'h2']);
    expect(ix.details).toEqual(['GET /x/1', 'SELECT 1', null, 'ls -l', null, null, null, null, 'ValueError: boom', 'f', '0: ', null, '/x/:id', 'POST /y', null, null, null, 'http://u', 'g']);
    expect(ix.routes).toEqual([null, null, null, null, null, null, null, null, null, null, null, null, '/x/:id', 'POST /y', null, null, null, null, null]);
    expect([...b.errors!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('300 seeded random batches of odd points index alike', () => {
    const random = randomPoints(7);
    for (let k = 0; k < 300; k++) expectOneIndex(random(), `batch ${k}`);
  });

  it("recordOfEvents (each line parsed once) equals the delta of the lines read without an index, for 300 seeded random traces", () => {
    const random = randomPoints(11);
    let seed = 5;
    const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const junk = ['not json', '[1]', 'null', '{"name": "a-start", "info": {}}', '{"timestamp": "", "name": "a-start"}', '{"timestamp": 5, "name": "a-start"}', '{"name": "x-start", "timestamp": "2026-03-01T12:00:00.000009", "info": {"v": NaN, "etype": "E"}}'];
    for (let k = 0; k < 300; k++) {
      const lines = linesOfNotifications(random()).lines.slice();
      for (let j = Math.floor(r() * 3); j > 0; j--) lines.splice(Math.floor(r() * (lines.length + 1)), 0, junk[Math.floor(r() * junk.length)]);
      const kept = lines.filter((l) => {
        const t = parseStoredEvent(l)?.timestamp;
        return typeof t === 'string' && t !== '';
      });
      const errors = kept.map((l) => {
        const info = parseStoredEvent(l)?.info as Record<string, unknown> | undefined;
        return info?.etype !== undefined && info?.etype !== null ? 1 : 0;
      });
      const reference = kept.length === 0 ? undefined : deltasOfBatch({ baseIds: kept.map(() => 'A'), timestamps: kept.map((l) => parseStoredEvent(l)!.timestamp as string), lines: kept, errors: new Uint8Array(errors) }).get('A');
      expect(recordOfEvents('A', lines), `trace ${k}`).toEqual(reference);
    }
  });

  it('a point that fails to serialise is left out of the index too', () => {
    const points = [P('a-start', 'B', { host: 'h' }), P('bad-start', 'B', { big: 1n, host: 'h' }, {}, 1), P('a-stop', 'B', { etype: 'E', host: 'h' }, {}, 2)];
    const lost: unknown[] = [];
    const b = linesOfNotifications(points, (n) => JSON.stringify(n), (err) => lost.push(err));
    expect(lost).toHaveLength(1);
    expect(b.lines).toHaveLength(2);
    expect(plainIndex(b.index)).toEqual(plainIndex(indexOfLines(b)));
    expect(Object.values(b.index!).map((a) => (a as ArrayLike<unknown>).length)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect([...b.errors!]).toEqual([0, 1]);
  });
});

/** deltasOfBatch as it was before it skipped work (the reference: every line through addUnique, appendText and betterRoot). */
function referenceDeltas(batch: LineBatch): Map<string, TraceDelta> {
  const index = batch.index!;
  const addUnique = (list: string[], v: string | null): void => {
    if (v !== null && v !== '' && !list.includes(v)) list.push(v);
  };
  const appendText = (text: string, more: string | null): string => {
    if (more === null || more === '' || text.length >= MAX_TEXT) return text;
    if (text.includes(more)) return text;
    const t = text === '' ? more : text + '\n' + more;
    return t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) : t;
  };
  const betterRoot = (a: RootCandidate | null, b: RootCandidate | null): RootCandidate | null => {
    if (a === null) return b;
    if (b === null) return a;
    if (a.top !== b.top) return a.top ? a : b;
    return b.ts < a.ts ? b : a;
  };
  const out = new Map<string, TraceDelta>();
  batch.baseIds.forEach((baseId, i) => {
    const ts = batch.timestamps[i];
    let d = out.get(baseId);
    if (d === undefined) out.set(baseId, (d = { baseId, first: ts, last: ts, points: 0, error: false, services: [], projects: [], hosts: [], root: null, route: null, text: '' }));
    if (ts < d.first) d.first = ts;
    if (ts > d.last) d.last = ts;
    if (batch.errors !== null && batch.errors[i] === 1) d.error = true;
    addUnique(d.services, index.services[i]);
    addUnique(d.projects, index.projects[i]);
    addUnique(d.hosts, index.hosts[i]);
    d.text = appendText(d.text, index.details[i]);
    const top = index.parentIds[i] === baseId;
    if (index.phases[i] === 0) {
      d.points++;
      d.root = betterRoot(d.root, { ts, top, name: index.names[i], service: index.services[i], detail: index.details[i] });
    } else if (top && d.route === null && index.routes[i] !== null) {
      d.route = index.routes[i];
      d.text = appendText(d.text, d.route);
    }
  });
  return out;
}

/** A delta without its timestamp keys (TraceDelta.firstUs), as the reference makes it. */
function keyless(deltas: Map<string, TraceDelta>): Map<string, TraceDelta> {
  const out = new Map<string, TraceDelta>();
  for (const [id, d] of deltas) {
    const { firstUs: _f, lastUs: _l, ...rest } = d;
    out.set(id, rest);
  }
  return out;
}

/**
 * deltasOfBatch equals the reference from the timestamps' texts, and, when every timestamp
 * has a key, from their keys (LineBatch.timeKeys, as the agent gives them) too, with the
 * keys of the trace's first and last.
 */
function expectDeltas(batch: LineBatch, label: string): void {
  const want = referenceDeltas(batch);
  const plain = deltasOfBatch(batch);
  expect(keyless(plain), label).toEqual(want);
  for (const d of plain.values()) expect([d.firstUs, d.lastUs], label).toEqual([NaN, NaN]);
  const keys = Float64Array.from(batch.timestamps, timeKey);
  if (keys.some((k) => Number.isNaN(k))) return;
  const keyed = deltasOfBatch({ ...batch, timeKeys: keys });
  expect(keyless(keyed), `${label}, keyed`).toEqual(want);
  for (const d of keyed.values()) expect([d.firstUs, d.lastUs], `${label}, keyed`).toEqual([timeKey(d.first), timeKey(d.last)]);
}

/**
 * A batch of `n` lines of traces from `ids` (another one picked with chance `switchShare`),
 * each stamped by `stamp()`, of two names, phases and parents: the shape the root's
 * compares are tested on.
 */
function tiedBatch(r: () => number, n: number, ids: readonly string[], switchShare: number, stamp: () => string): LineBatch & { timestamps: string[] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const index: LineIndex = { names: [], phases: new Uint8Array(n), parentIds: [], projects: [], services: [], hosts: [], details: [], routes: [] };
  const baseIds: string[] = [];
  const timestamps: string[] = [];
  let id = pick(ids);
  for (let i = 0; i < n; i++) {
    if (r() < switchShare) id = pick(ids);
    baseIds.push(id);
    timestamps.push(stamp());
    index.phases[i] = r() < 0.6 ? 0 : 1;
    index.names.push(pick(['wsgi', 'db']));
    index.parentIds.push(r() < 0.4 ? id : 'P1');
    index.services.push(pick(['s1', 's2']));
    index.projects.push('p');
    index.hosts.push('h1');
    index.details.push(pick([null, 'GET /a', 'SELECT 1']));
    index.routes.push(null);
  }
  return { baseIds, timestamps, lines: [], errors: null, index };
}

describe('deltasOfBatch', () => {
  it('equals the reference (every line through addUnique, appendText, betterRoot) for 2,000 seeded random batches', () => {
    let seed = 99;
    const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const texts = [null, '', 'GET /a', 'SELECT 1', 'SELECT 1\nFROM t', 'x'.repeat(3000), 'y'.repeat(2000), 'GET /a/:id'];
    for (let b = 0; b < 2000; b++) {
      const n = 1 + Math.floor(r() * 40);
      const ids = ['A', 'B', 'C'].slice(0, 1 + Math.floor(r() * 3));
      const index: LineIndex = { names: [], phases: new Uint8Array(n), parentIds: [], projects: [], services: [], hosts: [], details: [], routes: [] };
      const baseIds: string[] = [];
      const timestamps: string[] = [];
      const errors = new Uint8Array(n);
      let id = pick(ids);
      for (let i = 0; i < n; i++) {
        if (r() < 0.3) id = pick(ids); // traces interleave, in runs
        baseIds.push(r() < 0.5 ? id : `${id}`.slice(0)); // equal ids, same or other string objects
        timestamps.push(`2026-03-01T12:00:0${Math.floor(r() * 10)}.${String(Math.floor(r() * 1e6)).padStart(6, '0')}`);
        index.phases[i] = r() < 0.5 ? 0 : 1;
        index.names.push(pick(['wsgi', 'db', '']));
        index.parentIds.push(r() < 0.4 ? id : pick(['P1', 'P2']));
        index.services.push(pick(['s1', 's2', null, '']));
        index.projects.push(pick(['p', null]));
        index.hosts.push(pick(['h1', 'h2', '']));
        index.details.push(pick(texts));
        index.routes.push(index.phases[i] === 1 && r() < 0.5 ? pick(texts) : null);
        errors[i] = r() < 0.1 ? 1 : 0;
      }
      // Half the batches in time order, the usual case (a start later than the trace's last line skips the root's compare).
      if (b % 2 === 0) timestamps.sort();
      const batch: LineBatch = { baseIds, timestamps, lines: [], errors: r() < 0.2 ? null : errors, index };
      expectDeltas(batch, `batch ${b}`);
    }
  });

  it('equals the reference for 2,000 seeded random batches of near-ordered timestamps with ties (the root compares it skips: a start before the trace\'s first, between its first and last with the root at its first, at a tie)', () => {
    let seed = 7;
    const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const stamps = ['2026-03-01T12:00:01.000000', '2026-03-01T12:00:01.000500', '2026-03-01T12:00:02.000000', '2026-03-01T12:00:02.250000', '2026-03-01T12:00:03.000000'];
    for (let b = 0; b < 2000; b++) {
      const n = 1 + Math.floor(r() * 30);
      const batch = tiedBatch(r, n, ['A', 'B'].slice(0, 1 + Math.floor(r() * 2)), 0.15, () => pick(stamps));
      const { timestamps } = batch;
      // Sorted, then a few neighbours swapped: mostly in order, as an agent's lines come.
      timestamps.sort();
      // (Not for a single line: its swap would add an undefined second timestamp.)
      for (let k = 0; n > 1 && k < n / 4; k++) {
        const i = Math.floor(r() * (n - 1));
        [timestamps[i], timestamps[i + 1]] = [timestamps[i + 1], timestamps[i]];
      }
      expectDeltas(batch, `batch ${b}`);
    }
  });
});

describe('deltasOfBatch with timestamp keys (LineBatch.timeKeys)', () => {
  // KEYED_STAMPS cross a second, a minute, a day, a leap day and a year, with ties: keyed
  // timestamps order as their texts, so both ways give the same first, last and root.
  it('gives the deltas the texts give for 2,000 seeded random batches in any order, first and last keyed', () => {
    let seed = 31;
    const r = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    let keyedBatches = 0;
    for (let b = 0; b < 2000; b++) {
      const n = 1 + Math.floor(r() * 24);
      // Now and then a stamp with no key (before 1970, a short fraction): that batch compares texts.
      const stamp = (): string => (r() < 0.01 ? pick(['1969-12-31T23:59:59.999999', '2027-01-01T00:00:00.5']) : pick(KEYED_STAMPS));
      const batch = tiedBatch(r, n, ['A', 'B', 'C'].slice(0, 1 + Math.floor(r() * 3)), 0.3, stamp);
      const { timestamps } = batch;
      if (b % 3 === 0) timestamps.sort();
      if (timestamps.every((t) => !Number.isNaN(timeKey(t)))) keyedBatches++;
      expectDeltas(batch, `batch ${b}`);
    }
    expect(keyedBatches).toBeGreaterThan(1000);
  });

  it('keeps the keys out of records: a merge leaves them NaN, a record copied or written as JSON has none', () => {
    const index: LineIndex = { names: ['wsgi', 'wsgi'], phases: Uint8Array.of(0, 1), parentIds: ['A', 'A'], projects: ['p', 'p'], services: ['s', 's'], hosts: ['h', 'h'], details: [null, null], routes: [null, null] };
    const timestamps = ['2027-01-01T00:00:00.000001', '2027-01-01T00:00:00.250000'];
    const batch: LineBatch = { baseIds: ['A', 'A'], timestamps, lines: [], errors: null, index, timeKeys: Float64Array.from(timestamps, timeKey) };
    const d = deltasOfBatch(batch).get('A')!;
    expect(d.lastUs! - d.firstUs!).toBe(249_999);
    const copy = mergeDelta(undefined, d);
    expect('firstUs' in copy || 'lastUs' in copy).toBe(false);
    expect(Object.keys(JSON.parse(recordToJson(d)))).toEqual(['baseId', 'first', 'last', 'points', 'error', 'services', 'projects', 'hosts', 'root', 'route', 'text']);
    const later = deltasOfBatch({ ...batch, timestamps: ['2027-01-01T00:00:01.000000', '2027-01-01T00:00:02.000000'], timeKeys: undefined }).get('A')!;
    mergeDelta(d, later);
    expect([d.first, d.last]).toEqual(['2027-01-01T00:00:00.000001', '2027-01-01T00:00:02.000000']);
    expect([d.firstUs, d.lastUs]).toEqual([NaN, NaN]);
  });
});

import { tempDir } from '../../../tools/testing/temp-dir';
import { createFileDriver } from '../src/drivers/file';

describe('file:// search contract', () => {
  const dir = tempDir('osp-file-search-');
  const d = createFileDriver(`file://${dir}`);
  // A second driver on the same directory reads what the first wrote (other processes do the same).
  const reader = createFileDriver(`file://${dir}`);
  searchContract({
    driver: () => reader as unknown as Driver,
    write: async (batches) => {
      for (const b of batches) d.notify(b);
      await d.flush();
    },
  });
});

describe('index data never costs a point', () => {
  it('a getter that throws while the index reads the info leaves the point stored', async () => {
    const d = new MemoryDriver();
    const n = new BatchNotifier(d, { project: 'p', service: 's', host: 'h', flushIntervalMs: 1, maxBufferPoints: 100 });
    let reads = 0;
    // Serialising reads `request` once; the index's second read throws.
    const info = Object.defineProperty({}, 'request', {
      enumerable: true,
      get() {
        if (++reads > 1) throw new Error('second read');
        return { method: 'GET', path: '/x' };
      },
    });
    n.point(0, 'wsgi', 'B2', 'T1', 'B2', info);
    await n.flush();
    expect(d.rawEvents('B2')).toHaveLength(1);
    expect(n.stats.lost).toBe(0);
    expect((await d.searchTraces({})).traces.map((t) => t.base_id)).toEqual(['B2']);
  });
});
