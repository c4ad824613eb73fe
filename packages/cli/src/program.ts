/** The commander setup of `osprofiler`: `trace show`, `trace list`, help and version. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerProfileCommand } from './commands/profile';
import { agentCommand } from './commands/agent';
import { registerCollectorCommand } from './commands/collector';
import type { AgentCommandOptions } from './commands/agent';
import { traceExport } from './commands/trace-export';
import type { TraceExportOptions } from './commands/trace-export';
import { traceList } from './commands/trace-list';
import type { TraceListOptions } from './commands/trace-list';
import { traceShow } from './commands/trace-show';
import type { TraceShowOptions } from './commands/trace-show';
import { CONNECTION_ENV, DEFAULT_CONNECTION_STRING } from './io';
import type { CliIO } from './io';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function positiveInt(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return Number(value);
}

/** `--error-trace` alone means yes; `--error-trace 1|true|yes|on` too, `0|false|no|off|""` no. */
function boolish(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y', 't'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'n', 'f', ''].includes(v)) return false;
  throw new InvalidArgumentError('expected a boolean (1/0, true/false, yes/no).');
}

const CS_HELP =
  `storage driver's connection string (default: env ${CONNECTION_ENV} if set, ` +
  `else "${DEFAULT_CONNECTION_STRING}", the per-user state directory)`;

/** What the actions report back to `main`. */
export interface RunState {
  exitCode: number;
}

export function buildProgram(io: CliIO, state: RunState): Command {
  const helpWidth = Math.min(io.columns ?? 100, 100);
  const program = new Command('osprofiler');
  program
    .description('Command-line interface to OSProfiler.js: show and list stored traces (compatible with Python OSProfiler).')
    .version(version(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help and exit')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(s),
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError();

  const trace = program.command('trace').description('show and list stored traces');

  trace
    .command('show')
    .description('Display a trace as an indented tree (default), as Python-compatible JSON (--json) or as Graphviz DOT (--dot).')
    .argument('<trace>', 'trace base id (UUID), or the path of a report JSON file (as saved by --json)')
    .addOption(new Option('--json', 'print the report JSON (the same bytes as Python osprofiler)').conflicts(['dot', 'tree', 'html']))
    .addOption(new Option('--dot', 'print the trace in the DOT language (Graphviz)').conflicts(['json', 'tree', 'html']))
    .addOption(new Option('--tree', 'print an indented tree with durations (the default)').conflicts(['json', 'dot', 'html']))
    .addOption(new Option('--html', 'HTML viewer output (not available yet)').conflicts(['json', 'dot', 'tree']))
    .option('--connection-string <cs>', CS_HELP)
    .option('--out <file>', 'write the output to FILE instead of stdout (without the final newline, as Python)')
    .action(async function (this: Command, target: string, opts: TraceShowOptions & { html?: boolean }) {
      if (opts.html) {
        this.error('error: --html is not available yet in OSProfiler.js; use --tree, --json or --dot.', {
          exitCode: 2,
          code: 'osprofiler.htmlUnavailable',
        });
      }
      state.exitCode = await traceShow(target, opts, io);
    });

  trace
    .command('list')
    .description('List stored traces (base_id and timestamp), newest first.')
    .addOption(
      new Option('--error-trace [bool]', 'list only the traces that contain an error (an optional 1/0, true/false)').argParser(boolish),
    )
    .option('--errors', 'same as --error-trace')
    .addOption(new Option('--limit <n>', 'show at most N traces').argParser(positiveInt))
    .option('--connection-string <cs>', CS_HELP)
    .option('--json', 'print a JSON array of {base_id, timestamp} instead of a table')
    .action(async (opts: TraceListOptions) => {
      state.exitCode = await traceList(opts, io);
    });

  trace
    .command('export')
    .description('Copy a stored trace to another store, e.g. an OpenTelemetry backend (--to otlp://127.0.0.1:4318).')
    .argument('<base_id>', 'trace base id')
    .requiredOption('--to <cs>', 'connection string of the target store (otlp://host:port, redis://…, file:///dir, …)')
    .option('--connection-string <cs>', CS_HELP)
    .action(async (baseId: string, opts: TraceExportOptions) => {
      state.exitCode = await traceExport(baseId, opts, io);
    });

  registerProfileCommand(program, io, state);

  program
    .command('agent')
    .description('Run the per-node agent: receive trace points from agent:// clients and write them to the backend.')
    .requiredOption('--listen <socket>', 'Unix socket to listen on (mode 0600), e.g. /run/osprofiler/agent.sock')
    .option('--backend <cs>', "the store's connection string, e.g. redis://127.0.0.1:6379 (with --upstream: only for reads)")
    .option('--spool-dir <dir>', 'spool batches here (fsynced) while the backend fails, replay them when it returns')
    .option('--health <host:port>', 'serve /metrics (Prometheus) and /healthz on this loopback address')
    .option('--upstream <url>', 'publish to NATS JetStream for `osprofiler collector` instead of writing a store: nats://[user:pass@]host:4222')
    .option('--nats-creds <file>', 'NATS credentials (.creds) file for --upstream')
    .option('--nats-tls-ca <file>', 'CA bundle (PEM) for a TLS NATS connection')
    .option('--nats-tls-cert <file>', 'client certificate (PEM) for TLS to NATS')
    .option('--nats-tls-key <file>', 'client key (PEM) for TLS to NATS')
    .option('--subject-prefix <prefix>', 'NATS subject prefix (default: osprofiler)')
    .addOption(new Option('--partitions <n>', 'partition count, as the collectors use (default: 16)').argParser(positiveInt))
    .option('--agent-id <id>', "this agent's id in message ids (default: host name + hash of the socket path)")
    .action(async (opts: AgentCommandOptions) => {
      state.exitCode = await agentCommand(opts, io);
    });

  registerCollectorCommand(program, io, state);

  return program;
}
