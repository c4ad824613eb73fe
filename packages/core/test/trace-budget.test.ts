import { afterEach, describe, expect, it } from 'vitest';
import { configure, flush, get, inject, MemoryDriver, notifierStats, openPoint, pyDumps, run, shutdown, signedUnpack, start, stop, traced } from '../src/index';
import { CUT_MARKER, DROPPED_POINT } from '../src/instrument';
import { RecordingDriver } from './support/recording-driver';

afterEach(() => shutdown());

const names = (evs: { name: string }[]) => evs.map((e) => e.name);

describe('per-trace budget: maxTracePoints', () => {
  it('points past it are not recorded, only counted in one dropped marker; the trace still closes cleanly', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 3 });
    await run({ hmacKey: 'k', baseId: 'B1' }, () =>
      traced('wsgi', async () => {
        for (let i = 0; i < 5; i++) await traced('db', async () => traced('inner', () => i));
        start('manual');
        stop();
      }),
    );
    await flush();
    const ev = driver.byBase('B1');
    expect(names(ev)).toEqual(['wsgi-start', 'db-start', 'inner-start', 'inner-stop', 'db-stop', 'dropped-stop', 'wsgi-stop']);
    const marker = ev[5];
    // The agent's marker shape: top-level (parent = base id), a fresh trace id, info.dropped = N.
    expect(marker).toMatchObject({ name: `${DROPPED_POINT}-stop`, parent_id: 'B1', info: { dropped: 4 * 2 + 1, reason: 'max_trace_points', host: 'h' } });
    expect(marker.trace_id).not.toBe('B1');
  });

  it('drops after a marker went out are reported by the next recorded stop, never twice', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 2 });
    run({ hmacKey: 'k', baseId: 'B2' }, () => {
      const root = openPoint('wsgi')!;
      root.run(() => {
        const a = openPoint('a')!;
        openPoint('b')!.stop(); // dropped
        a.stop(); // recorded: its marker (1) goes out first
        traced('c', () => traced('d', () => 0)); // 2 dropped
      });
      root.stop(); // the next marker (2), then the stop
      root.stop(); // once only
    });
    await flush();
    const ev = driver.byBase('B2');
    expect(names(ev)).toEqual(['wsgi-start', 'a-start', 'dropped-stop', 'a-stop', 'dropped-stop', 'wsgi-stop']);
    expect(ev.filter((e) => e.name === 'dropped-stop').map((e) => e.info.dropped)).toEqual([1, 2]);
    expect(names(ev).filter((n) => n !== 'dropped-stop')).toEqual(['wsgi-start', 'a-start', 'a-stop', 'wsgi-stop']);
  });

  it('work inside a dropped point still propagates the trace, under the last recorded point', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 1 });
    let parentInHeader: string | undefined;
    let wsgiId: string | undefined;
    run({ hmacKey: 'k', baseId: 'B3' }, () =>
      traced('wsgi', () => {
        wsgiId = get()!.currentId;
        traced('rpc', () => {
          const carrier: Record<string, string> = {};
          expect(inject(carrier)).toBe(true);
          parentInHeader = signedUnpack(carrier['X-Trace-Info'], carrier['X-Trace-HMAC'], ['k'])!.parent_id as string;
        });
      }),
    );
    await flush();
    expect(parentInHeader).toBe(wsgiId);
    expect(names(driver.byBase('B3'))).toEqual(['wsgi-start', 'dropped-stop', 'wsgi-stop']);
  });

  it('start/stop: the budget runs out inside a recorded point; its stop is still recorded, after the marker', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 2 });
    run({ hmacKey: 'k', baseId: 'S1' }, () => {
      start('a');
      start('b');
      start('c'); // past the budget
      start('d'); // past the budget
      stop();
      stop();
      stop(); // b: recorded
      stop(); // a: recorded
      stop(); // unmatched: ignored
    });
    await flush();
    const ev = driver.byBase('S1');
    expect(names(ev)).toEqual(['a-start', 'b-start', 'dropped-stop', 'b-stop', 'a-stop']);
    expect(ev[2].info.dropped).toBe(2);
    expect(ev[3].parent_id).toBe(ev[0].trace_id);
    expect(ev[3].trace_id).toBe(ev[1].trace_id);
  });

  it('each trace has its own budget', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxTracePoints: 2 });
    for (const b of ['T1', 'T2']) run({ hmacKey: 'k', baseId: b }, () => traced('wsgi', () => traced('db', () => 0)));
    await flush();
    expect(names(driver.byBase('T1'))).toEqual(['wsgi-start', 'db-start', 'db-stop', 'wsgi-stop']);
    expect(names(driver.byBase('T2'))).toEqual(['wsgi-start', 'db-start', 'db-stop', 'wsgi-stop']);
  });

  it('the default is far above a normal request', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5 });
    run({ hmacKey: 'k', baseId: 'B4' }, () => traced('wsgi', () => { for (let i = 0; i < 1000; i++) traced('db', () => i); }));
    await flush();
    expect(driver.byBase('B4')).toHaveLength(2002);
  });
});

