/**
 * @osprofiler/cli: the `osprofiler` command, plus its renderers for programmatic use.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program';
import { CliError } from './io';
import type { CliIO } from './io';

export { renderTree, describePoint } from './render/tree';
export type { TreeOptions } from './render/tree';
export { renderDot, dotQuote } from './render/dot';
export { renderTable } from './commands/trace-list';
export { isUuidLike, notFoundMessage } from './commands/trace-show';
export { redact } from './connection';
export { buildProgram, version } from './program';
export { CliError } from './io';
export type { CliIO } from './io';

function defaultIO(): CliIO {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}

/**
 * Run the command line `argv` (as `process.argv`: node, script, args…) and resolve to the
 * exit code: 0 ok, 1 not found / read failure, 2 usage or bad connection string.
 * Never calls `process.exit`.
 */
export async function main(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = { ...defaultIO(), ...io };
  const state = { exitCode: 0 };
  const program = buildProgram(full, state);
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error (already printed with the help) is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      full.stderr(err.bare ? `${err.message}\n` : `error: ${err.message}\n`);
      return err.exitCode;
    }
    full.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
