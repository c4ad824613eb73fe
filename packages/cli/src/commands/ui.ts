/**
 * `osprofiler ui [--connection-string CS] [--port 16686] [--host 127.0.0.1] [--token T] [--open]`:
 * serves the trace viewer (@osprofiler/viewer, loaded lazily) over the store until
 * SIGINT/SIGTERM. Loopback by default; any other address needs a token.
 */
import { spawn } from 'node:child_process';
import { InvalidArgumentError, type Command } from 'commander';
import { CliError, type CliIO } from '../io';

export interface UiOptions {
  connectionString?: string;
  port: number;
  host: string;
  token?: string;
  open?: boolean;
}

function port(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0 picks a free one).');
  return Number(value);
}

export function registerUiCommand(program: Command, io: CliIO, state: { exitCode: number }, csHelp: string): void {
  program
    .command('ui')
    .description('Open the trace viewer in a browser: search traces, waterfall, critical path, compare (read-only).')
    .option('--connection-string <cs>', csHelp)
    .option('--port <n>', 'port to listen on (0 picks a free port)', port, 16686)
    .option('--host <address>', 'address to bind; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'token required on every request (generated and printed when binding a non-loopback address)')
    .option('--open', 'open the URL in the default browser')
    .action(async (opts: UiOptions) => {
      state.exitCode = await uiCommand(opts, io);
    });
}

export async function uiCommand(opts: UiOptions, io: CliIO, stop?: Promise<void>): Promise<number> {
  // Loaded only when the command runs: the CLI stays lean for users who never open the viewer.
  const { loadViewer } = await import('./viewer-module.js');
  const { openDriver, redact, resolveConnectionString } = await import('../connection.js');
  const viewer = loadViewer();
  const cs = resolveConnectionString(opts.connectionString, io.env);
  const driver = await openDriver(cs, io);
  let server: Awaited<ReturnType<typeof viewer.startViewer>>;
  try {
    server = await viewer.startViewer({ driver, host: opts.host, port: opts.port, token: opts.token, storeLabel: redact(cs) });
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw new CliError(`cannot start the viewer on ${opts.host}:${opts.port}: ${(err as Error).message}`, 1);
  }
  // Listening for the signals before the URL is printed: whoever waits for it may signal at once.
  const stopped =
    stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  io.stdout(`OSProfiler viewer for ${redact(cs)}: ${server.url}\n`);
  if (server.token !== undefined && opts.token === undefined) io.stderr(`a token is required on ${opts.host}; it is in the URL above (send it once as ?token= or as Authorization: Bearer)\n`);
  if (typeof driver.searchTraces !== 'function') io.stderr(`note: the ${driver.scheme}:// store cannot search; open traces by id (#/trace/<id>)\n`);
  if (opts.open) {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    const child = spawn(opener, [server.url], { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr(`could not start ${opener}; open the URL yourself\n`));
    child.unref();
  }
  await stopped;
  await server.close();
  await driver.close().catch(() => undefined);
  return 0;
}