describe('per-point budget: maxInfoBytes', () => {
  const big = 'x'.repeat(5000);
  const infoOf = async (driverKind: 'lines' | 'objects', info: object) => {
    const driver = driverKind === 'lines' ? new MemoryDriver() : new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxInfoBytes: 1024 });
    const base = `I-${driverKind}`;
    run({ hmacKey: 'k', baseId: base }, () => traced('db', info, () => 0));
    await flush();
    const all: { name: string; info: Record<string, unknown> }[] =
      driver instanceof MemoryDriver ? driver.rawEvents(base).map((l) => JSON.parse(l)) : driver.byBase(base);
    return { all, stats: notifierStats()! };
  };

  it.each(['lines', 'objects'] as const)('%s path: a long value is cut with the cut marker to fit; short ones stay whole', async (kind) => {
    const { all, stats } = await infoOf(kind, { db: { statement: big, params: ['short', 7] }, note: 'keep me' });
    const s = all.find((e) => e.name === 'db-start')!.info as Record<string, unknown>;
    const { host: _h, ...rest } = s;
    expect(pyDumps(rest).length).toBeLessThanOrEqual(1024);
    const stmt = (s.db as { statement: string }).statement;
    expect(stmt).toContain(`${CUT_MARKER}5000]`);
    expect(stmt.startsWith('xxxxxxxxxx')).toBe(true);
    expect(stmt.length).toBeGreaterThan(800);
    expect((s.db as { params: unknown[] }).params).toEqual(['short', 7]);
    expect(s.note).toBe('keep me');
    expect(stats.infoCut).toBe(1);
  });

  it('the bound is on stored bytes: non-ASCII text (6 bytes a character escaped) is cut shorter', async () => {
    const { all } = await infoOf('lines', { message: 'é'.repeat(3000), nested: { list: ['ü'.repeat(3000), 'ok'] } });
    const s = all.find((e) => e.name === 'db-start')!.info as Record<string, unknown>;
    const { host: _h, ...rest } = s;
    expect(pyDumps(rest).length).toBeLessThanOrEqual(1024);
    expect(String(s.message)).toMatch(/^é+\.\.\. \[cut, length 3000\]$/);
    expect((s.nested as { list: string[] }).list[1]).toBe('ok');
  });

  it('a frozen info (its text cached by core) over the budget is cut exactly as an unfrozen one, every time', async () => {
    const make = () => ({ db: { statement: big, params: ['short', 7] }, note: 'keep me' });
    const open = await infoOf('lines', make());
    const frozenInfo = make();
    Object.freeze(frozenInfo.db.params);
    Object.freeze(frozenInfo.db);
    Object.freeze(frozenInfo);
    for (let round = 0; round < 2; round++) {
      // The second round formats it from the cache: still cut.
      const frozen = await infoOf('lines', frozenInfo);
      const stored = (all: { name: string; info: Record<string, unknown> }[]) => all.map((e) => [e.name, e.info]);
      expect(stored(frozen.all)).toEqual(stored(open.all));
      expect(JSON.stringify(frozen.all[0].info)).toContain(`${CUT_MARKER}5000]`);
      expect(frozen.stats.infoCut).toBe(1);
    }
  });

  it('info within the budget is stored exactly as given', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxInfoBytes: 1024 });
    run({ hmacKey: 'k', baseId: 'S' }, () => traced('db', { db: { statement: 'x'.repeat(900) } }, () => 0));
    await flush();
    expect((driver.byBase('S')[0].info.db as { statement: string }).statement).toBe('x'.repeat(900));
    expect(notifierStats()!.infoCut).toBe(0);
  });

  it('info that cannot fit even with every string cut becomes one cut marker', async () => {
    const driver = new RecordingDriver();
    configure({ driver, host: 'h', flushIntervalMs: 5, maxInfoBytes: 256 });
    run({ hmacKey: 'k', baseId: 'N' }, () => traced('x', { nums: Array.from({ length: 500 }, (_, i) => i) }, () => 0));
    await flush();
    const info = driver.byBase('N')[0].info as Record<string, unknown>;
    expect(info.cut).toMatch(/^\.\.\. \[cut, length \d+\]$/);
    expect(info.host).toBe('h');
  });
});
