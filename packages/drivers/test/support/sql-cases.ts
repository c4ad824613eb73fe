/** The behaviour every SQL driver must have, run against each real server. */
import { searchContract } from '../../../../tools/testing/search-contract';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { configure, createDriver, flush, formatReportJson, MemoryDriver, pyDumps, shutdown } from '@osprofiler/core';
import { linesOfNotifications } from '@osprofiler/core/instrument';
import type { Driver, Notification } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../../src/register'; // registers the schemes with core
import { SqlDriver } from '../../src/index';
import { uniquePrefix, type SqlAccess } from './sql';
import { everyKind, inTrace, threeLevels } from './trace';

function note(baseId: string, name: string, traceId: string, us: number, info: Record<string, unknown> = {}): Notification {
  return {
    name,
    base_id: baseId,
    trace_id: traceId,
    parent_id: baseId,
    timestamp: `2026-11-23T05:00:00.${String(us).padStart(6, '0')}`,
    info: { ...info, host: 'h' },
    project: 'p',
    service: 's',
  };
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export function sqlDriverCases(label: string, access: () => SqlAccess): void {
  const prefix = uniquePrefix();
  let sql: SqlAccess;
  let driver: SqlDriver;
  const cs = (query = ''): string => `${sql.url}?table_prefix=${prefix}${query}`;
  /** A trace's stored rows in write order, its base_id written as B (to compare traces). */
  const rowsOf = async (b: string) =>
    (await sql.query<{ event: string; trace_id: string; name: string; ts: unknown; project: string | null; service: string | null }>(
      `SELECT event, trace_id, name, ts, project, service FROM ${prefix}osprofiler_points WHERE base_id = ${sql.dialect === 'mysql' ? '?' : '$1'} ORDER BY id`, [b]))
      .map((r) => ({ ...r, ts: String(r.ts), event: r.event.split(b).join('B'), trace_id: r.trace_id.split(b).join('B') }));

  beforeAll(async () => {
    sql = access();
    driver = (await createDriver(cs(), { filterErrorTrace: true })) as SqlDriver;
  });
  afterAll(async () => {
    await driver?.close();
    await sql.dropTables(prefix);
    expect(await sql.tables(prefix)).toEqual([]);
    await sql.close();
  });

  describe(`${label}: schema and writes`, () => {
    it('creates its tables on first use, and a second driver (or process) reuses them', async () => {
      expect(driver).toBeInstanceOf(SqlDriver);
      // postgresql keeps a trace's tags in its summary row (a GIN index), mysql in a table of their own.
      const tagTable = sql.dialect === 'mysql' ? [`${prefix}osprofiler_tags`] : [];
      expect(await sql.tables(prefix)).toEqual([`${prefix}osprofiler_errors`, `${prefix}osprofiler_points`, ...tagTable, `${prefix}osprofiler_traces`]);
      const [a, b] = await Promise.all([createDriver(cs()), createDriver(cs())]);
      await Promise.all([a.close(), b.close()]);
    });

    it('stores each notification as the JSON text Python would store, read back newest first', async () => {
      const b = randomUUID();
      const batch = [note(b, 'x-start', 'tx', 1, { é: 'ü\t\\n' }), note(b, 'x-stop', 'tx', 2)];
      await driver.notify(batch);
      const rows = await sql.query<{ event: string; ts: string; name: string }>(
        `SELECT event, ts, name FROM ${prefix}osprofiler_points WHERE base_id = ${sql.dialect === 'mysql' ? '?' : '$1'} ORDER BY id`,
        [b],
      );
      expect(rows.map((r) => r.event)).toEqual(batch.map((n) => pyDumps(n)));
      expect(rows.map((r) => String(r.ts))).toEqual([String(Date.UTC(2026, 10, 23, 5) * 1000 + 1), String(Date.UTC(2026, 10, 23, 5) * 1000 + 2)]);
      const memory = new MemoryDriver();
      memory.notify(batch);
      expect(formatReportJson(await driver.getReport(b))).toBe(formatReportJson(await memory.getReport(b)));
    });

    it('notifyLines stores each line as it is: the same rows and summary as notify, with or without an index, in any key order', async () => {
      const batchOf = (b: string): Notification[] => [
        { ...note(b, 'wsgi-start', `${b}-1`, 1, { request: { method: 'GET', path: '/o\'r"d\\é\t' } }), parent_id: b },
        note(b, 'db-start', `${b}-2`, 2, { db: { statement: 'SELECT "x" FROM t', params: [1.5, null] } }),
        { ...note(b, 'db-stop', `${b}-2`, 3, { etype: 'ValueError', message: 'bad\nline' }), project: null },
        note(b, 'na"me\\-stop', `${b}-3`, 4),
        { ...note(b, 'wsgi-stop', `${b}-1`, 5), parent_id: b, service: 'tab\tservice' },
      ];
      const viaNotify = randomUUID();
      const withIndex = randomUUID();
      const noIndex = randomUUID();
      const reordered = randomUUID();
      await driver.notify(batchOf(viaNotify));
      await driver.notifyLines(linesOfNotifications(batchOf(withIndex)));
      // As the agent hands them: a class whose fields are getters, without an index.
      const plain = linesOfNotifications(batchOf(noIndex));
      await driver.notifyLines(new (class {
        readonly baseIds = plain.baseIds;
        readonly timestamps = plain.timestamps;
        get lines() { return plain.lines; }
        get errors() { return plain.errors; }
      })());
      // Lines laid out otherwise (keys in another order, as another writer may): parsed for their columns.
      const other = linesOfNotifications(batchOf(reordered).map(({ name, ...rest }) => ({ ...rest, name }) as Notification));
      await driver.notifyLines({ ...other, index: undefined });
      const expected = await rowsOf(viaNotify);
      expect(expected.map((r) => r.event)).toEqual(batchOf(viaNotify).map((n) => pyDumps(n).split(viaNotify).join('B')));
      expect(expected.map((r) => r.name)).toEqual(['wsgi-start', 'db-start', 'db-stop', 'na"me\\-stop', 'wsgi-stop']);
      expect(await rowsOf(withIndex)).toEqual(expected);
      expect(await rowsOf(noIndex)).toEqual(expected);
      const moved = await rowsOf(reordered);
      expect(moved.map((r) => r.event)).toEqual(other.lines.map((l) => l.split(reordered).join('B')));
      expect(moved.map(({ event: _e, ...cols }) => cols)).toEqual(expected.map(({ event: _e, ...cols }) => cols));
      const page = await driver.searchTraces({ limit: 1000 });
      const summary = (b: string) => ({ ...page.traces.find((t) => t.base_id === b), base_id: 'B' });
      expect(summary(viaNotify)).toMatchObject({ root_name: 'wsgi', root_detail: 'GET /o\'r"d\\é\t', points: 2, error: true });
      for (const b of [withIndex, noIndex, reordered]) expect(summary(b)).toEqual(summary(viaNotify));
      expect((await driver.listErrorTraces()).map((t) => t.base_id)).toEqual(expect.arrayContaining([viaNotify, withIndex, noIndex, reordered]));
      expect(formatReportJson(await driver.getReport(noIndex)).split(noIndex).join('B')).toBe(formatReportJson(await driver.getReport(viaNotify)).split(viaNotify).join('B'));
    });

    it('notifyLines with the lines\' bytes (LineBatch.buffers) stores the rows their text gives, raw tabs and bytes >= 0x80 included; a resent batch is stored once', async () => {
      const batchOf = (b: string): Notification[] => [
        note(b, 'wsgi-start', `${b}-1`, 1, { request: { method: 'GET', path: '/o\'r"d\\é\t' } }),
        note(b, 'db-start', `${b}-2`, 2, { db: { statement: 'SELECT "x" FROM t' } }),
        { ...note(b, 'db-stop', `${b}-2`, 3, { etype: 'ValueError', message: 'bad\nline' }), project: null },
        note(b, 'wsgi-stop', `${b}-1`, 4),
      ];
      // Nothing checks a line byte by byte: raw bytes COPY must escape, in the head (name) and
      // the body. `json` keeps the lines JSON (raw bytes >= 0x80 only), for the batch without
      // an index, whose lines are parsed; otherwise raw tabs and CRs too.
      const raw = (lines: readonly string[], json: boolean): string[] =>
        lines.map((l, i) => (i === 0 ? l.replace('"wsgi-start"', json ? '"wsgi\u00e9-start"' : '"wsgi\t\u00e9-start"') : l.replace('"host": "h"', json ? '"host": "h\u00ff\\\\"' : '"host": "h\t\r\u00ff\\\\"')));
      const asText = (b: string, json: boolean): LineBatch => {
        const x = linesOfNotifications(batchOf(b));
        return { ...x, lines: raw(x.lines, json) };
      };
      const asBytes = (b: string, json: boolean, index: boolean): LineBatch => {
        const x = asText(b, json);
        // One body, each line a view of it, strings made only when read: as the agent and the collector hand them.
        const body = Buffer.from(x.lines.join('\n'), 'latin1');
        let pos = 0;
        const buffers = x.lines.map((l) => body.subarray(pos, (pos += l.length + 1) - 1));
        return { baseIds: x.baseIds, timestamps: x.timestamps, errors: x.errors, buffers, get lines() { return buffers.map((v) => v.toString('latin1')); }, index: index ? x.index : undefined };
      };
      const [text, bytes, textJson, bytesNoIndex] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const failed = driver.counters.failed;
      await driver.notifyLines(asText(text, false));
      await driver.notifyLines(asBytes(bytes, false, true));
      await driver.notifyLines(asText(textJson, true));
      await driver.notifyLines(asBytes(bytesNoIndex, true, false));
      await driver.notifyLines(asBytes(bytes, false, true)); // resent: duplicates, ignored
      expect(driver.counters.failed).toBe(failed);
      const expected = await rowsOf(text);
      expect(expected.map((r) => r.name)).toEqual(['wsgi\t\u00e9-start', 'db-start', 'db-stop', 'wsgi-stop']);
      expect(expected[1].event).toContain('"host": "h\t\r\u00ff\\\\"');
      expect(await rowsOf(bytes)).toEqual(expected);
      const expectedJson = await rowsOf(textJson);
      expect(expectedJson.map((r) => r.name)).toEqual(['wsgi\u00e9-start', 'db-start', 'db-stop', 'wsgi-stop']);
      expect(await rowsOf(bytesNoIndex)).toEqual(expectedJson);
    });

    it('notifyLines leaves out (and counts) a line that is not a JSON object or whose timestamp Python cannot read', async () => {
      const b = randomUUID();
      const good = linesOfNotifications([note(b, 'ok-start', `${b}-ok`, 1)]);
      const failed = driver.counters.failed;
      await driver.notifyLines({
        baseIds: [b, b, b],
        timestamps: [good.timestamps[0], good.timestamps[0], 'yesterday'],
        lines: [good.lines[0], '{"name": "broken', pyDumps(note(b, 'late-start', `${b}-late`, 2))],
        errors: null,
      });
      expect(driver.counters.failed - failed).toBe(2);
      expect((await driver.getReport(b)).children.map((c) => c.info.name)).toEqual(['ok']);
    });

    it('ignores a point written twice (unique trace_id + name)', async () => {
      const b = randomUUID();
      const batch = [note(b, 'x-start', 'td', 1), note(b, 'x-stop', 'td', 2)];
      const failed = driver.counters.failed;
      await driver.notify(batch);
      await driver.notify([...batch, note(b, 'y-start', 'te', 3), note(b, 'y-start', 'te', 3)]);
      const rows = await sql.query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM ${prefix}osprofiler_points WHERE base_id = ${sql.dialect === 'mysql' ? '?' : '$1'}`,
        [b],
      );
      expect(Number(rows[0].n)).toBe(3);
      expect(driver.counters.failed).toBe(failed);
    });

    it('indexes error traces (latest error wins) and lists traces newest first', async () => {
      const b1 = randomUUID();
      const b2 = randomUUID();
      await driver.notify([note(b1, 'x-start', 'a1', 10), note(b1, 'x-stop', 'a1', 20, { etype: 'ValueError' })]);
      await driver.notify([note(b1, 'y-stop', 'a2', 30, { etype: 'TypeError' }), note(b2, 'x-start', 'a3', 40), note(b2, 'x-stop', 'a3', 50, { etype: null })]);
      const errors = await driver.listErrorTraces();
      expect(errors.find((t) => t.base_id === b1)).toEqual({ base_id: b1, timestamp: '2026-11-23T05:00:00.000030' });
      expect(errors.some((t) => t.base_id === b2)).toBe(false);
      const traces = (await driver.listTraces()).filter((t) => t.base_id === b1 || t.base_id === b2);
      expect(traces).toEqual([
        { base_id: b2, timestamp: '2026-11-23T05:00:00.000040' },
        { base_id: b1, timestamp: '2026-11-23T05:00:00.000010' },
      ]);
      expect(await driver.listTraces({ limit: 1 })).toHaveLength(1);
    });
  });

  describe(`${label}: round trip through core`, () => {
    afterEach(() => shutdown());

    it.each([
      ['a 3-level trace', threeLevels],
      ['a trace with every kind and an error', everyKind],
    ])('%s reads back as the memory driver reports it', async (_name, body) => {
      const memory = new MemoryDriver();
      const tee: Driver = {
        scheme: 'tee',
        async notify(batch) {
          memory.notify(batch);
          await driver.notify(batch);
        },
        getReport: (id) => driver.getReport(id),
        listTraces: (o) => driver.listTraces(o),
        listErrorTraces: (o) => driver.listErrorTraces(o),
        flush: (t) => driver.flush(t),
        close: async () => undefined,
      };
      configure({ driver: tee, project: 'shop', service: 'orders', flushIntervalMs: 5 });
      const b = await inTrace(body);
      await flush();
      const report = await driver.getReport(b);
      expect(report.children[0].info.name).toBe('wsgi');
      expect(formatReportJson(report)).toBe(formatReportJson(await memory.getReport(b)));
    });

    it('configure({ connectionString }) stores through it', async () => {
      configure({ connectionString: cs(), service: 'orders', flushIntervalMs: 5 });
      const b = await inTrace(threeLevels);
      await flush();
      expect((await driver.getReport(b)).stats).toEqual({
        wsgi: { count: 1, duration: expect.any(Number) },
        driver: { count: 1, duration: expect.any(Number) },
        db: { count: 1, duration: expect.any(Number) },
      });
    });
  });

  describe(`${label}: search`, () => {
    searchContract({ driver: () => driver, write: async (batches) => { for (const b of batches) await driver.notify(b); } });
  });

  describe(`${label}: bounded text search`, () => {
    it('examines at most textBound traces per call; the cursor goes on and finds older hits', async () => {
      const own = uniquePrefix();
      const d = (await createDriver(`${sql.url}?table_prefix=${own}`)) as SqlDriver;
      try {
        d.textBound = 10;
        const t0 = Date.UTC(2026, 10, 23, 6);
        const ids: string[] = [];
        for (let i = 0; i < 30; i++) {
          const b = randomUUID();
          ids.push(b);
          const statement = i === 0 || i === 29 ? `SELECT needle FROM t${i}` : `SELECT hay FROM t${i}`;
          const at = (us: number) => `${new Date(t0 + i * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}`;
          await d.notify([
            { ...note(b, 'db-start', `${b}-1`, 0, { db: { statement } }), timestamp: at(0) },
            { ...note(b, 'db-stop', `${b}-1`, 0), timestamp: at(10) },
          ]);
        }
        const pages: string[][] = [];
        let cursor: string | null | undefined;
        do {
          const page = await d.searchTraces({ text: 'NEEDLE', limit: 5, ...(cursor ? { cursor } : {}) });
          pages.push(page.traces.map((t) => t.base_id));
          cursor = page.cursor;
        } while (cursor !== null && pages.length < 10);
        // Windows of 10: [29..20] holds the newest hit, [19..10] none, [9..0] the oldest, then an empty one ends it.
        expect(pages).toEqual([[ids[29]], [], [ids[0]], []]);
        d.textBound = 5_000;
        expect((await d.searchTraces({ text: 'needle', limit: 5 })).traces.map((t) => t.base_id)).toEqual([ids[29], ids[0]]);
        expect((await d.searchTraces({ text: 'needle', limit: 1 })).cursor).not.toBeNull();
      } finally {
        await d.close();
        await sql.dropTables(own);
      }
    });
  });

  describe(`${label}: retention`, () => {
    it('?max_age= prunes points and error entries stored longer ago than that', async () => {
      const aging = (await createDriver(cs('&max_age=7d&prune_interval=1h'), { filterErrorTrace: true })) as SqlDriver;
      try {
        expect(aging.settings.maxAgeMs).toBe(7 * 86_400_000);
        const old = randomUUID();
        const young = randomUUID();
        await aging.notify([note(old, 'x-start', randomUUID(), 1), note(old, 'x-stop', 'o2' + old, 2, { etype: 'E' })]);
        await aging.notify([note(young, 'x-start', randomUUID(), 3)]);
        const p = sql.dialect === 'mysql' ? '?' : '$1';
        const ago = sql.dialect === 'mysql' ? 'NOW(6) - INTERVAL 8 DAY' : "now() - interval '8 days'";
        await sql.query(`UPDATE ${prefix}osprofiler_points SET created_at = ${ago} WHERE base_id = ${p}`, [old]);
        await sql.query(`UPDATE ${prefix}osprofiler_errors SET created_at = ${ago} WHERE base_id = ${p}`, [old]);
        await sql.query(`UPDATE ${prefix}osprofiler_traces SET created_at = ${ago} WHERE base_id = ${p}`, [old]);
        if (sql.dialect === 'mysql') await sql.query(`UPDATE ${prefix}osprofiler_tags SET created_at = ${ago} WHERE base_id = ${p}`, [old]);
        const pruned = await aging.prune();
        expect(pruned.traces).toBeGreaterThanOrEqual(1);
        for (const index of sql.dialect === 'mysql' ? ['traces', 'tags'] : ['traces']) {
          expect(await sql.query(`SELECT base_id FROM ${prefix}osprofiler_${index} WHERE base_id = ${p}`, [old])).toEqual([]);
        }
        expect((await aging.searchTraces({ limit: 1000 })).traces.map((t) => t.base_id)).toContain(young);
        expect((await aging.searchTraces({ limit: 1000 })).traces.map((t) => t.base_id)).not.toContain(old);
        expect(pruned.points).toBeGreaterThanOrEqual(2);
        expect(pruned.errors).toBeGreaterThanOrEqual(1);
        expect((await aging.getReport(old)).children).toEqual([]);
        expect((await aging.getReport(young)).children).toHaveLength(1);
        expect((await aging.listErrorTraces()).some((t) => t.base_id === old)).toBe(false);
      } finally {
        await aging.close();
      }
    });
  });

  describe(`${label}: summaries written beside their points`, () => {
    const traceIn = (service: string, k: number): Notification[] => {
      const b = randomUUID();
      return [0, 1].map((i) => ({ ...note(b, i === 0 ? 'wsgi-start' : 'wsgi-stop', `${b}-t`, 10 * k + 5 * i), service }));
    };

    it('batches in flight together are each stored and found, with two connections a batch or (pool_size=1) one', async () => {
      for (const query of ['', '&pool_size=1']) {
        const d = (await createDriver(cs(query))) as SqlDriver;
        try {
          const service = `beside-${randomUUID()}`;
          const batches = Array.from({ length: 12 }, (_, k) => [...traceIn(service, k), ...traceIn(service, k + 100)]);
          await Promise.all(batches.map((b) => d.notify(b)));
          const ids = batches.flatMap((b) => [b[0].base_id, b[2].base_id]);
          const page = await d.searchTraces!({ service, limit: 100 });
          expect(page.traces.map((t) => t.base_id).sort()).toEqual([...ids].sort());
          for (const id of ids.slice(0, 3)) expect((await d.getReport(id)).children).toHaveLength(1);
          expect(d.counters.written).toBe(48);
          expect(d.counters.failed).toBe(0);
        } finally {
          await d.close();
        }
      }
    });

    it('a batch whose points fail leaves no summary (its transaction rolled back), and the next batch is stored', async () => {
      const own = uniquePrefix();
      const d = (await createDriver(`${sql.url}?table_prefix=${own}`)) as SqlDriver;
      try {
        const points = `${own}osprofiler_points`;
        const service = `beside-${randomUUID()}`;
        const lost = traceIn(service, 1);
        await sql.query(`ALTER TABLE ${points} RENAME TO ${points}_away`);
        await expect(d.notify(lost)).rejects.toThrow();
        expect(d.counters.failed).toBe(2);
        await sql.query(`ALTER TABLE ${points}_away RENAME TO ${points}`);
        const kept = traceIn(service, 2);
        await d.notify(kept);
        const q = sql.dialect === 'mysql' ? '?' : '$1';
        expect(await sql.query(`SELECT base_id FROM ${own}osprofiler_traces WHERE base_id = ${q}`, [lost[0].base_id])).toEqual([]);
        expect((await d.searchTraces!({ service, limit: 10 })).traces.map((t) => t.base_id)).toEqual([kept[0].base_id]);
      } finally {
        await d.close();
        await sql.dropTables(own);
      }
    });
  });

  describe(`${label}: failures`, () => {
    it('start-up failure names the scheme and host, never the password', async () => {
      const port = await closedPort();
      const url = new URL(sql.url);
      const bad = `${url.protocol}//${url.username}:s3cr%40t-pw@127.0.0.1:${port}${url.pathname}`;
      const err = (await createDriver(bad).catch((e: Error) => e)) as Error & { code?: string };
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('OSP_DRIVER_CONNECT');
      expect(err.message).toContain(`${url.protocol}// storage at 127.0.0.1:${port}${url.pathname}`);
      expect(err.message).toMatch(/ECONNREFUSED/);
      expect(err.message).not.toMatch(/s3cr/);
    });

    it('rejects a bad table prefix and bad durations', async () => {
      await expect(createDriver(`${sql.url}?table_prefix=a-b`)).rejects.toThrow(/table_prefix="a-b"/);
      await expect(createDriver(`${sql.url}?max_age=old`)).rejects.toThrow(/max_age="old" is not a duration/);
    });
  });
}
