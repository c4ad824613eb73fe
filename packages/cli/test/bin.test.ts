/**
 * The real `osprofiler` binary (dist/bin.js) in separate processes, compared with the
 * Python OSProfiler CLI where that is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDriver } from '@osprofiler/core';
import type { Notification } from '@osprofiler/core';
import { displayWidth } from '../src/render/text';
import { node, report } from './report-builders';
import { BIN, fixtures, hasPython, python, runBin, tempDir, writeFixtureReport } from './helpers';

const BASE = 'bbbbbbbb-0000-4000-8000-000000000001';
const UNKNOWN = '12345678-1234-4234-8234-123456789abc';
const PY_CLI = '/usr/bin/osprofiler';
const havePyCli = existsSync(PY_CLI) && hasPython('osprofiler');
const havePyDot = havePyCli && hasPython('graphviz');

let dir: string;
let reportFile: string;
let store: string;

/** The fixture's stored events, oldest first, written through core's file driver. */
async function writeStore(path: string, filterErrorTrace: boolean): Promise<void> {
  const events = fixtures()
    .redis_trace['LRANGE_0_-1_newest_first'].map((s) => JSON.parse(s) as Notification)
    .reverse();
  const driver = await createDriver(`file://${path}`, { filterErrorTrace });
  driver.notify(events);
  await driver.flush(5000);
  await driver.close();
}

function pyCli(args: string[]): { status: number | null; stdout: string } {
  const r = python(
    'import sys; from osprofiler.cmd.shell import main; sys.argv[0] = "osprofiler"; sys.exit(main(sys.argv[1:]))',
    ...args,
  );
  return { status: r.status, stdout: r.stdout };
}

beforeAll(async () => {
  expect(existsSync(BIN), 'build first: npx tsc -p tsconfig.build.json').toBe(true);
  dir = tempDir();
  reportFile = writeFixtureReport(dir);
  store = join(dir, 'store');
  await writeStore(store, true);
});

