import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../src/drivers/memory';
import { failureCounts } from '../src/failures';
import type { Notification } from '../src/notification';
import { formatReportJson } from '../src/report';
import { pyDumps } from '../src/pyjson';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures/redis-trace.json'), 'utf8')).redis_trace as {
  base_id: string;
  'LRANGE_0_-1_newest_first': string[];
  get_report: unknown;
};
const lrange = fixture['LRANGE_0_-1_newest_first'];
/** The fixture's notifications in the order Python emitted (LPUSHed) them. */
const emitted = (): Notification[] => [...lrange].reverse().map((s) => JSON.parse(s) as Notification);

function note(baseId: string, name: string, timestamp: string, info: Record<string, unknown> = {}): Notification {
  return { name, base_id: baseId, trace_id: `${baseId}-t`, parent_id: baseId, timestamp, info: { ...info, host: 'h' }, project: null, service: null };
}

describe('memory:// driver', () => {
  it('stores what Python stores, byte for byte, and reports what Python reports', async () => {
    const d = new MemoryDriver();
    d.notify(emitted());
    expect(d.rawEvents(fixture.base_id)).toEqual([...lrange].reverse());
    const report = await d.getReport(fixture.base_id);
    expect(report).toEqual(fixture.get_report);
    expect(formatReportJson(report)).toBe(pyDumps(fixture.get_report, { indent: 2, separators: [',', ': '] }));
  });

  it('keeps a copy: later changes to the caller objects do not leak in', async () => {
    const d = new MemoryDriver();
    const n = note('a1', 'x-start', '2026-01-01T00:00:00.000001');
    d.notify([n]);
    n.info.host = 'changed';
    const r = await d.getReport('a1');
    expect(r.children[0].info.host).toBe('h');
  });

  it('unknown trace: the empty report', async () => {
    const r = await new MemoryDriver().getReport('nope');
    expect(r.info.finished).toBeNull();
    expect(r.children).toEqual([]);
  });

  it('lists traces newest first, with a limit', async () => {
    const d = new MemoryDriver();
    d.notify([note('a', 'x-start', '2026-01-01T00:00:01.000000'), note('b', 'x-start', '2026-01-01T00:00:03.000000')]);
    d.notify([note('c', 'x-start', '2026-01-01T00:00:02.000000'), note('a', 'x-stop', '2026-01-01T00:00:09.000000')]);
    expect(await d.listTraces()).toEqual([
      { base_id: 'b', timestamp: '2026-01-01T00:00:03.000000' },
      { base_id: 'c', timestamp: '2026-01-01T00:00:02.000000' },
      { base_id: 'a', timestamp: '2026-01-01T00:00:01.000000' },
    ]);
    expect((await d.listTraces({ limit: 2 })).map((t) => t.base_id)).toEqual(['b', 'c']);
  });

  it('indexes errors only with filterErrorTrace and a non-null etype; the last error wins', async () => {
    const events = [
      note('e1', 'x-stop', '2026-01-01T00:00:01.000000', { etype: 'ValueError' }),
      note('e1', 'y-stop', '2026-01-01T00:00:05.000000', { etype: 'KeyError' }),
      note('e2', 'x-stop', '2026-01-01T00:00:02.000000', { etype: null }),
      note('e3', 'x-stop', '2026-01-01T00:00:03.000000'),
    ];
    const off = new MemoryDriver();
    off.notify(events);
    expect(await off.listErrorTraces()).toEqual([]);
    const on = new MemoryDriver({ filterErrorTrace: true });
    on.notify(events);
    expect(await on.listErrorTraces()).toEqual([{ base_id: 'e1', timestamp: '2026-01-01T00:00:05.000000' }]);
  });

  it('named stores are shared in the process, unnamed ones are private', async () => {
    const w = new MemoryDriver({}, 'shared-1');
    const r = new MemoryDriver({}, 'shared-1');
    const other = new MemoryDriver();
    w.notify([note('s', 'x-start', '2026-01-01T00:00:01.000000')]);
    expect((await r.listTraces()).map((t) => t.base_id)).toEqual(['s']);
    expect(await other.listTraces()).toEqual([]);
    r.clear();
    expect(await w.listTraces()).toEqual([]);
    await w.flush();
    await w.close();
  });

  it('notify never throws: an unserialisable event is counted and skipped', async () => {
    const d = new MemoryDriver();
    const bad = note('z', 'x-start', '2026-01-01T00:00:01.000000');
    (bad.info as Record<string, unknown>).self = bad.info;
    const before = failureCounts()['driver.memory.notify'] ?? 0;
    expect(() => d.notify([bad, note('z', 'x-stop', '2026-01-01T00:00:02.000000')])).not.toThrow();
    expect(failureCounts()['driver.memory.notify']).toBe(before + 1);
    expect((await d.getReport('z')).children[0].info.name).toBe('x');
  });
});
