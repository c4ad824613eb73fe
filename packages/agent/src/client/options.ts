/**
 * `agent://<socket path>?max_points=100000&…`: where the agent listens and how much the
 * client keeps while it cannot reach it.
 */
import { AgentError } from '../errors';

export const DEFAULT_SOCKET_PATH = '/run/osprofiler/agent.sock';

export interface AgentClientOptions {
  /** The agent's Unix socket. */
  socketPath: string;
  /** Points kept (not yet sent) while the agent is slow or down; past this the oldest are dropped and counted. */
  maxPoints: number;
  /** Points sent but not yet acknowledged at most (also what is resent after a reconnect). */
  maxInflightPoints: number;
  /** Points per BATCH frame at most. */
  maxBatchPoints: number;
  /** First reconnect delay; doubles (with jitter) up to `reconnectMaxMs`. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** How long the exit hooks (beforeExit, SIGTERM) wait for the agent's acknowledgements. */
  exitFlushMs: number;
  /** Install the beforeExit/SIGTERM flush. */
  exitHooks: boolean;
}

export const DEFAULT_CLIENT_OPTIONS: Readonly<Omit<AgentClientOptions, 'socketPath'>> = {
  maxPoints: 100_000,
  maxInflightPoints: 20_000,
  maxBatchPoints: 5_000,
  reconnectMinMs: 50,
  reconnectMaxMs: 2_000,
  exitFlushMs: 1_000,
  exitHooks: true,
};

const PARAMS: Record<string, keyof AgentClientOptions> = {
  max_points: 'maxPoints',
  max_inflight_points: 'maxInflightPoints',
  max_batch_points: 'maxBatchPoints',
  reconnect_min_ms: 'reconnectMinMs',
  reconnect_max_ms: 'reconnectMaxMs',
  exit_flush_ms: 'exitFlushMs',
  exit_hooks: 'exitHooks',
};

/** Options from an `agent://` URL; unknown or bad query parameters throw a coded error. */
export function clientOptionsFromUrl(url: URL): AgentClientOptions {
  const path = decodeURIComponent(url.pathname);
  if (url.hostname !== '') {
    throw new AgentError(
      'OSP_AGENT_BAD_URL',
      `agent:// takes a socket path, not a host ("${url.hostname}"): write agent:///run/osprofiler/agent.sock (three slashes)`,
    );
  }
  const out: AgentClientOptions = { ...DEFAULT_CLIENT_OPTIONS, socketPath: path === '' || path === '/' ? DEFAULT_SOCKET_PATH : path };
  for (const [key, value] of url.searchParams) {
    const field = PARAMS[key];
    if (field === undefined) {
      throw new AgentError('OSP_AGENT_BAD_URL', `agent:// unknown option "${key}" (known: ${Object.keys(PARAMS).join(', ')})`);
    }
    if (field === 'exitHooks') {
      out.exitHooks = !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
      continue;
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < (field === 'maxPoints' ? 0 : 1)) {
      throw new AgentError('OSP_AGENT_BAD_URL', `agent:// option ${key}="${value}" must be a positive integer`);
    }
    (out as unknown as Record<string, number>)[field] = n;
  }
  return out;
}
