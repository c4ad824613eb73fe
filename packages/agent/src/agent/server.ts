/**
 * `startAgent(options)`: the per-node agent. Listens on a Unix socket (mode 0600), checks
 * every frame, hands batches to the writer (backend, or spool while it fails), answers
 * reads from its backend, serves metrics on loopback, and drains on stop().
 */
import { createServer, type Server, type Socket } from 'node:net';
import { recordFailure } from '@osprofiler/core/instrument';
import { AgentError } from '../errors';
import { isLinesBody } from '../lines';
import { BATCH_HEADER_BYTES, FrameReader, FrameType, PROTOCOL_VERSION, encodeAck, encodeFrame, parseJsonObject } from '../protocol';
import { Backend, type Sink } from './backend';
import { Upstream, defaultAgentId } from '../upstream/publisher';
import { checkSubjectPrefix } from '../upstream/contract';
import { bindSocket } from './bind';
import { startHealthServer, type HealthServer } from './health';
import { newMetrics, prometheusText, type AgentMetrics, type DropReason } from './metrics';
import { DEFAULT_AGENT_OPTIONS, type AgentOptions, type AgentOptionsInput } from './options';
import { Spool } from './spool';
import { Writer } from './writer';

export interface AgentHandle {
  readonly socketPath: string;
  readonly options: Readonly<AgentOptions>;
  readonly metrics: Readonly<AgentMetrics>;
  /** `host:port` of the health server, when enabled. */
  readonly healthAddress: string | undefined;
  /** The Prometheus text the health server serves. */
  metricsText(): string;
  /** Stops accepting, writes (or spools) what is queued within drainTimeoutMs, closes everything. */
  stop(): Promise<void>;
  /** Resolves when the agent has stopped. */
  readonly stopped: Promise<void>;
}

const CLIENT_HEX = /^[0-9a-f]{32}$/;
const READ_OPS = new Set(['getReport', 'listTraces', 'listErrorTraces', 'searchTraces']);

