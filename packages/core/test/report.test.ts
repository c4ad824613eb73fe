import { requirePythonOsprofiler } from './support/python-peer';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pyDumps } from '../src/pyjson';
import { buildReport, formatReportJson } from '../src/report';
import { parseTimestamp } from '../src/timestamp';
import type { ReportNode } from '../src/report-types';

// Golden data captured from python3-osprofiler 3.4.3 + Redis (shared/interop fixtures).
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures/redis-trace.json'), 'utf8')).redis_trace as {
  base_id: string;
  'LRANGE_0_-1_newest_first': string[];
  get_report: unknown;
};
const lrange = fixture['LRANGE_0_-1_newest_first'];

// The real Python report builder, when this machine has it: the oracle for edge cases.
const PY = '/usr/bin/python3';
// Interop checks fail, never skip, without the real Python library.
requirePythonOsprofiler();
const havePython = true;

function python(script: string, input: unknown): string {
  const r = spawnSync(PY, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * `osprofiler trace show --json` as Python's base driver builds it, for each list of raw
 * events (in the order given). One interpreter for all lists: importing osprofiler is slow.
 */
function pythonReports(eventLists: string[][]): string[] {
  return JSON.parse(
    python(
      `
import json, sys
from osprofiler.drivers import base
class D(base.Driver):
    pass
out = []
for events in json.load(sys.stdin):
    d = D("x://")
    for data in events:
        n = json.loads(data)
        d._append_results(n["trace_id"], n["parent_id"], n["name"], n["project"], n["service"],
                          n["info"]["host"], n["timestamp"], n)
    out.append(json.dumps(d._parse_results(), indent=2, separators=(",", ": ")))
print(json.dumps(out))
`,
      eventLists,
    ),
  ) as string[];
}

const BASE = 'bbbbbbbb-0000-4000-8000-00000000000b';
function ev(name: string, traceId: string, parentId: string, timestamp: string, info: Record<string, unknown> = {}): string {
  return pyDumps({
    name,
    base_id: BASE,
    trace_id: traceId,
    parent_id: parentId,
    timestamp,
    info: { ...info, host: 'h' },
    project: 'p',
    service: 's',
  });
}
const build = (raw: string[]) => buildReport(raw.map((r) => JSON.parse(r)));

describe('buildReport: the Redis fixture', () => {
  const report = build(lrange);

  it('is deep-equal to the report Python built', () => {
    expect(report).toEqual(fixture.get_report);
  });

  it('formats byte-identical to `trace show --json` (json.dumps indent=2)', () => {
    const text = formatReportJson(report);
    expect(text).toBe(pyDumps(report, { indent: 2, separators: [',', ': '] }));
    // Python's own formatting of the fixture report, keys in the fixture's order.
    const expected = havePython
      ? python('import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), indent=2, separators=(",", ": ")))', fixture.get_report)
      : pyDumps(fixture.get_report, { indent: 2, separators: [',', ': '] });
    expect(text).toBe(expected);
    expect(text.endsWith('}')).toBe(true);
  });

  it('keeps the Python key order (newest-first input: stop keys before start keys)', () => {
    const l1 = report.children[0];
    expect(Object.keys(l1)).toEqual(['info', 'trace_id', 'parent_id', 'children']);
    expect(Object.keys(l1.info)).toEqual([
      'name', 'project', 'service', 'host',
      'meta.raw_payload.level1-stop', 'finished', 'exception',
      'meta.raw_payload.level1-start', 'started',
    ]);
    expect(Object.keys(report.stats)).toEqual(['level1', 'failing', 'level2', 'level3', 'db']);
    expect(report.children[0].children.map((c) => c.info.name)).toEqual(['level2', 'failing']);
    expect(report.children[0].children[1].info.exception).toBe('RuntimeError');
  });

  it.skipIf(!havePython)('matches Python rebuilding it from the raw events, newest- and oldest-first', () => {
    const oldestFirst = [...lrange].reverse();
    const [newest, oldest] = pythonReports([lrange, oldestFirst]);
    expect(formatReportJson(report)).toBe(newest);
    const text = formatReportJson(build(oldestFirst));
    expect(text).toBe(oldest);
    expect(text).not.toBe(newest); // the input order shows in the key order, as in Python
  });
});

describe('buildReport: edge cases', () => {
  const T = (f: string) => `2026-11-23T02:40:${f}`;

  it('empty: finished and last_trace_started are null, no children', () => {
    const r = buildReport([]);
    expect(formatReportJson(r)).toBe(
      '{\n  "info": {\n    "name": "total",\n    "started": 0,\n    "finished": null,\n    "last_trace_started": null\n  },\n  "children": [],\n  "stats": {}\n}',
    );
  });

  const cases: Record<string, string[]> = {
    'only a start: finished copied from started, no exception key': [ev('a-start', 't1', BASE, T('49.100000'))],
    'a start whose stop never came, beside a complete span': [
      ev('b-stop', 't2', BASE, T('49.300000')),
      ev('a-start', 't1', BASE, T('49.250000')),
      ev('b-start', 't2', BASE, T('49.100000')),
    ],
    'unknown parent (foreign id from a header) is top level': [
      ev('x-stop', 't1', 'foreign-parent', T('49.200000')),
      ev('y-stop', 't2', 't1', T('49.150000')),
      ev('y-start', 't2', 't1', T('49.120000')),
      ev('x-start', 't1', 'foreign-parent', T('49.100000')),
      ev('z-start', 't3', 'other-foreign', T('49.050000')),
    ],
    'ms truncation per end and 1..6 fraction digits': [
      ev('q-stop', 't1', BASE, T('50.0189')),
      ev('q-start', 't1', BASE, T('50.01')),
      ev('r-stop', 't2', BASE, T('50.1')),
      ev('r-start', 't2', BASE, T('50.000999')),
      ev('s-start', 't3', BASE, '2026-11-23T2:40:50.5'),
    ],
    'stable sort on equal starts, stats summed, etype null and missing': [
      ev('w-stop', 'a', BASE, T('49.100000'), { etype: null }),
      ev('w-start', 'a', BASE, T('49.100000')),
      ev('w-stop', 'b', BASE, T('49.100000')),
      ev('w-start', 'b', BASE, T('49.100000')),
      ev('w-stop', 'c', BASE, T('49.400000'), { etype: 'ValueError', message: 'no' }),
      ev('w-start', 'c', BASE, T('49.100000')),
    ],
    'names cut at the first "-", "stop" suffix without a dash, odd characters': [
      ev('a-b-stop', 't1', BASE, T('49.200000')),
      ev('a-b-start', 't1', BASE, T('49.100000')),
      ev('backstop', 't2', BASE, T('49.150000')),
      ev('é"\\-start', 't3', BASE, T('49.110000'), { note: 'ü\n' }),
    ],
  };
  let expected: string[] = [];
  beforeAll(() => {
    if (havePython) expected = pythonReports(Object.values(cases));
  });
  Object.entries(cases).forEach(([title, raw], i) => {
    it.skipIf(!havePython)(`${title} (same bytes as Python)`, () => {
      expect(formatReportJson(build(raw))).toBe(expected[i]);
    });
  });

  it('only a start / only a stop: the half-seen span lasts 0 ms', () => {
    const onlyStart = build(cases['only a start: finished copied from started, no exception key']);
    expect(Object.keys(onlyStart.children[0].info)).toEqual(['name', 'project', 'service', 'host', 'meta.raw_payload.a-start', 'started', 'finished']);
    expect(onlyStart.children[0].info.exception).toBeUndefined();
    // Python raises TypeError here (no start at all => last_started_at is None); we report null.
    const onlyStop = build([ev('a-stop', 't1', BASE, T('49.100000'), { etype: 'E' })]);
    expect(onlyStop.info).toEqual({ name: 'total', started: 0, finished: 0, last_trace_started: null });
    expect(Object.keys(onlyStop.children[0].info)).toEqual([
      'name', 'project', 'service', 'host', 'meta.raw_payload.a-stop', 'finished', 'exception', 'started',
    ]);
    expect(onlyStop.children[0].info).toMatchObject({ started: 0, finished: 0, exception: 'E' });
  });

  it('unknown parent => top level, sorted by start', () => {
    const r = build(cases['unknown parent (foreign id from a header) is top level']);
    expect(r.children.map((c) => c.trace_id)).toEqual(['t3', 't1']);
    expect(r.children[1].children.map((c) => c.trace_id)).toEqual(['t2']);
  });

  it('skips and counts events Python would reject, keeps the rest', () => {
    const good = ev('a-start', 't1', BASE, T('49.100000'));
    const r = buildReport([
      JSON.parse(good),
      { ...JSON.parse(good), trace_id: 't2', timestamp: '2026-11-23T02:40:49Z' },
      { ...JSON.parse(good), trace_id: 't3', timestamp: '2026-02-30T00:00:00.1' },
      { name: 'x-start' },
      null as unknown as Record<string, unknown>,
    ]);
    expect(r.children.map((c) => c.trace_id)).toEqual(['t1']);
  });

  it('cuts a parent cycle instead of building a circular structure', () => {
    const r = build([
      ev('a-start', 't1', 't2', T('49.100000')),
      ev('b-start', 't2', 't1', T('49.200000')),
      ev('c-start', 't3', 't3', T('49.300000')),
    ]);
    const all = (nodes: ReportNode[]): string[] => nodes.flatMap((n) => [n.trace_id, ...all(n.children)]);
    expect(all(r.children).sort()).toEqual(['t1', 't2', 't3']);
    expect(r.children.map((c) => c.trace_id)).toEqual(['t1', 't3']);
    expect(() => formatReportJson(r)).not.toThrow();
  });
});

describe('parseTimestamp (Python strptime "%Y-%m-%dT%H:%M:%S.%f")', () => {
  const samples = [
    '2026-11-23T02:40:49.469407', '2026-11-23T02:40:49.5', '2026-1-5T2:4:9.123456', '2026-11-23t02:40:49.1',
    '2024-02-29T23:59:59.999999', '1970-01-01T00:00:00.000001', '1969-12-31T23:59:59.999999', '0001-01-01T00:00:00.0',
    '9999-12-31T23:59:59.999999', '2026-11- 3T02:40:49.1', '2026-11-23T02:40:60.1', '2026-02-29T00:00:00.1',
    '0000-01-01T00:00:00.1', '2026-11-23T02:40:49.1234567', '2026-11-23T02:40:49', ' 2026-11-23T02:40:49.1',
    '2026-11-23T02:40:49.1 ', '2026-11-23T02:40:49.123Z', '2026-13-01T00:00:00.1', '2026-11-23T24:00:00.1',
    // After a prefix is cached (the 26-character fast path): other digits, bad digits, a cached bad prefix's neighbours.
    '2026-11-23T02:40:49.000000', '2026-11-23T02:40:49.999999', '2026-11-23T02:40:49.46940x', '2026-11-23T02:40:49.-00001',
    '2026-11-23t02:40:49.469407', '2026-02-29T00:00:00.000001', '2026-11-23T02:40:60.000001',
  ];

  it('keeps every microsecond (no Date rounding)', () => {
    expect(parseTimestamp('2026-11-23T02:40:49.469407')).toBe(BigInt(Date.UTC(2026, 10, 23, 2, 40, 49)) * 1000n + 469407n);
    expect(parseTimestamp('2026-11-23T02:40:49.5')! - parseTimestamp('2026-11-23T02:40:49.499999')!).toBe(1n);
  });

  it.skipIf(!havePython)('accepts and rejects exactly what Python does, with the same value', () => {
    const py = JSON.parse(
      python(
        `
import json, sys, datetime
out = []
for s in json.load(sys.stdin):
    try:
        d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f") - datetime.datetime(1970, 1, 1)
        out.append(str((d.days * 86400 + d.seconds) * 1000000 + d.microseconds))
    except ValueError:
        out.append(None)
print(json.dumps(out))
`,
        samples,
      ),
    ) as (string | null)[];
    expect(samples.map((s) => parseTimestamp(s)?.toString() ?? null)).toEqual(py);
    // Again, every valid prefix now cached: the same answers.
    expect(samples.map((s) => parseTimestamp(s)?.toString() ?? null)).toEqual(py);
  });
});
