import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileDriver, FileDriver } from '../src/drivers/file';
import { fileDriverSettings, parseDuration, parseSize } from '../src/drivers/file-options';
import { traceFilePath } from '../src/drivers/file-layout';
import { MemoryDriver } from '../src/drivers/memory';
import { failureCounts } from '../src/failures';
import type { Notification } from '../src/notification';
import { pyDumps } from '../src/pyjson';
import { formatReportJson } from '../src/report';
import { defaultStateDir } from '../src/state-dir';
import { compileForChild } from './support/compile-for-child';
import { tempDir } from '../../../tools/testing/temp-dir';

const root = tempDir('osprofiler-file-driver-');
let n = 0;
const freshDir = () => join(root, `store-${++n}`);
const open = (dir: string, options: Record<string, unknown> = {}) =>
  createFileDriver(pathToFileURL(dir), { retentionPruneIntervalMs: 0, ...options });

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures/redis-trace.json'), 'utf8')).redis_trace as {
  base_id: string;
  'LRANGE_0_-1_newest_first': string[];
  get_report: unknown;
};

/** A 3-level trace with an error leaf, timestamps 1 ms apart, in emission order. */
function threeLevelTrace(baseId: string, startSecond = 0): Notification[] {
  const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  let us = startSecond * 1_000_000;
  const ts = () => {
    us += 1337;
    const d = new Date(Date.UTC(2026, 10, 23, 2, 0, 0) + Math.floor(us / 1000));
    return d.toISOString().slice(0, 19) + '.' + String(us % 1_000_000).padStart(6, '0');
  };
  const ev = (name: string, i: number, parent: string, info: Record<string, unknown> = {}): Notification => ({
    name, base_id: baseId, trace_id: ids[i], parent_id: parent, timestamp: ts(), info: { ...info, host: 'vm' }, project: 'proj', service: 'svc',
  });
  return [
    ev('wsgi-start', 0, baseId, { request: { method: 'GET', path: '/x' } }),
    ev('rpc-start', 1, ids[0], { function: { name: 'svc.call' } }),
    ev('db-start', 2, ids[1], { db: { statement: 'SELECT 1' } }),
    ev('db-stop', 2, ids[1], { db: { rows: 1 } }),
    ev('driver-start', 3, ids[1]),
    ev('driver-stop', 3, ids[1], { etype: 'ValueError', message: 'bad' }),
    ev('rpc-stop', 1, ids[0]),
    ev('wsgi-stop', 0, baseId, { response: { status_code: 200 } }),
  ];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('file:// driver: storage', () => {
  it('round trip of a 3-level trace gives the same report as the memory driver', async () => {
    const dir = freshDir();
    const file = open(dir);
    const mem = new MemoryDriver();
    const base = randomUUID();
    const events = threeLevelTrace(base);
    for (const batch of [events.slice(0, 3), events.slice(3, 4), events.slice(4)]) {
      file.notify(batch);
      mem.notify(batch);
    }
    await file.flush();
    const [a, b] = [await file.getReport(base), await mem.getReport(base)];
    expect(formatReportJson(a)).toBe(formatReportJson(b));
    expect(a.children[0].children[0].children.map((c) => c.info.name)).toEqual(['db', 'driver']);
    expect(file.counters).toMatchObject({ written: 8, dropped: 0, badLines: 0 });
    await file.close();
  });

  it('Python fixture: stored lines are what Python stores, the report is what Python reports', async () => {
    const dir = freshDir();
    const d = open(dir);
    const emitted = [...fixture['LRANGE_0_-1_newest_first']].reverse();
    for (const line of emitted) d.notify([JSON.parse(line) as Notification]);
    await d.flush();
    const path = join(dir, 'traces', 'bb', `${fixture.base_id}.jsonl`);
    expect(readFileSync(path, 'utf8')).toBe(emitted.map((l) => l + '\n').join(''));
    expect(await d.getReport(fixture.base_id)).toEqual(fixture.get_report);
    await d.close();
  });

  it('shards by the first two characters and indexes each new trace once', async () => {
    const dir = freshDir();
    const d = open(dir);
    const base = 'abcdef01-0000-4000-8000-000000000001';
    d.notify(threeLevelTrace(base).slice(0, 2));
    await d.flush();
    d.notify(threeLevelTrace(base).slice(2));
    await d.close();
    const files = walk(dir).map((f) => relative(dir, f)).sort();
    const day = new Date().toISOString().slice(0, 10);
    expect(files).toEqual([`index/${day}.log`, `summary/${day}.log`, `traces/ab/${base}.jsonl`]);
    expect(readFileSync(join(dir, 'index', `${day}.log`), 'utf8')).toMatch(new RegExp(`^${base} 2026-11-23T02:00:00\\.001337\\n$`));
  });

  it('unknown trace: the empty report', async () => {
    const d = open(freshDir());
    const r = await d.getReport(randomUUID());
    expect(r.info.finished).toBeNull();
    expect(r.children).toEqual([]);
  });

  it('ids from headers cannot escape the directory; odd ids still round-trip', async () => {
    const dir = freshDir();
    const d = open(dir);
    const ids = ['../../escape', '..', '.', '/etc/passwd', 'a/b\\c', 'UPPER-CASE', '', 'sp ace\nnew%line', 'x'.repeat(2000), 'nul\u0000', 'ü'];
    for (const id of ids) d.notify([{ ...threeLevelTrace(id)[0], base_id: id }]);
    await d.flush();
    expect(readdirSync(root).filter((f) => !f.startsWith('store-') && !f.startsWith('child'))).toEqual([]);
    for (const f of walk(dir)) expect(relative(dir, f)).toMatch(/^(traces\/[0-9a-f]{2}\/x?[0-9a-f-]+\.jsonl|(index|summary)\/\d{4}-\d\d-\d\d\.log)$/);
    for (const id of ids) {
      expect(traceFilePath(dir, id).startsWith(join(dir, 'traces') + '/')).toBe(true);
      expect((await d.getReport(id)).children).toHaveLength(1);
    }
    expect((await d.listTraces()).map((t) => t.base_id).sort()).toEqual([...ids].sort());
    await d.close();
  });
});

describe('file:// driver: damaged files', () => {
  it('ignores a trailing partial line (a crash mid-write) and recovers the next append', async () => {
    const dir = freshDir();
    const d = open(dir);
    const base = randomUUID();
    const events = threeLevelTrace(base);
    d.notify(events.slice(0, 4));
    await d.flush();
    const path = traceFilePath(dir, base);
    appendFileSync(path, pyDumps(events[4]).slice(0, 40)); // the crashed writer's torn line
    const partial = await d.getReport(base);
    expect(d.counters.badLines).toBe(0);
    expect(Object.keys(partial.stats)).toEqual(['db', 'rpc', 'wsgi']);

    d.notify(events.slice(4)); // another process appends after the torn line
    await d.flush();
    const r = await d.getReport(base);
    expect(d.counters.badLines).toBe(1); // the torn prefix, counted
    expect(formatReportJson(r)).toBe(formatReportJson(await memReport(events))); // nothing complete was lost
    await d.close();
  });

  it('skips unparsable lines and counts them', async () => {
    const dir = freshDir();
    const d = open(dir);
    const base = randomUUID();
    const events = threeLevelTrace(base);
    d.notify(events.slice(0, 2));
    await d.flush();
    appendFileSync(traceFilePath(dir, base), 'garbage\n[1,2]\n\n');
    d.notify(events.slice(2));
    await d.flush();
    expect(formatReportJson(await d.getReport(base))).toBe(formatReportJson(await memReport(events)));
    expect(d.counters.badLines).toBe(2);
  });

  it('reads Python-style NaN / Infinity values', async () => {
    const dir = freshDir();
    const d = open(dir);
    const base = randomUUID();
    const [start] = threeLevelTrace(base);
    d.notify([{ ...start, info: { v: NaN, w: [-Infinity, 'NaN'], host: 'vm' } }]);
    await d.flush();
    expect(readFileSync(traceFilePath(dir, base), 'utf8')).toContain('"v": NaN, "w": [-Infinity, "NaN"]');
    const r = await d.getReport(base);
    expect((r.children[0].info['meta.raw_payload.wsgi-start'] as Notification).info).toEqual({ v: NaN, w: [-Infinity, 'NaN'], host: 'vm' });
  });
});

async function memReport(events: Notification[]) {
  const m = new MemoryDriver();
  m.notify(events);
  return m.getReport(events[0].base_id);
}

describe('file:// driver: several processes', () => {
  let driverJs: string;
  const childScript = join(root, 'child-writer.js');
  beforeAll(() => {
    driverJs = compileForChild(join(__dirname, '../src/drivers/file.ts'), join(root, 'child-build'));
    writeFileSync(
      childScript,
      `'use strict';
// Child: N batches into one shared trace and one own trace, through the real driver.
const { createFileDriver } = require(process.argv[2]);
const [dir, shared, own, batches] = process.argv.slice(3);
const d = createFileDriver(require('node:url').pathToFileURL(dir), { retentionPruneIntervalMs: 0 });
const pad = 'p'.repeat(3000);
let k = 0;
const ev = (base) => ({ name: 'w-start', base_id: base, trace_id: own + '-' + k++, parent_id: base,
  timestamp: '2026-11-23T02:00:00.' + String(k).padStart(6, '0'), info: { pad, host: 'child' }, project: null, service: null });
(async () => {
  for (let i = 0; i < Number(batches); i++) {
    d.notify([ev(shared), ev(shared), ev(own)]);
    if (i % 7 === 0) await new Promise((r) => setImmediate(r));
  }
  await d.close();
})();
`,
    );
  });

  it('children appending to the same trace file concurrently: every line complete', async () => {
    const dir = freshDir();
    const shared = randomUUID();
    const kids = 4;
    const batches = 150;
    await Promise.all(
      Array.from({ length: kids }, (_, i) =>
        new Promise<void>((resolve, reject) => {
          const c = fork(childScript, [driverJs, dir, shared, `own${i}`, String(batches)], { stdio: 'inherit' });
          c.on('error', reject);
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exit ${code}`))));
        }),
      ),
    );
    const text = readFileSync(traceFilePath(dir, shared), 'utf8');
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(kids * batches * 2);
    for (const line of lines) expect(JSON.parse(line).info.pad).toHaveLength(3000);
    const d = open(dir);
    const r = await d.getReport(shared);
    expect(r.children).toHaveLength(kids * batches * 2);
    expect(d.counters.badLines).toBe(0);
    // Every child indexed the shared trace once; the listing dedupes.
    const listed = await d.listTraces();
    expect(listed.filter((t) => t.base_id === shared)).toHaveLength(1);
    expect(listed).toHaveLength(kids + 1);
  });
});

describe('file:// driver: index', () => {
  it('lists newest first with a limit, dedupes, drops pruned traces', async () => {
    const dir = freshDir();
    const a = open(dir);
    const b = open(dir); // a second writer (another process) on the same traces
    const bases = [randomUUID(), randomUUID(), randomUUID()];
    bases.forEach((base, i) => a.notify(threeLevelTrace(base, i * 10).slice(0, 1)));
    await a.flush();
    b.notify(threeLevelTrace(bases[0], 50).slice(1, 2)); // later event: not a newer start
    await b.flush();
    const all = await a.listTraces();
    expect(all.map((t) => t.base_id)).toEqual([bases[2], bases[1], bases[0]]);
    expect(all[2].timestamp).toBe('2026-11-23T02:00:00.001337');
    expect((await a.listTraces({ limit: 2 })).map((t) => t.base_id)).toEqual([bases[2], bases[1]]);
    rmSync(traceFilePath(dir, bases[2]));
    expect((await a.listTraces({ limit: 2 })).map((t) => t.base_id)).toEqual([bases[1], bases[0]]);
  });

  it('reads older index days only as far as the limit needs', async () => {
    const dir = freshDir();
    const d = open(dir);
    mkdirSync(join(dir, 'index'), { recursive: true });
    const old = randomUUID();
    d.notify(threeLevelTrace(old).slice(0, 1));
    await d.flush();
    // Move its index line to an old day file, then add a trace today.
    const day = readdirSync(join(dir, 'index'))[0];
    writeFileSync(join(dir, 'index', '2020-01-01.log'), readFileSync(join(dir, 'index', day)));
    rmSync(join(dir, 'index', day));
    const fresh = open(dir);
    const now = randomUUID();
    fresh.notify(threeLevelTrace(now, 100).slice(0, 1));
    await fresh.flush();
    expect((await fresh.listTraces({ limit: 1 })).map((t) => t.base_id)).toEqual([now]);
    expect((await fresh.listTraces()).map((t) => t.base_id)).toEqual([now, old]);
  });

  it('error index: only with filterErrorTrace and a non-null etype, latest error timestamp', async () => {
    const dir = freshDir();
    const on = open(dir, { filterErrorTrace: true });
    const [e1, e2, ok] = [randomUUID(), randomUUID(), randomUUID()];
    on.notify(threeLevelTrace(e1, 0));
    on.notify(threeLevelTrace(e2, 20));
    const clean = threeLevelTrace(ok, 40).map((e) => ({ ...e, info: { ...e.info, etype: null } }));
    on.notify(clean);
    on.notify([{ ...threeLevelTrace(e1, 60)[5], base_id: e1 }]); // a later error in e1
    const errors = await on.listErrorTraces();
    expect(errors.map((t) => t.base_id)).toEqual([e1, e2]);
    expect(errors[0].timestamp.startsWith('2026-11-23T02:01:00')).toBe(true);
    const off = open(freshDir());
    off.notify(threeLevelTrace(randomUUID()));
    expect(await off.listErrorTraces()).toEqual([]);
  });
});

describe('file:// driver: retention', () => {
  const age = (path: string, ms: number) => {
    const t = (Date.now() - ms) / 1000;
    utimesSync(path, t, t);
  };

  it('by age: old trace files and old index days go, recent ones stay', async () => {
    const dir = freshDir();
    const d = open(dir, { retentionMaxAgeMs: 3 * 86_400_000, retentionMaxBytes: 0 });
    const [oldB, newB] = [randomUUID(), randomUUID()];
    d.notify(threeLevelTrace(oldB));
    d.notify(threeLevelTrace(newB));
    await d.flush();
    age(traceFilePath(dir, oldB), 4 * 86_400_000);
    writeFileSync(join(dir, 'index', '2001-01-01.log'), `${oldB} 2001-01-01T00:00:00.000000\n`);
    mkdirSync(join(dir, 'errors'));
    writeFileSync(join(dir, 'errors', '2001-01-01.log'), '');
    writeFileSync(join(dir, 'summary', '2001-01-01.log'), '');
    const r = await d.prune();
    expect(r).toMatchObject({ deletedTraces: 1, deletedIndexFiles: 3 });
    expect(existsSync(join(dir, 'summary', '2001-01-01.log'))).toBe(false);
    // The pruned trace's summary is still in today's file: search leaves it out (no trace file).
    expect((await d.searchTraces({ since: 0 })).traces.map((t) => t.base_id)).toEqual([newB]);
    expect(existsSync(traceFilePath(dir, oldB))).toBe(false);
    expect(existsSync(traceFilePath(dir, newB))).toBe(true);
    expect((await d.listTraces()).map((t) => t.base_id)).toEqual([newB]);
    expect(d.counters.prunedTraces).toBe(1);
  });

  it('by size: least recently written first, until under the limit', async () => {
    const dir = freshDir();
    const bases = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const d = open(dir, { retentionMaxAgeMs: 0, retentionMaxBytes: 1 });
    for (const b of bases) d.notify(threeLevelTrace(b));
    await d.flush();
    const size = statSync(traceFilePath(dir, bases[0])).size;
    bases.forEach((b, i) => age(traceFilePath(dir, b), (10 - i) * 60_000)); // bases[0] oldest
    const limited = open(dir, { retentionMaxAgeMs: 0, retentionMaxBytes: size * 2 + 10 });
    const r = await limited.prune();
    expect(r.deletedTraces).toBe(2);
    expect(bases.map((b) => existsSync(traceFilePath(dir, b)))).toEqual([false, false, true, true]);
    expect(r.keptBytes).toBeLessThanOrEqual(size * 2 + 10);
  });

  it('the background timer prunes (unref\'d; skipped when another process just did)', async () => {
    const dir = freshDir();
    const base = randomUUID();
    const w = open(dir);
    w.notify(threeLevelTrace(base));
    await w.close();
    age(traceFilePath(dir, base), 10_000);
    const d = open(dir, { retentionMaxAgeMs: 5_000, retentionPruneIntervalMs: 40 });
    for (let i = 0; i < 100 && existsSync(traceFilePath(dir, base)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(traceFilePath(dir, base))).toBe(false);
    expect(existsSync(join(dir, '.last-prune'))).toBe(true);
    await d.close();
  });
});

describe('file:// driver: settings', () => {
  const env = { OSPROFILER_STATE_DIR: '/srv/osp' };

  it('file:// and file:/// use the per-user state dir; file:///abs uses that dir', () => {
    expect(fileDriverSettings(new URL('file://'), {}, env)).toMatchObject({ dir: '/srv/osp', isDefaultDir: true });
    expect(fileDriverSettings(new URL('file:///'), {}, env).dir).toBe('/srv/osp');
    expect(fileDriverSettings(new URL('file:///var/x%20y'), {}, env)).toMatchObject({ dir: '/var/x y', isDefaultDir: false });
  });

  it('defaultStateDir: env var, then XDG_STATE_HOME, then ~/.local/state; relative values ignored', () => {
    expect(defaultStateDir({ OSPROFILER_STATE_DIR: '/a', XDG_STATE_HOME: '/x' }, '/home/u')).toBe('/a');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x' }, '/home/u')).toBe('/x/osprofiler');
    expect(defaultStateDir({ OSPROFILER_STATE_DIR: 'rel', XDG_STATE_HOME: 'rel2' }, '/home/u')).toBe('/home/u/.local/state/osprofiler');
    expect(defaultStateDir({}, '/home/u')).toBe('/home/u/.local/state/osprofiler');
  });

  it('retention from the query, DriverOptions win, defaults otherwise', () => {
    const s = fileDriverSettings(new URL('file:///d?max_age=7d&max_bytes=500MB&prune_interval=30s'));
    expect(s).toMatchObject({ maxAgeMs: 604_800_000, maxBytes: 500_000_000, pruneIntervalMs: 30_000 });
    const o = fileDriverSettings(new URL('file:///d?max_age=7d'), { retentionMaxAgeMs: 1000, retentionMaxBytes: 0 });
    expect(o).toMatchObject({ maxAgeMs: 1000, maxBytes: 0 });
    expect(fileDriverSettings(new URL('file:///d'))).toMatchObject({ maxAgeMs: 604_800_000, maxBytes: 1024 ** 3, pruneIntervalMs: 600_000 });
    expect(parseSize('2GiB', 'f')).toBe(2 * 1024 ** 3);
    expect(parseSize('1048576', 'f')).toBe(1048576);
    expect(parseDuration('12h', 'f')).toBe(43_200_000);
    expect(parseDuration('0', 'f')).toBe(0);
  });

  it('bad connection strings fail at creation, naming the field', () => {
    expect(() => fileDriverSettings(new URL('file://relative/dir'))).toThrow(/host "relative".*absolute/);
    expect(() => fileDriverSettings(new URL('file:///d?max_age=7'))).toThrow(/max_age: expected a duration/);
    expect(() => fileDriverSettings(new URL('file:///d?max_bytes=lots'))).toThrow(/max_bytes: expected a size/);
    expect(() => fileDriverSettings(new URL('file:///d?maxage=7d'))).toThrow(/unknown parameter "maxage" \(known: max_age, max_bytes, prune_interval\)/);
    expect(() => fileDriverSettings(new URL('file:///d'), { retentionMaxBytes: -1 })).toThrow(/retentionMaxBytes/);
  });
});

describe('file:// driver: failures are contained', () => {
  it('an unwritable directory: notify does not throw, losses are counted, flush reports them (DriverWriteError)', async () => {
    const blocker = join(root, `not-a-dir-${++n}`);
    writeFileSync(blocker, 'x');
    const d = open(join(blocker, 'store'));
    const before = failureCounts()['driver.file.write'] ?? 0;
    expect(() => d.notify(threeLevelTrace(randomUUID()))).not.toThrow();
    await expect(d.flush()).rejects.toMatchObject({ name: 'DriverWriteError', lost: 8 });
    expect(d.counters).toMatchObject({ written: 0, dropped: 8 });
    expect(failureCounts()['driver.file.write']).toBe(before + 1);
    await expect(d.flush()).resolves.toBeUndefined(); // reported once
    await d.close();
  });

  it('an unserialisable event is dropped alone; notify after close throws (the notifier counts it)', async () => {
    const dir = freshDir();
    const d = open(dir);
    const events = threeLevelTrace(randomUUID());
    const cyclic = { ...events[0], info: { host: 'vm' } as Record<string, unknown> } as Notification;
    (cyclic.info as Record<string, unknown>).self = cyclic.info;
    d.notify([cyclic, ...events.slice(1)]);
    await d.close();
    expect(d.counters).toMatchObject({ written: 7, dropped: 1 });
    expect(() => d.notify(events)).toThrow(/notify after close/);
    expect(d.counters.dropped).toBe(9);
  });

  it('flush(timeout) resolves even while a write is pending', async () => {
    const d = open(freshDir());
    d.notify(threeLevelTrace(randomUUID()));
    await expect(d.flush(0)).resolves.toBeUndefined();
    await d.close();
    expect(d).toBeInstanceOf(FileDriver);
  });
});