export async function startAgent(input: AgentOptionsInput): Promise<AgentHandle> {
  const options: AgentOptions = { ...DEFAULT_AGENT_OPTIONS, ...input };
  if (!options.socketPath) throw new AgentError('OSP_AGENT_BAD_OPTION', 'the agent needs a socket path (--listen /run/osprofiler/agent.sock)');
  if (!options.backend && !options.upstream) {
    throw new AgentError('OSP_AGENT_BAD_OPTION', 'the agent needs a backend connection string (--backend redis://127.0.0.1:6379) or an upstream (--upstream nats://127.0.0.1:4222)');
  }
  if (options.upstream !== undefined) checkUpstreamOptions(options);

  const metrics = newMetrics();
  const conns = new Set<Socket>();
  let paused = false;
  // Connections may arrive as soon as the socket is bound, before the handler below is
  // ready: they wait here instead of being left unread.
  let accepting = false;
  const early: Socket[] = [];
  const server: Server = createServer((socket) => (accepting ? onConnection(socket) : early.push(socket)));
  // The socket first: it is the lock; a second agent stops here before touching the spool.
  await bindSocket(server, options.socketPath);

  let spool: Spool | undefined;
  let backend: Backend | undefined;
  let sink: Sink;
  let upstream: Upstream | undefined;
  try {
    backend = options.backend ? new Backend(options.backend, options.driverOptions, options.writeTimeoutMs) : undefined;
    if (options.upstream !== undefined) {
      upstream = new Upstream({
        url: options.upstream,
        credsFile: options.natsCreds,
        tlsCa: options.natsTlsCa,
        tlsCert: options.natsTlsCert,
        tlsKey: options.natsTlsKey,
        subjectPrefix: options.subjectPrefix,
        partitions: options.partitions,
        agentId: options.agentId ?? defaultAgentId(options.socketPath),
        publishTimeoutMs: options.publishTimeoutMs,
      });
    }
    sink = upstream ?? (backend as Backend);
    spool = options.spoolDir === undefined ? undefined : await Spool.open(options.spoolDir, options.spoolSegmentBytes);
  } catch (err) {
    server.close();
    for (const socket of early) socket.destroy();
    throw err;
  }
  const writer = new Writer(sink, spool, metrics, options);
  // Backpressure: above maxQueuePoints stop reading from every client; they keep their points.
  const pauseAll = (): void => {
    if (paused) return;
    paused = true;
    for (const c of conns) c.pause();
  };
  writer.onDrained = () => {
    if (paused && writer.queued <= options.maxQueuePoints / 2) {
      paused = false;
      for (const c of conns) c.resume();
    }
  };
  // Open the backend now (and replay a spool left by a previous run); failures just spool.
  sink.open().catch((err: unknown) => recordFailure(upstream ? 'agent.upstream.open' : 'agent.backend.open', err));
  if (spool !== undefined && !spool.empty) writer.kick();

  const drop = (reason: DropReason, n = 1): void => {
    metrics.dropped[reason] += n;
  };

  const onConnection = (socket: Socket): void => {
    conns.add(socket);
    metrics.connections++;
    if (paused) socket.pause();
    const reader = new FrameReader(options.maxFrameBytes);
    let client: string | undefined;
    const target = {
      ack(seq: number): void {
        if (!socket.destroyed) socket.write(encodeAck(seq));
      },
    };
    const refuse = (code: string, message: string): void => {
      if (!socket.destroyed) socket.end(encodeFrame(FrameType.ERROR, JSON.stringify({ code, message })));
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    // A peer that never completes the handshake is closed (and counted).
    const helloTimer = setTimeout(() => {
      if (client === undefined) {
        drop('no_handshake');
        refuse('OSP_AGENT_PROTOCOL', `no HELLO within ${options.helloTimeoutMs} ms`);
      }
    }, options.helloTimeoutMs);
    helloTimer.unref();
    socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      for (const f of frames) {
        metrics.frames++;
        if (client === undefined) {
          const hello = f.type === FrameType.HELLO ? parseJsonObject(f.payload) : undefined;
          if (hello === undefined || typeof hello.client !== 'string' || !CLIENT_HEX.test(hello.client)) {
            drop('no_handshake');
            refuse('OSP_AGENT_PROTOCOL', 'the first frame must be HELLO {"v":1,"client":"<32 hex digits>"}');
            return;
          }
          if (hello.v !== PROTOCOL_VERSION) {
            refuse('OSP_AGENT_PROTOCOL', `protocol version ${String(hello.v)} is not supported (agent speaks ${PROTOCOL_VERSION})`);
            return;
          }
          client = hello.client;
          clearTimeout(helloTimer);
          // `index`: send the search index with the lines ('I' bodies) — when the agent was
          // told to ask for it (options.clientIndex) and the points go upstream or to a store
          // that indexes lines (redis://, the SQL drivers, file://, memory://).
          const index = options.clientIndex && (upstream !== undefined || (backend?.wantsIndex() ?? false));
          socket.write(encodeFrame(FrameType.WELCOME, JSON.stringify({ v: PROTOCOL_VERSION, maxFrameBytes: options.maxFrameBytes, pid: process.pid, index })));
          continue;
        }
        if (f.type === FrameType.BATCH) {
          const p = f.payload;
          if (p.length < BATCH_HEADER_BYTES + 2) {
            drop('malformed');
            continue;
          }
          const count = p.readUInt32BE(20);
          const body = p.subarray(BATCH_HEADER_BYTES);
          // Checked without parsing: line records (or, older clients, a JSON array); the
          // records are split once, when written to the backend.
          const shaped = isLinesBody(body) || (body[0] === 0x5b && body[body.length - 1] === 0x5d);
          if (count === 0 || count > options.maxBatchPoints || !shaped) {
            drop('malformed');
            continue;
          }
          // A connection speaks for the client id of its HELLO only.
          const id = p.toString('hex', 0, 16);
          if (id !== client) {
            drop('malformed');
            continue;
          }
          if (body[0] === 0x49) metrics.indexedPoints += count; // 'I': lines + index
          writer.submit(id, p.readUInt32BE(16), count, body, target);
          if (writer.queued > options.maxQueuePoints) pauseAll();
        } else if (f.type === FrameType.REQUEST) {
          void answer(socket, f.payload);
        } else {
          drop('unknown_type');
        }
      }
      if (reader.failure !== undefined) {
        // The length prefix cannot be trusted any more: the stream is closed cleanly.
        drop('oversized');
        refuse('OSP_AGENT_PROTOCOL', reader.failure);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(helloTimer);
      conns.delete(socket);
      metrics.connections--;
    });
  };
  accepting = true;
  for (const socket of early.splice(0)) onConnection(socket);

  async function answer(socket: Socket, payload: Buffer): Promise<void> {
    const req = parseJsonObject(payload);
    const id = req?.id ?? null;
    let reply: Record<string, unknown>;
    try {
      if (req === undefined || typeof req.op !== 'string' || !READ_OPS.has(req.op) || !Array.isArray(req.args)) {
        throw new Error('bad request: expected {"id":N,"op":"getReport|listTraces|listErrorTraces|searchTraces","args":[…]}');
      }
      if (backend === undefined) throw new Error('this agent has no store to read from (it publishes --upstream; give --backend too for reads)');
      const d = await backend.open();
      const args = req.args as unknown[];
      let result: unknown;
      if (req.op === 'getReport') result = await d.getReport(String(args[0]));
      else if (req.op === 'listTraces') result = await d.listTraces((args[0] ?? {}) as object);
      else if (req.op === 'searchTraces') {
        // A backend that only forwards (amqp://, otlp://, …) keeps nothing to search.
        if (typeof d.searchTraces !== 'function') {
          throw new Error(`this agent's backend (${d.scheme}://) cannot search traces: it only forwards them; point the reader at the store the traces end up in`);
        }
        result = await d.searchTraces((args[0] ?? {}) as object);
      }
      else result = await d.listErrorTraces((args[0] ?? {}) as object);
      reply = { id, ok: true, result };
    } catch (err) {
      reply = { id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (!socket.destroyed) socket.write(encodeFrame(FrameType.RESPONSE, JSON.stringify(reply)));
  }

  const gauges = () => ({
    queueDepth: writer.held,
    spoolBytes: spool?.bytes ?? 0,
    backendUp: writer.backendUp,
    upstream: upstream === undefined ? undefined : { connected: upstream.connected, published: upstream.published, duplicates: upstream.duplicates, badIndexes: upstream.badIndexes },
  });
  const metricsText = (): string => prometheusText(metrics, gauges());
  let health: HealthServer | undefined;
  if (options.health !== undefined) {
    try {
      health = await startHealthServer(options.health, metricsText, () => ({ status: 'ok', ...gauges(), metrics }));
    } catch (err) {
      server.close();
      throw err;
    }
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      server.close();
      for (const c of conns) c.pause();
      await writer.drain(options.drainTimeoutMs);
      writer.halt();
      // Acks are written; let them leave before the connections go.
      await new Promise((r) => setTimeout(r, 20));
      for (const c of conns) c.end();
      await spool?.close().catch(() => undefined);
      await upstream?.close();
      await backend?.close();
      await health?.close();
      // server.close() has removed the socket file (libuv unlinks a pipe it bound).
      for (const c of conns) c.destroy();
      resolveStopped();
    })());

  return {
    socketPath: options.socketPath,
    options,
    metrics,
    healthAddress: health?.address,
    metricsText,
    stop,
    stopped,
  };
}

function checkUpstreamOptions(o: AgentOptions): void {
  if (!checkSubjectPrefix(o.subjectPrefix)) throw new AgentError('OSP_AGENT_BAD_OPTION', `subjectPrefix "${o.subjectPrefix}": expected NATS subject tokens of [A-Za-z0-9_-] joined by dots`);
  if (!Number.isInteger(o.partitions) || o.partitions < 1 || o.partitions > 1024) throw new AgentError('OSP_AGENT_BAD_OPTION', `partitions ${o.partitions}: expected an integer from 1 to 1024`);
  if (o.agentId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.agentId)) throw new AgentError('OSP_AGENT_BAD_OPTION', `agentId "${o.agentId}": expected 1-64 of [A-Za-z0-9_.-]`);
}
