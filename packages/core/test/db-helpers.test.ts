import { describe, expect, it } from 'vitest';
import { get, run, setTraceDb, untraced } from '../src/index';
import { boundStatement, CUT_MARKER, resolveDbOptions, sqlInfo, traceDbOn } from '../src/instrument';

describe('untraced', () => {
  it('runs work (and the timers it creates) outside the trace', async () => {
    const seen = await run({ hmacKey: 'k', baseId: 'u1' }, async () => {
      const inside = get()?.baseId;
      const fromTimer = await untraced(() => new Promise<string | undefined>((resolve) => setTimeout(() => resolve(get()?.baseId), 1)));
      return { inside, outside: untraced(() => get()?.baseId), fromTimer, after: get()?.baseId };
    });
    expect(seen).toEqual({ inside: 'u1', outside: undefined, fromTimer: undefined, after: 'u1' });
  });
});

describe('sql point info', () => {
  it('hides params unless asked, bounds long statements with a marker', () => {
    expect(sqlInfo('select ? as v', [21], false, 4096)).toEqual({ db: { statement: 'select ? as v' } });
    expect(sqlInfo('select ? as v', [21, 1n, new Date(0), Buffer.from('ab')], true, 4096, 1.5)).toEqual({
      db: { statement: 'select ? as v', params: [21, '1', '1970-01-01T00:00:00.000Z', '<2 bytes>'], pool_wait_ms: 1.5 },
    });
    const long = 'x'.repeat(100);
    expect(boundStatement(long, 40)).toBe(`${'x'.repeat(40)}${CUT_MARKER}100]`);
  });

  it('a statement seen again shares one frozen info (formatted once); params, a pool wait or a cut make their own', () => {
    const sql = 'select "v" from "t" where "id" = ? -- shared';
    const first = sqlInfo(sql, [1], false, 4096);
    const second = sqlInfo(sql, [2], false, 4096);
    expect([first, second]).toEqual([{ db: { statement: sql } }, { db: { statement: sql } }]);
    expect([Object.isFrozen(first), Object.isFrozen(second)]).toEqual([false, true]);
    expect(sqlInfo(sql, [3], false, 4096)).toBe(second);
    expect(sqlInfo(sql, [3], true, 4096)).toEqual({ db: { statement: sql, params: [3] } });
    expect(sqlInfo(sql, undefined, false, 4096, 2)).toEqual({ db: { statement: sql, pool_wait_ms: 2 } });
    expect(sqlInfo(sql, undefined, false, 16)).toEqual({ db: { statement: boundStatement(sql, 16) } });
  });

  it('one-off statements (values written into the SQL) do not keep a repeated one out of the cache', () => {
    for (let i = 0; i < 5000; i++) sqlInfo(`select ${i} -- one-off`, undefined, false, 4096);
    const sql = 'select "w" from "t" -- after one-offs';
    sqlInfo(sql, undefined, false, 4096);
    const info = sqlInfo(sql, undefined, false, 4096);
    expect(Object.isFrozen(info)).toBe(true);
    expect(sqlInfo(sql, undefined, false, 4096)).toBe(info);
  });

  it('options: explicit over env over defaults, bad env values ignored', () => {
    const before = { ...process.env };
    try {
      process.env.OSPROFILER_DB_SHOW_PARAMS = 'yes';
      process.env.OSPROFILER_DB_MAX_STATEMENT_LENGTH = 'lots';
      expect(resolveDbOptions({})).toEqual({ traceDb: undefined, showParams: true, maxStatementLength: 4096 });
      expect(resolveDbOptions({ showParams: false, maxStatementLength: 3 })).toMatchObject({ showParams: false, maxStatementLength: 16 });
    } finally {
      process.env = before;
    }
  });

  it('trace_db switch: per-instance option, then setTraceDb, then config', () => {
    setTraceDb(true);
    expect(traceDbOn(undefined)).toBe(true);
    expect(traceDbOn(false)).toBe(false);
    expect(traceDbOn(() => true)).toBe(true);
    setTraceDb(undefined);
    expect(typeof traceDbOn(undefined)).toBe('boolean');
  });
});
