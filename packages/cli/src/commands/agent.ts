/**
 * `osprofiler agent --listen SOCKET (--backend CS | --upstream nats://…) [--spool-dir DIR] [--health HOST:PORT] [--nice N]`:
 * runs the per-node agent (packages/agent) in the foreground until SIGTERM/SIGINT.
 * @osprofiler/agent is an optional peer of the CLI, loaded only here.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CliError } from '../io';
import type { CliIO } from '../io';

export interface AgentCommandOptions {
  listen: string;
  backend?: string;
  spoolDir?: string;
  health?: string;
  upstream?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  subjectPrefix?: string;
  partitions?: number;
  agentId?: string;
  clientIndex?: boolean;
  nice?: number;
}

type AgentModule = typeof import('@osprofiler/agent');
export const AGENT_PACKAGE = '@osprofiler/agent';

/** Loads the agent package next to the CLI, else next to the current directory's app. */
export function loadAgent(bases: readonly string[] = [__filename, join(process.cwd(), 'index.js')]): AgentModule {
  for (const base of bases) {
    try {
      return createRequire(base)(AGENT_PACKAGE) as AgentModule;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'MODULE_NOT_FOUND' || !e.message.includes(`'${AGENT_PACKAGE}'`)) throw err;
    }
  }
  throw new CliError(
    `osprofiler agent needs the ${AGENT_PACKAGE} package, an optional peer dependency of @osprofiler/cli: npm install ${AGENT_PACKAGE}`,
    1,
  );
}

/** Resolves with the exit code: 0 after a clean drain, 3 if an agent already listens, 1 on a start-up error. */
export function agentCommand(opts: AgentCommandOptions, io: CliIO): Promise<number> {
  const { runAgentProcess } = loadAgent();
  return runAgentProcess(
    {
      socketPath: opts.listen,
      backend: opts.backend,
      spoolDir: opts.spoolDir,
      health: opts.health,
      upstream: opts.upstream,
      natsCreds: opts.natsCreds,
      natsTlsCa: opts.natsTlsCa,
      natsTlsCert: opts.natsTlsCert,
      natsTlsKey: opts.natsTlsKey,
      ...(opts.subjectPrefix === undefined ? {} : { subjectPrefix: opts.subjectPrefix }),
      ...(opts.partitions === undefined ? {} : { partitions: opts.partitions }),
      agentId: opts.agentId,
      ...(opts.clientIndex === true ? { clientIndex: true } : {}),
      ...(opts.nice === undefined ? {} : { nice: opts.nice }),
    },
    { info: (l) => io.stderr(l + '\n'), error: (l) => io.stderr(`error: ${l}\n`) },
  );
}
