/**
 * The commander setup of `osprofiler`. Each command's module is loaded only when that
 * command runs (`agent` needs the optional @osprofiler/agent package), so `--help` and
 * `trace list` start without the rest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerCollectorCommand } from './commands/collector';
import type { AgentCommandOptions } from './commands/agent';
import type { ProfileOptions } from './commands/profile';
import type { TraceExportOptions } from './commands/trace-export';
import type { TraceListOptions } from './commands/trace-list';
import { addSearchOptions } from './commands/trace-search';
import { registerUiCommand } from './commands/ui';
import type { TraceShowOptions } from './commands/trace-show';
import { CONNECTION_ENV, DEFAULT_CONNECTION_STRING, DEFAULT_PROFILE_TIMEOUT_MS, HMAC_KEYS_ENV } from './io';
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

/** `agent --nice N`: the agent's nice value, 0–19 (packages/agent/src/priority.ts). */
function niceValue(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) > 19) throw new InvalidArgumentError('must be a whole number from 0 to 19.');
  return Number(value);
}

/** `--width N`: the tree's line width in columns (at least 60). */
function width(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) < 60 || Number(value) > 10_000) {
    throw new InvalidArgumentError('must be a whole number of columns from 60 to 10000.');
  }
  return Number(value);
}

function timeoutMs(value: string): number {
  if (!/^\s*\+?\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 600_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds from 1 to 600000.');
  }
  return Number(value);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const WIDTH_HELP = 'width of the tree in columns (default: the terminal width when stdout is one, else 100)';

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
    .description(
      'Command-line interface to OSProfiler.js (compatible with Python OSProfiler): show, list and export stored traces ' +
        '(trace show, trace list, trace export), profile one request (profile) and run the per-node agent (agent).',
    )
    .version(version(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help and exit')
    .helpCommand('help [command]', 'show help for a command (e.g. `osprofiler help profile`)')
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

  const trace = program.command('trace').description('show, list and export stored traces');

  trace
    .command('show')
    .description('Display a trace as an indented tree (default), as Python-compatible JSON (--json) or as Graphviz DOT (--dot).')
    .argument('<trace>', 'trace base id (UUID), or the path of a report JSON file (as saved by --json)')
    .addOption(new Option('--json', 'print the report JSON (the same bytes as Python osprofiler)').conflicts(['dot', 'tree', 'html']))
    .addOption(new Option('--dot', 'print the trace in the DOT language (Graphviz)').conflicts(['json', 'tree', 'html']))
    .addOption(new Option('--tree', 'print an indented tree with durations (the default)').conflicts(['json', 'dot', 'html']))
    .addOption(new Option('--html', 'one self-contained HTML page with the trace viewer (opens offline; needs @osprofiler/viewer)').conflicts(['json', 'dot', 'tree']))
    .option('--connection-string <cs>', CS_HELP)
    .option('--out <file>', 'write the output to FILE instead of stdout (without the final newline, as Python)')
    .addOption(new Option('--width <n>', WIDTH_HELP).argParser(width))
    .action(async (target: string, opts: TraceShowOptions) => {
      const { traceShow } = await import('./commands/trace-show.js');
      state.exitCode = await traceShow(target, opts, io);
    });

  const list = trace
    .command('list')
    .description('List stored traces (base_id and timestamp), newest first; filters and --wide use the store\'s search index.')
    .addOption(
      new Option('--error-trace [bool]', 'list only the traces that contain an error (an optional 1/0, true/false)').argParser(boolish),
    )
    .option('--errors', 'same as --error-trace')
    .addOption(new Option('--limit <n>', 'show at most N traces').argParser(positiveInt))
    .option('--connection-string <cs>', CS_HELP)
    .option('--json', 'print a JSON array of {base_id, timestamp, …summary fields} instead of a table');
  addSearchOptions(list).action(async (opts: TraceListOptions) => {
    const { traceList } = await import('./commands/trace-list.js');
    state.exitCode = await traceList(opts, io);
  });

  trace
    .command('export')
    .description('Copy a stored trace to another store, e.g. an OpenTelemetry backend (--to otlp://127.0.0.1:4318).')
    .argument('<base_id>', 'trace base id')
    .requiredOption('--to <cs>', 'connection string of the target store (otlp://host:port, redis://…, file:///dir, …)')
    .option('--connection-string <cs>', CS_HELP)
    .action(async (baseId: string, opts: TraceExportOptions) => {
      const { traceExport } = await import('./commands/trace-export.js');
      state.exitCode = await traceExport(baseId, opts, io);
    });

  program
    .command('profile')
    .description('Send one request signed for a new trace, print its status and trace id; --show prints the trace.')
    .argument('<url>', 'http:// or https:// URL of a service traced with OSProfiler (Node or Python)')
    .option('--hmac-key <key>', `key to sign the trace with (default: the first of env ${HMAC_KEYS_ENV})`)
    .option('-X, --request <method>', 'HTTP method (default: GET, or POST with -d)')
    .option('-d, --data <data>', 'request body; @FILE reads it from FILE')
    .option('-H, --header <header>', "extra header 'Name: value' (repeatable)", collect)
    .option('--show', 'wait for the trace points and print the tree')
    .option('--timeout-ms <ms>', 'bound for the request, and for the wait with --show', timeoutMs, DEFAULT_PROFILE_TIMEOUT_MS)
    .option('--connection-string <cs>', 'storage to read the trace from with --show (as for `trace show`)')
    .addOption(new Option('--width <n>', WIDTH_HELP).argParser(width))
    .action(async (url: string, opts: ProfileOptions) => {
      const { profile } = await import('./commands/profile.js');
      state.exitCode = await profile(url, opts, io);
    });
  registerUiCommand(program, io, state, CS_HELP);

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
    .option('--client-index', "ask apps to send each batch's search index with its lines: less agent and collector CPU, ~4k instructions a line more in the app")
    .addOption(new Option('--nice <n>', "the agent's CPU priority as a nice value, 0-19, above 0 below the apps it serves (default: 0, left as it is; a process started nicer keeps its value)").argParser(niceValue))
    .action(async (opts: AgentCommandOptions) => {
      const { agentCommand } = await import('./commands/agent.js');
      state.exitCode = await agentCommand(opts, io);
    });

  registerCollectorCommand(program, io, state);

  return program;
}
