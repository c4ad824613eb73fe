/**
 * Running the agent as a process (`osprofiler agent`, and the detached process that
 * `ensureAgent` starts): start, log one line, drain and exit on SIGTERM/SIGINT.
 */
import { redactConnectionString } from '@osprofiler/core/instrument';
import { AgentError } from './errors';
import { startAgent } from './agent/server';
import { DEFAULT_AGENT_OPTIONS, type AgentOptionsInput } from './agent/options';
import { lowerPriority, niceProblem } from './priority';

/** Exit code when another agent already listens on the socket. */
export const EXIT_ALREADY_RUNNING = 3;

export interface RunLog {
  info(line: string): void;
  error(line: string): void;
}

const stderrLog: RunLog = {
  info: (l) => process.stderr.write(l + '\n'),
  error: (l) => process.stderr.write(l + '\n'),
};

/** Runs until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runAgentProcess(options: AgentOptionsInput, log: RunLog = stderrLog): Promise<number> {
  const nice = options.nice ?? DEFAULT_AGENT_OPTIONS.nice;
  const problem = niceProblem(nice);
  if (problem !== undefined) {
    log.error(`osprofiler agent: nice (--nice) ${String(nice)}: ${problem}`);
    return 1;
  }
  // A failure to lower it is reported, not fatal: the agent still works at the app's priority.
  const lowered = lowerPriority(nice);
  if ('error' in lowered) log.error(`osprofiler agent: could not lower its priority to nice ${nice}: ${lowered.error}`);
  let agent;
  try {
    agent = await startAgent(options);
  } catch (err) {
    if (err instanceof AgentError && err.code === 'OSP_AGENT_ALREADY_RUNNING') {
      log.info(`osprofiler agent: ${err.message}; nothing to do`);
      return EXIT_ALREADY_RUNNING;
    }
    log.error(`osprofiler agent: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const health = agent.healthAddress === undefined ? '' : `, metrics on http://${agent.healthAddress}/metrics`;
  const to = agent.options.upstream === undefined ? '' : `, publishing to ${redactConnectionString(agent.options.upstream)}`;
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info(`osprofiler agent: ${sig}, draining`);
    void agent.stop();
  };
  // Before the line that says it listens: whoever waits for that line may signal at once
  // (a SIGTERM in between killed the process undrained, exit by signal: 12 of 40 starts).
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const niceText = 'nice' in lowered ? `, nice ${lowered.nice}` : '';
  log.info(`osprofiler agent ${process.pid}: listening on ${agent.socketPath}${to}${health}${niceText}`);
  await agent.stopped;
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  const m = agent.metrics;
  log.info(`osprofiler agent: stopped (received ${m.received}, written ${m.written}, spooled ${m.spooled}, replayed ${m.replayed})`);
  return 0;
}

const DAEMON_FLAGS: Record<string, keyof AgentOptionsInput> = {
  '--listen': 'socketPath',
  '--backend': 'backend',
  '--spool-dir': 'spoolDir',
  '--health': 'health',
  '--upstream': 'upstream',
  '--nats-creds': 'natsCreds',
  '--nats-tls-ca': 'natsTlsCa',
  '--nats-tls-cert': 'natsTlsCert',
  '--nats-tls-key': 'natsTlsKey',
  '--subject-prefix': 'subjectPrefix',
  '--partitions': 'partitions',
  '--agent-id': 'agentId',
  '--client-index': 'clientIndex',
  '--nice': 'nice',
};

/** `--listen S (--backend CS | --upstream URL) [--spool-dir D] [--health H] […]` → options (for the detached daemon and tests). */
export function parseDaemonArgs(argv: string[]): AgentOptionsInput {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    const field = DAEMON_FLAGS[key];
    if (field === undefined || value === undefined) {
      throw new AgentError(
        'OSP_AGENT_BAD_OPTION',
        `unexpected argument "${key}" (usage: --listen SOCKET (--backend CS | --upstream nats://HOST:4222) [--spool-dir DIR] [--health HOST:PORT] [--subject-prefix P] [--partitions N] [--agent-id ID] [--client-index true|false] [--nice 0-19] [--nats-creds F] [--nats-tls-ca F --nats-tls-cert F --nats-tls-key F])`,
      );
    }
    if (field === 'partitions') {
      if (!/^\d+$/.test(value)) throw new AgentError('OSP_AGENT_BAD_OPTION', `--partitions "${value}": expected a positive integer`);
      out[field] = Number(value);
    } else if (field === 'nice') {
      const problem = niceProblem(/^\d+$/.test(value) ? Number(value) : NaN);
      if (problem !== undefined) throw new AgentError('OSP_AGENT_BAD_OPTION', `--nice "${value}": ${problem}`);
      out[field] = Number(value);
    } else if (field === 'clientIndex') {
      if (value !== 'true' && value !== 'false') throw new AgentError('OSP_AGENT_BAD_OPTION', `--client-index "${value}": expected true or false`);
      out[field] = value === 'true';
    } else out[field] = value;
  }
  return out as unknown as AgentOptionsInput;
}
