/** What an external command records: the `exec` point's start and stop info. */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorInfo } from '@osprofiler/core/instrument';
import { contained } from './contained';

export const EXEC_POINT = 'exec';

/** The child_process functions we trace, and how each takes its arguments. */
export type ExecApi = 'spawn' | 'spawnSync' | 'execFile' | 'execFileSync' | 'exec' | 'execSync' | 'fork';

/** A call's arguments, sorted out (as Node's own normalisation reads them). */
export interface ExecCall {
  /** The file run, the module forked, or the shell line (`exec`, `shell` option). */
  file: string;
  args: readonly unknown[];
  options: Record<string, unknown> | undefined;
  /** Index of the options object in the argument list (where a copy goes). */
  optionsIndex: number;
  /** True: `file` is replaced there (an object or a null/undefined placeholder); false: inserted. */
  replace: boolean;
}

function isOptions(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Undefined when the arguments are not what Node accepts: then Node rejects them itself, untraced. */
export function describeExecArgs(api: ExecApi, a: ArrayLike<unknown>): ExecCall | undefined {
  const file = api === 'fork' && a[0] instanceof URL ? modulePath(a[0]) : a[0]; // fork alone takes a file: URL (Node ≥ 17.4)
  if (typeof file !== 'string' || file.length === 0) return undefined;
  let i = 1;
  let args: readonly unknown[] = [];
  if (api !== 'exec' && api !== 'execSync') {
    if (Array.isArray(a[1])) {
      args = a[1];
      i = 2;
    } else if (a[1] == null && a.length > 2) {
      i = 2;
    }
  }
  const v = a[i];
  if (isOptions(v)) return { file, args, options: v, optionsIndex: i, replace: true };
  if (v == null && i < a.length) return { file, args, options: undefined, optionsIndex: i, replace: true };
  return { file, args, options: undefined, optionsIndex: i, replace: false };
}

/** The path of `fork(new URL(...))`'s module; undefined for a URL Node rejects itself (not `file:`). */
function modulePath(url: URL): string | undefined {
  try {
    return fileURLToPath(url);
  } catch (err) {
    contained('exec.module', err);
    return undefined;
  }
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** The command of a shell line: its first word after any `NAME=value` prefixes (never recorded). */
function shellCommand(line: string): { command: string; rest: string } {
  const words = line.trim().split(/\s+/);
  let k = 0;
  while (k < words.length - 1 && ASSIGNMENT.test(words[k])) k++;
  let command = words[k] ?? '';
  if (command.length >= 2 && (command[0] === "'" || command[0] === '"') && command.endsWith(command[0])) command = command.slice(1, -1);
  return { command, rest: words.slice(k + 1).join(' ') };
}

function cwdOf(options: Record<string, unknown> | undefined): string {
  const c = options?.cwd;
  if (typeof c === 'string' && c !== '') return c;
  if (c instanceof URL) {
    try {
      return fileURLToPath(c);
    } catch (err) {
      contained('exec.cwd', err); // not a local file URL: Node rejects the call itself
      return String(c);
    }
  }
  return process.cwd();
}

/**
 * `function.name` is the command's basename; `exec.command` the command (the shell line's
 * first word for `exec`/`shell`, the module for `fork`); `exec.args` only with `showArgs`.
 * The environment is never recorded.
 */
export function execStartInfo(api: ExecApi, call: ExecCall, showArgs: boolean): object {
  const shellOpt = call.options?.shell;
  const viaShell = api === 'exec' || api === 'execSync' || (shellOpt !== undefined && shellOpt !== false && shellOpt !== null);
  const exec: Record<string, unknown> = {};
  if (viaShell) {
    const { command, rest } = shellCommand(call.file);
    exec.command = command;
    if (showArgs) exec.args = [rest, ...call.args.map(String)].filter((s) => s !== '');
    exec.shell = typeof shellOpt === 'string' ? shellOpt : true;
  } else {
    exec.command = call.file;
    if (showArgs) exec.args = call.args.map(String);
  }
  exec.cwd = cwdOf(call.options);
  if (api === 'fork') exec.fork = true;
  return { function: { name: basename(String(exec.command)) || String(exec.command) }, exec };
}

export interface ExecOutcome {
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
}

/** `exec: {pid, exit_code, signal}` (pid is known only once spawned, so it is on the stop), plus `etype`/`message` for an error. */
export function execStopInfo(o: ExecOutcome, err?: unknown): object {
  const info = { exec: { pid: o.pid, exit_code: o.exitCode, signal: o.signal } };
  return err === undefined ? info : { ...info, ...errorInfo(err) };
}

/**
 * Errors worth recording: the process could not be spawned (ENOENT, EACCES…), timed out,
 * overflowed its buffer, was aborted. Not Node's "Command failed" error for a non-zero
 * exit (that is `exit_code`), whose message would also hold the arguments and stderr.
 */
export function isSpawnError(err: unknown): boolean {
  if (!(err instanceof Error)) return err !== undefined && err !== null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' || err.name === 'AbortError';
}
