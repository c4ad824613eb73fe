/**
 * `osprofiler agent --listen SOCKET (--backend CS | --upstream nats://…) [--spool-dir DIR] [--health HOST:PORT]`:
 * runs the per-node agent (packages/agent) in the foreground until SIGTERM/SIGINT.
 */
import { runAgentProcess } from '@osprofiler/agent';
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
}

/** Resolves with the exit code: 0 after a clean drain, 3 if an agent already listens, 1 on a start-up error. */
export function agentCommand(opts: AgentCommandOptions, io: CliIO): Promise<number> {
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
    },
    { info: (l) => io.stderr(l + '\n'), error: (l) => io.stderr(`error: ${l}\n`) },
  );
}