describe('osprofiler trace show (binary)', () => {
  it('--json of a report file is byte-identical to Python json.dumps(indent=2) + print', () => {
    const expected = python(
      'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2, separators=(",", ": ")))',
      reportFile,
    );
    expect(expected.status).toBe(0);
    const r = runBin(['trace', 'show', '--json', reportFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected.stdout);
  });

  it.skipIf(!havePyCli)('--json equals the Python CLI output byte for byte, also with --out', () => {
    const py = pyCli(['trace', 'show', '--json', reportFile, '--connection-string', 'redis://unused']);
    expect(py.status).toBe(0);
    expect(runBin(['trace', 'show', '--json', reportFile]).stdout).toBe(py.stdout);
    const pyOut = join(dir, 'py-out.json');
    const jsOut = join(dir, 'js-out.json');
    expect(pyCli(['trace', 'show', '--json', reportFile, '--connection-string', 'x', '--out', pyOut]).status).toBe(0);
    const r = runBin(['trace', 'show', '--json', reportFile, '--out', jsOut]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(jsOut)).toEqual(readFileSync(pyOut));
  });

  it.skipIf(!havePyDot)('--dot equals `osprofiler trace show --dot` (Python) byte for byte, also with --out', () => {
    const py = pyCli(['trace', 'show', '--dot', reportFile, '--connection-string', 'redis://unused']);
    expect(py.status).toBe(0);
    const r = runBin(['trace', 'show', '--dot', reportFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(py.stdout);
    const pyOut = join(dir, 'py-out.dot');
    const jsOut = join(dir, 'js-out.dot');
    expect(pyCli(['trace', 'show', '--dot', reportFile, '--connection-string', 'x', '--out', pyOut]).status).toBe(0);
    expect(runBin(['trace', 'show', '--dot', reportFile, '--out', jsOut]).status).toBe(0);
    expect(readFileSync(jsOut)).toEqual(readFileSync(pyOut));
  });

  it('prints the tree by default (also when stdout is not a TTY), within 100 columns', () => {
    const r = runBin(['trace', 'show', reportFile]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`trace ${BASE}  total 19 ms, 5 points, 1 error`);
    for (const name of ['level1 (myservice)', '├─ level2', '│  └─ level3', '└─ db', '└─ failing']) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toContain('ERROR RuntimeError');
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(100);
    expect(runBin(['trace', 'show', '--tree', reportFile]).stdout).toBe(r.stdout);
  });

  it('round trip: events written with the file driver are shown from --connection-string', () => {
    const cs = `file://${store}`;
    const json = runBin(['trace', 'show', BASE, '--json', '--connection-string', cs]);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    expect(json.stdout).toBe(fixtures().redis_trace.get_report_cli_json_text + '\n');
    const tree = runBin(['trace', 'show', BASE, '--connection-string', cs]);
    expect(tree.status).toBe(0);
    expect(tree.stdout.split('\n')[0]).toBe(`trace ${BASE}  total 19 ms, 5 points, 1 error`);
  });

  it('honours OSPROFILER_CONNECTION_STRING', () => {
    const r = runBin(['trace', 'show', BASE, '--dot'], { OSPROFILER_CONNECTION_STRING: `file://${store}` });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\t0 [label="total - 19 ms"]');
    // The flag wins over the variable.
    const other = tempDir();
    const r2 = runBin(['trace', 'show', BASE, '--connection-string', `file://${other}`], { OSPROFILER_CONNECTION_STRING: `file://${store}` });
    expect(r2.status).toBe(1);
  });

  it('defaults to file:// in the per-user state directory', async () => {
    const state = tempDir();
    await writeStore(state, false);
    const r = runBin(['trace', 'show', BASE, '--json'], { OSPROFILER_STATE_DIR: state, OSPROFILER_CONNECTION_STRING: undefined });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('unknown id: the store searched on stderr, exit 1', () => {
    const r = runBin(['trace', 'show', UNKNOWN, '--connection-string', `file://${store}`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `Trace with UUID ${UNKNOWN} not found in 'file://${store}' (directory ${store}). ` +
        'Is it the store the service writes to (--connection-string, OSPROFILER_CONNECTION_STRING)?\n',
    );
  });

  it('bad arguments: usage on stderr, exit 2', () => {
    for (const args of [
      ['trace', 'show'],
      ['trace', 'show', BASE, '--json', '--dot'],
      ['trace', 'show', BASE, '--nope'],
      ['trace', 'show', BASE, '--html', '--dot'],
      ['trace', 'list', '--limit', '0'],
      ['trace', 'frobnicate'],
      ['frobnicate'],
      [],
    ]) {
      const r = runBin(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Usage: osprofiler');
    }
  });

  it('bad connection string: named without its password, exit 2', () => {
    const r = runBin(['trace', 'show', BASE, '--connection-string', 'nosuch://admin:Sup3rS3cret@db.example:1234/x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("connection string 'nosuch://admin:***@db.example:1234/x'");
    expect(r.stderr).toContain('nosuch');
    expect(r.stderr).not.toContain('Sup3rS3cret');
    expect(r.stdout).toBe('');
  });
});

describe('osprofiler trace list (binary)', () => {
  it('lists the stored trace in a table', () => {
    const r = runBin(['trace', 'list', '--connection-string', `file://${store}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\+-{38}\+-{28}\+$/);
    expect(lines[1]).toBe('| base_id                              | timestamp                  |');
    expect(lines[3]).toMatch(new RegExp(`^\\| ${BASE} \\| 2026-11-23T02:40:49\\.\\d{6} \\|$`));
    expect(lines).toHaveLength(5);
  });

  it('--error-trace lists traces holding an error; --json and --limit', () => {
    const r = runBin(['trace', 'list', '--error-trace', '--json', '--limit', '1'], { OSPROFILER_CONNECTION_STRING: `file://${store}` });
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { base_id: string; timestamp: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].base_id).toBe(BASE);
    expect(rows[0].timestamp).toMatch(/^2026-11-23T02:40:49\.\d{6}$/);
    const empty = runBin(['trace', 'list', '--errors', '--connection-string', `file://${tempDir()}`]);
    expect(empty.status).toBe(0);
    expect(empty.stdout).toBe('+---------+-----------+\n| base_id | timestamp |\n+---------+-----------+\n+---------+-----------+\n');
  });
});

describe('help and version (binary)', () => {
  it('--help exits 0 on every command', () => {
    for (const args of [['--help'], ['trace', '--help'], ['trace', 'show', '--help'], ['trace', 'list', '--help']]) {
      const r = runBin(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: osprofiler/);
      expect(r.stderr).toBe('');
    }
  });

  it('--version prints the package version', () => {
    const r = runBin(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a closed pipe (| head) is not an error', () => {
    const big = report(Array.from({ length: 3000 }, (_, i) => node({ name: `point${i}`, started: i, finished: i + 1 })));
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify(big));
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${BIN}" trace show "${file}" | head -n 1`], {
      encoding: 'utf8',
    });
    expect(r.stdout.split('\n')[0]).toMatch(/^trace bbbbbbbb-0000-4000-8000-000000000009 {2}total 3000 ms, 3000 points$/);
    expect(r.stderr).toBe('');
  });
});
