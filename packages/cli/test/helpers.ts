import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir as sharedTempDir } from '../../../tools/testing/temp-dir';
import { join, resolve } from 'node:path';

export const PKG_DIR = resolve(__dirname, '..');
export const BIN = join(PKG_DIR, 'dist', 'bin.js');
export const PYTHON = '/usr/bin/python3';
// The repository is cloned with shared/ beside it.
export const FIXTURES = resolve(PKG_DIR, '../../../shared/interop/osprofiler-fixtures.json');

interface Fixtures {
  redis_trace: {
    base_id: string;
    'LRANGE_0_-1_newest_first': string[];
    get_report: Record<string, unknown>;
    get_report_cli_json_text: string;
  };
}

export function fixtures(): Fixtures {
  return JSON.parse(readFileSync(FIXTURES, 'utf8')) as Fixtures;
}

/** A temp dir of the test file's own, removed when the file is done (tools/testing/temp-dir). */
export function tempDir(prefix = 'osprofiler-cli-'): string {
  return sharedTempDir(prefix);
}

/** The fixture report written as a file, the way Python's `--out` would have saved it. */
export function writeFixtureReport(dir: string): string {
  const path = join(dir, 'report.json');
  // Python writes it: the key order and number formatting are then exactly Python's.
  const r = spawnSync(PYTHON, [
    '-c',
    'import json,sys; d=json.load(open(sys.argv[1])); json.dump(d["redis_trace"]["get_report"], open(sys.argv[2], "w"))',
    FIXTURES,
    path,
  ]);
  if (r.status !== 0) writeFileSync(path, JSON.stringify(fixtures().redis_trace.get_report));
  return path;
}

export function python(code: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function hasPython(modules: string): boolean {
  return python(`import ${modules}`).status === 0;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built binary in its own process. */
export function runBin(args: string[], env: Record<string, string | undefined> = {}, cwd = PKG_DIR): RunResult {
  const fullEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) fullEnv[k] = v;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: fullEnv, cwd, timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Width check used by the tree tests: code points, with CJK counted as 2. */
export function maxLineWidth(text: string, width: (s: string) => number): number {
  return Math.max(0, ...text.split('\n').map(width));
}
