/**
 * Reads through the agent: `getReport` / `listTraces` on an `agent://` driver open a short
 * connection and ask the agent, which answers from its own backend driver. The client
 * never needs the backend's connection string (or its password).
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { AgentError } from '../errors';
import { FrameReader, FrameType, PROTOCOL_VERSION, encodeFrame, parseJsonObject } from '../protocol';

const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export function agentRequest(socketPath: string, op: string, args: unknown[], timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const reader = new FrameReader(MAX_RESPONSE_BYTES);
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new AgentError('OSP_AGENT_UNREACHABLE', `agent at ${socketPath} did not answer ${op} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      socket.write(encodeFrame(FrameType.HELLO, JSON.stringify({ v: PROTOCOL_VERSION, client: randomBytes(16).toString('hex'), pid: process.pid })));
      socket.write(encodeFrame(FrameType.REQUEST, JSON.stringify({ id: 1, op, args })));
    });
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.type === FrameType.RESPONSE) {
          const r = parseJsonObject(f.payload);
          if (r?.ok === true) finish(undefined, r.result);
          else finish(new Error(`agent: ${op} failed: ${String(r?.error ?? 'bad response')}`));
        } else if (f.type === FrameType.ERROR) {
          finish(new AgentError('OSP_AGENT_PROTOCOL', `agent refused: ${String(parseJsonObject(f.payload)?.message ?? 'unknown error')}`));
        }
      }
      if (reader.failure !== undefined) finish(new AgentError('OSP_AGENT_PROTOCOL', `agent protocol: ${reader.failure}`));
    });
    socket.on('error', (err) =>
      finish(new AgentError('OSP_AGENT_UNREACHABLE', `cannot reach the agent at ${socketPath}: ${err.message} (is \`osprofiler agent --listen ${socketPath}\` running?)`)),
    );
    socket.on('close', () => finish(new AgentError('OSP_AGENT_UNREACHABLE', `the agent at ${socketPath} closed the connection before answering ${op}`)));
  });
}
