/** Coded errors of the agent and its client; messages say how to fix the problem. */
export type AgentErrorCode =
  | 'OSP_AGENT_BAD_URL'
  | 'OSP_AGENT_BAD_OPTION'
  | 'OSP_AGENT_ALREADY_RUNNING'
  | 'OSP_AGENT_LISTEN'
  | 'OSP_AGENT_UNREACHABLE'
  | 'OSP_AGENT_PROTOCOL'
  | 'OSP_AGENT_START_TIMEOUT';

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}
