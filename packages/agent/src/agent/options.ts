/** Options of the agent daemon (`osprofiler agent`, `startAgent`). */
import type { DriverOptions } from '@osprofiler/core';
import { DEFAULT_PARTITIONS, DEFAULT_SUBJECT_PREFIX } from '../upstream/contract';

export interface AgentOptions {
  /** Unix socket to listen on (created with mode 0600). */
  socketPath: string;
  /** Connection string of the store the agent writes to (any scheme core's registry knows); with `upstream`, only reads use it (optional). */
  backend?: string;
  /** `nats://[user:pass@]host:4222[,…]`: publish batches to NATS JetStream for the collector instead of writing a store. */
  upstream?: string;
  /** Upstream: NATS `.creds` file. */
  natsCreds?: string;
  /** Upstream: TLS CA bundle, client certificate and key (PEM files). */
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  /** Upstream: subjects are `<prefix>.points.<project>.<partition>` (PROTOCOL.md §Upstream). */
  subjectPrefix: string;
  /** Upstream: partition count; must equal the collectors'. */
  partitions: number;
  /** Upstream: this agent's id in message ids; default host name + hash of the socket path (stable across restarts). */
  agentId?: string;
  /** Upstream: wait this long for JetStream's acknowledgement of a message. */
  publishTimeoutMs: number;
  /** Where batches go (fsynced) while the backend fails; without it, the agent holds them unacknowledged in memory. */
  spoolDir?: string;
  /** `127.0.0.1:PORT` (loopback only): serves `/metrics` (Prometheus text) and `/healthz`. */
  health?: string;
  /** Largest frame accepted (bytes). */
  maxFrameBytes: number;
  /** Largest point count one BATCH frame may declare. */
  maxBatchPoints: number;
  /** Points queued in memory at most; above it the agent stops reading from clients (they buffer). */
  maxQueuePoints: number;
  /** Points per backend write at most. */
  writeBatchPoints: number;
  /** A backend write not done in this time counts as failed (the batch is spooled). */
  writeTimeoutMs: number;
  /** Backend retry backoff after a failure: doubles from min to max. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Spool segment size before a new file starts. */
  spoolSegmentBytes: number;
  /** Spool size at most; past it new batches are not acknowledged (clients keep them). */
  maxSpoolBytes: number;
  /** How long stop()/SIGTERM may take to write or spool what is queued. */
  drainTimeoutMs: number;
  /** A connection that sends no HELLO within this time is closed. */
  helloTimeoutMs: number;
  /** Options for the backend driver (project, service, host, filterErrorTrace, …). */
  driverOptions: Partial<DriverOptions>;
  /**
   * Ask apps to send each batch's search index with its lines ('I' bodies, PROTOCOL.md),
   * so this agent and the collectors do not parse lines to index them (decode + index
   * 2.5–3.5 µs a line instead of 7.4–9.4, tools/bench/lineindex.cjs). Off by default: the
   * app pays for it on its own main thread, ~4k instructions a line (traced /nested
   * 708k → 755k instructions a request, /hello 613k → 623k, callgrind, same run), and the
   * app's cost is the one users notice. Turn on where the agent's or collectors' CPU is the
   * scarcer one.
   */
  clientIndex: boolean;
  /**
   * The agent process's nice value, 0–19 (`osprofiler agent` and the daemon `ensureAgent`
   * starts; `startAgent` inside an app's own process leaves the app's priority alone): above
   * 0, the agent runs below the apps it serves. 0 by default, which leaves the priority as
   * it was: nice 10 measured no better for the app, and worse on some routes (src/priority.ts).
   * A process already started nicer keeps its value.
   */
  nice: number;
}

export const DEFAULT_AGENT_OPTIONS: Readonly<Omit<AgentOptions, 'socketPath' | 'backend'>> = {
  subjectPrefix: DEFAULT_SUBJECT_PREFIX,
  partitions: DEFAULT_PARTITIONS,
  publishTimeoutMs: 5_000,
  maxFrameBytes: 8 * 1024 * 1024,
  maxBatchPoints: 100_000,
  maxQueuePoints: 20_000,
  writeBatchPoints: 2_000,
  writeTimeoutMs: 15_000,
  retryMinMs: 100,
  retryMaxMs: 5_000,
  spoolSegmentBytes: 16 * 1024 * 1024,
  maxSpoolBytes: 1024 * 1024 * 1024,
  drainTimeoutMs: 10_000,
  helloTimeoutMs: 2_000,
  driverOptions: {},
  clientIndex: false,
  nice: 0,
};

export type AgentOptionsInput = Pick<AgentOptions, 'socketPath'> & Partial<AgentOptions>;
