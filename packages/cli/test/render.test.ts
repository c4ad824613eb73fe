import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '@osprofiler/core';
import { dotQuote, renderDot } from '../src/render/dot';
import { renderTree } from '../src/render/tree';
import { displayWidth, truncate } from '../src/render/text';
import { fixtures, hasPython, python, tempDir } from './helpers';
import { mixedReport, node, report } from './report-builders';

const PY_DOT = `
import json, sys
from osprofiler.cmd import commands
report = json.load(open(sys.argv[1]))
sys.stdout.write(commands.TraceCommands()._create_dot_graph(report).source)
`;
// Python's OSProfiler and python-graphviz are the reference (tools/scripts/setup-machine.sh
// installs them): missing, these comparisons fail rather than skip.
const havePyGraphviz = hasPython('osprofiler.cmd.commands, graphviz');

function pythonDot(r: Report): string {
  const path = join(tempDir(), 'r.json');
  writeFileSync(path, JSON.stringify(r));
  const out = python(PY_DOT, path);
  expect(out.stderr.replace(/^.*DotSyntaxWarning.*\n.*\n?/gm, '')).toBe('');
  expect(out.status).toBe(0);
  return out.stdout;
}

describe('renderDot', () => {
  it('matches the fixture layout (numbering, edge order, labels)', () => {
    const dot = renderDot(fixtures().redis_trace.get_report as unknown as Report);
    expect(dot).toBe(
      [
        'digraph {',
        '\t0 [label="total - 19 ms"]',
        '\t1 [label="myservice:level1 - 19 ms"]',
        '\t2 [label="myservice:level2 - 7 ms"]',
        '\t3 [label="myservice:level3 - 4 ms"]',
        '\t4 [label="myservice:db - 0 ms"]',
        '\t3 -> 4',
        '\t2 -> 3',
        '\t1 -> 2',
        '\t5 [label="myservice:failing - 0 ms"]',
        '\t1 -> 5',
        '\t0 -> 1',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('needs Python OSProfiler and python-graphviz for the comparisons below', () => {
    expect(havePyGraphviz, '/usr/bin/python3 cannot import osprofiler.cmd.commands and graphviz (apt-get install python3-osprofiler python3-graphviz)').toBe(true);
  });

  it.skipIf(!havePyGraphviz)('keeps Python\'s cut of rpc labels at the last "." even inside an IP address, byte for byte', () => {
    // `info.function.name` of a Node rpc point holds the URL; Python labels rpc and driver
    // points with the text after its last '.', so an IP address is cut too. Kept as is.
    const r = report([
      node({ name: 'rpc', service: 'api', started: 0, finished: 12, startInfo: { function: { name: 'GET 10.0.0.17:8080/orders/:id' } } }),
      node({ name: 'rpc', service: 'api', started: 13, finished: 20, startInfo: { function: { name: 'POST 127.0.0.1/x' } } }),
      node({ name: 'driver', service: 'api', started: 21, finished: 30, startInfo: { function: { name: 'no_dots_at_all' } } }),
    ]);
    const dot = renderDot(r);
    expect(dot).toContain('\t1 [label="api:rpc - 12 ms\\n17:8080/orders/:id"]');
    expect(dot).toContain('\t2 [label="api:rpc - 7 ms\\n1/x"]');
    expect(dot).toContain('\t3 [label="api:driver - 9 ms\\nno_dots_at_all"]');
    expect(dot).toBe(pythonDot(r));
  });

  it.skipIf(!havePyGraphviz)('is byte-identical to Python _create_dot_graph for the fixture', () => {
    const r = fixtures().redis_trace.get_report as unknown as Report;
    expect(renderDot(r)).toBe(pythonDot(r));
  });

  it.skipIf(!havePyGraphviz)('is byte-identical to Python for wsgi/rpc/driver labels, quotes and backslashes', () => {
    const r = mixedReport();
    const dot = renderDot(r);
    expect(dot).toContain('\\nGET /v2/servers/\\"quoted\\"/and/a/ver.."]');
    expect(dot).toContain('api:rpc - 55 ms\\nGET orders:8080/orders/:id');
    expect(dot).toContain('api:driver - 29 ms\\nfind');
    expect(dot).toBe(pythonDot(r));
  });

  it.skipIf(!havePyGraphviz)('quotes identifiers exactly like graphviz.quoting.quote', () => {
    const samples = [
      'spam', 'spam spam', '0', '-4.2', '.42', '4.', 'node', 'Graph', '<<b>x</b>>', '<>', '""', 'a"b', 'a\\"b',
      'a\\\\"b', 'ends\\', 'tab\there', 'x\n', 'ünï', '_id9', '9abc', 'new\nline',
    ];
    const py = python(
      'import json,sys\nfrom graphviz.quoting import quote\nprint(json.dumps([quote(s) for s in json.loads(sys.argv[1])]))',
      JSON.stringify(samples),
    );
    expect(py.status).toBe(0);
    expect(samples.map(dotQuote)).toEqual(JSON.parse(py.stdout));
  });

  it('leaves out the service prefix when it is null (Python would crash)', () => {
    const dot = renderDot(report([node({ name: 'x', service: null, started: 0, finished: 3 })]));
    expect(dot).toContain('\t1 [label="x - 3 ms"]');
  });
});

describe('renderTree', () => {
  const fixtureReport = (): Report => fixtures().redis_trace.get_report as unknown as Report;

  it('shows header, tree, durations, bars and details for the fixture', () => {
    const text = renderTree(fixtureReport());
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('trace bbbbbbbb-0000-4000-8000-000000000001  total 19 ms, 5 points, 1 error');
    expect(lines[1]).toMatch(/^\s+start\s+duration \|0-19 ms\s*\| point \(service\) detail$/);
    expect(lines.slice(2)).toEqual([
      '     +0     19 ms |████████████████████| level1 (myservice)  GET /demo?a=1',
      '    +11      7 ms |···········████████·| ├─ level2 (myservice)  __main__.level2',
      '    +12      4 ms |············█████···| │  └─ level3 (myservice)',
      '    +15      0 ms |···············█····| │     └─ db (myservice)  SELECT ? AS v',
      '    +18      0 ms |··················█·| └─ failing (myservice)  ERROR RuntimeError: kaboom __main_…',
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('describes wsgi, rpc, driver, db, sql, exec points and errors', () => {
    const text = renderTree(mixedReport());
    expect(text).toContain('wsgi (api)  GET /v2/servers/"quoted"/and/a/very/long/path/…');
    expect(text).toContain('wsgi (orders)  GET /orders/1\n');
    expect(renderTree(mixedReport(), { width: 200 })).toContain('GET /v2/servers/"quoted"/and/a/very/long/path/beyond/thirty/chars?limit=1 -> 200\n');
    expect(text).toContain('rpc (api)  GET orders:8080/orders/:id -> 404');
    expect(text).toContain('driver (api)  app.services.UserService.find');
    expect(text).toContain('db (api)  knex.select (3 rows)');
    expect(text).toContain('sql (api)  (no stop event) SELECT * FROM users WHERE id…\n');
    expect(renderTree(mixedReport(), { width: 200 })).toContain('sql (api)  (no stop event) SELECT * FROM users WHERE id = $1\n');
    expect(text).toContain('ERROR RuntimeError: boom');
    expect(text).toContain('exec (api)  git exit 2');
    for (const line of text.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(100);
  });

  it('never exceeds 100 columns: long names, services, SQL, wide characters, deep nesting', () => {
    let deep = node({ name: 'leaf', started: 10, finished: 11, startInfo: { db: { statement: 'SELECT ' + 'x, '.repeat(300) } } });
    for (let i = 0; i < 60; i++) {
      deep = node({ name: `level${i}`, service: 'service-with-a-rather-long-name-'.repeat(3), started: 0, finished: 100000 - i, children: [deep] });
    }
    const r = report([
      node({ name: 'n'.repeat(300), service: '服务'.repeat(80), started: 0, finished: 5, startInfo: { function: { name: '函数'.repeat(100) } } }),
      node({ name: 'sql', started: 1, finished: 2, startInfo: { db: { statement: 'UPDATE t SET a = 1\r\n\t WHERE ' + 'b = 2 AND '.repeat(50) } } }),
      deep,
    ], { dropped: 7 });
    const text = renderTree(r, { baseId: 'id-' + 'x'.repeat(200) });
    const lines = text.trimEnd().split('\n');
    for (const line of lines) {
      expect(displayWidth(line)).toBeLessThanOrEqual(100);
      expect([...line].length).toBeLessThanOrEqual(100);
    }
    expect(lines[0]).toContain('…');
    expect(lines[1]).toBe('warning: the trace is incomplete: dropped = 7 (events were lost before storage)');
    expect(text).toContain('UPDATE t SET a = 1 WHERE b = 2');
    expect(text).not.toMatch(/[\r\t]/);
    expect(lines.some((l) => l.includes('…') && l.includes('└─ leaf'))).toBe(true);
    expect(lines.filter((l) => l.endsWith('…')).length).toBeGreaterThan(3);
  });

  it('handles a report without points and a zero total', () => {
    expect(renderTree({ info: { name: 'total', started: 0, finished: null, last_trace_started: null }, children: [], stats: {} } as Report, { baseId: 'abc' })).toBe(
      'trace abc  total 0 ms, 0 points\n(no trace points)\n',
    );
    const zero = renderTree(report([node({ name: 'a', started: 0, finished: 0 })]));
    expect(zero).toContain('|█···················| a (svc)');
  });
});

describe('text helpers', () => {
  it('truncates by display width with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('漢字漢字', 5)).toBe('漢字…');
    expect(displayWidth('漢字a')).toBe(5);
  });
});
