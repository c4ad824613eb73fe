/** The agent's counters and their Prometheus text exposition. */
export type DropReason = 'malformed' | 'oversized' | 'unknown_type' | 'no_handshake' | 'bad_points';

export interface AgentMetrics {
  /** Points in BATCH frames accepted (duplicates not counted). */
  received: number;
  /** Points acknowledged to clients (written or spooled). */
  acknowledged: number;
  /** Points written to the backend directly. */
  written: number;
  /** Points written to the spool while the backend failed. */
  spooled: number;
  /** Points written to the backend from the spool. */
  replayed: number;
  /** Frames dropped, by reason (`bad_points` counts points of a batch that did not parse). */
  dropped: Record<DropReason, number>;
  /** Backend writes that failed (each one sends the agent into spooling). */
  backendErrors: number;
  /** Points received with their search index ('I' bodies; the others are parsed to be indexed). */
  indexedPoints: number;
  /** Batches whose carried search index did not check out (dropped; their lines are parsed instead). */
  badIndexes: number;
  /** Batches received again after a reconnect (acknowledged, not stored twice). */
  duplicates: number;
  /** Frames received. */
  frames: number;
  connections: number;
}

export function newMetrics(): AgentMetrics {
  return {
    received: 0,
    acknowledged: 0,
    written: 0,
    spooled: 0,
    replayed: 0,
    dropped: { malformed: 0, oversized: 0, unknown_type: 0, no_handshake: 0, bad_points: 0 },
    backendErrors: 0,
    badIndexes: 0,
    indexedPoints: 0,
    duplicates: 0,
    frames: 0,
    connections: 0,
  };
}

export interface Gauges {
  queueDepth: number;
  spoolBytes: number;
  backendUp: boolean;
  /** With --upstream: the NATS side. */
  upstream?: { connected: boolean; published: number; duplicates: number; badIndexes: number };
}

export function prometheusText(m: AgentMetrics, g: Gauges): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, value: number): void => {
    lines.push(`# HELP osprofiler_agent_${name} ${help}`, `# TYPE osprofiler_agent_${name} counter`, `osprofiler_agent_${name} ${value}`);
  };
  const gauge = (name: string, help: string, value: number): void => {
    lines.push(`# HELP osprofiler_agent_${name} ${help}`, `# TYPE osprofiler_agent_${name} gauge`, `osprofiler_agent_${name} ${value}`);
  };
  counter('received_points_total', 'Points received in batch frames (duplicates excluded).', m.received);
  counter('acknowledged_points_total', 'Points acknowledged to clients (written or spooled).', m.acknowledged);
  counter('written_points_total', 'Points written to the backend directly.', m.written);
  counter('spooled_points_total', 'Points written to the disk spool while the backend failed.', m.spooled);
  counter('replayed_points_total', 'Points written to the backend from the spool.', m.replayed);
  lines.push('# HELP osprofiler_agent_dropped_total Frames (or points, reason bad_points) dropped, by reason.', '# TYPE osprofiler_agent_dropped_total counter');
  for (const [reason, v] of Object.entries(m.dropped)) lines.push(`osprofiler_agent_dropped_total{reason="${reason}"} ${v}`);
  counter('backend_errors_total', 'Backend writes that failed.', m.backendErrors);
  counter('indexed_points_total', 'Points received with their search index (the others are parsed when indexed).', m.indexedPoints);
  counter('bad_index_batches_total', 'Batches whose search index section did not check out (index dropped, lines parsed instead).', m.badIndexes + (g.upstream?.badIndexes ?? 0));
  counter('duplicate_batches_total', 'Batches received again after a reconnect (not stored twice).', m.duplicates);
  counter('frames_total', 'Frames received.', m.frames);
  gauge('connections', 'Open client connections.', m.connections);
  gauge('queue_depth', 'Points held in memory, unacknowledged: queued for the backend or spool, or in a write under way.', g.queueDepth);
  gauge('spool_bytes', 'Bytes waiting in the spool.', g.spoolBytes);
  gauge('backend_up', '1 when the last backend write succeeded.', g.backendUp ? 1 : 0);
  if (g.upstream !== undefined) {
    counter('upstream_published_points_total', 'Points published to NATS JetStream and acknowledged by it.', g.upstream.published);
    counter('upstream_duplicate_messages_total', 'Messages JetStream reported as duplicates (resent, stored once).', g.upstream.duplicates);
    gauge('upstream_connected', '1 while connected to NATS.', g.upstream.connected ? 1 : 0);
  }
  gauge('resident_memory_bytes', 'Resident set size of the agent process.', process.memoryUsage.rss());
  return lines.join('\n') + '\n';
}
