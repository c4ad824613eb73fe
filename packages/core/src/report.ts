/**
 * The report builder: a line-by-line port of Python OSProfiler's `drivers/base.py`
 * (`_append_results`, `_parse_results`, `_build_tree`), wire spec §5. Key order, integer
 * truncation and tie-breaking all follow the Python code, so `formatReportJson` of a
 * report built from the same events, in the same order, is byte-identical to
 * `osprofiler trace show --json`.
 *
 * Deliberate differences (Python raises and shows nothing; one bad event should not hide
 * a whole trace): events without string `name`/`trace_id`/`parent_id` or with a timestamp
 * `strptime` would reject are skipped and counted; a missing `project`/`service`/
 * `info.host` becomes null; a trace with only stop events gets `last_trace_started: null`;
 * a parent cycle is cut (the first-seen node of the cycle becomes top-level) instead of
 * failing in `json.dumps` with "Circular reference detected".
 */
import { recordFailure } from './failures';
import type { Notification } from './notification';
import { pyDumps } from './pyjson';
import type { Report, ReportNode, ReportNodeInfo, ReportStats } from './report-types';
import { parseTimestamp } from './timestamp';

/** What the builder accepts: stored notifications, possibly from other writers. */
export type ReportEvent = Notification | Readonly<Record<string, unknown>>;

// Python: int((dt.microseconds + (dt.seconds + dt.days*86400) * 1e6) / 1000.0).
// The float maths is the same in JS as long as the gap is below 2**53 µs (~285 years).
function msec(deltaMicros: bigint): number {
  return Math.trunc(Number(deltaMicros) / 1000);
}

/** Working node: times stay bigint µs until finalised to ms, like Python's datetimes. */
interface Building {
  node: ReportNode;
  started?: bigint;
  finished?: bigint;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Builds the report from events in the order given. Redis (and the drivers here) hand
 * them newest first; the key order inside each node depends on that order, as in Python.
 */
export function buildReport(events: Iterable<ReportEvent>): Report {
  // Map, not an object: trace ids are unchecked strings and must keep first-seen order.
  const result = new Map<string, Building>();
  let startedAt: bigint | undefined;
  let finishedAt: bigint | undefined;
  let lastStartedAt: bigint | undefined;

  for (const raw of events) {
    const n = raw as Record<string, unknown>;
    const traceId = str(n?.trace_id);
    const parentId = str(n?.parent_id);
    const name = str(n?.name);
    const tsText = str(n?.timestamp);
    const ts = tsText === undefined ? undefined : parseTimestamp(tsText);
    if (traceId === undefined || parentId === undefined || name === undefined || ts === undefined) {
      recordFailure('report.event', new Error('skipped an event without name/trace_id/parent_id or with a bad timestamp'));
      continue;
    }
    const evInfo = n.info !== null && typeof n.info === 'object' ? (n.info as Record<string, unknown>) : undefined;

    let b = result.get(traceId);
    if (b === undefined) {
      const info = {
        name: name.split('-')[0],
        project: (n.project ?? null) as string | null,
        service: (n.service ?? null) as string | null,
        host: (evInfo?.host ?? null) as string,
      } as ReportNodeInfo;
      b = { node: { info, trace_id: traceId, parent_id: parentId } as ReportNode };
      result.set(traceId, b);
    }
    const info = b.node.info as Record<string, unknown>;
    info[`meta.raw_payload.${name}`] = raw;

    if (name.endsWith('stop')) {
      // Placeholders keep Python's key position; the ms values are written when finalising.
      info.finished = ts;
      b.finished = ts;
      // Python: "None" unless the payload has info, then info.get("etype", "None"):
      // an explicit null etype stays null.
      info.exception = evInfo !== undefined && Object.keys(n).length > 0 && 'etype' in evInfo ? evInfo.etype : 'None';
    } else {
      info.started = ts;
      b.started = ts;
      if (lastStartedAt === undefined || lastStartedAt < ts) lastStartedAt = ts;
    }
    if (startedAt === undefined || startedAt > ts) startedAt = ts;
    if (finishedAt === undefined || finishedAt < ts) finishedAt = ts;
  }

  const stats: ReportStats = {};
  for (const b of result.values()) {
    const info = b.node.info as Record<string, unknown>;
    // "We are not able to guarantee that the backend consumed all messages": a half-seen
    // span gets duration 0. Adding the missing key here puts it last, as in Python.
    if (b.started === undefined) b.started = b.finished;
    if (b.finished === undefined) b.finished = b.started;
    const opStarted = msec(b.started! - startedAt!);
    const opFinished = msec(b.finished! - startedAt!);
    const duration = opFinished - opStarted;
    info.started = opStarted;
    info.finished = opFinished;
    const opType = b.node.info.name;
    const s = stats[opType];
    if (s === undefined) stats[opType] = { count: 1, duration };
    else {
      s.count += 1;
      s.duration += duration;
    }
  }

  return {
    info: {
      name: 'total',
      started: 0,
      finished: startedAt !== undefined ? msec(finishedAt! - startedAt) : null,
      last_trace_started: startedAt !== undefined && lastStartedAt !== undefined ? msec(lastStartedAt - startedAt) : null,
    },
    children: buildTree(result),
    stats,
  };
}

/** Python `_build_tree`: attach to a known parent, else top level; stable sort by start. */
function buildTree(nodes: Map<string, Building>): ReportNode[] {
  const parentOf = cutCycles(nodes);
  const tree: ReportNode[] = [];
  for (const [traceId, { node }] of nodes) {
    node.children ??= [];
    const parent = parentOf.get(traceId);
    if (parent !== undefined) {
      const p = nodes.get(parent)!.node;
      p.children ??= [];
      p.children.push(node);
    } else {
      tree.push(node);
    }
  }
  const byStarted = (a: ReportNode, b: ReportNode): number => a.info.started - b.info.started;
  for (const { node } of nodes.values()) node.children.sort(byStarted);
  return tree.sort(byStarted);
}

/**
 * The parent (a known trace id) of each node, with every parent cycle cut at its
 * first-seen member, so the result is a forest whatever ids a header carried.
 */
function cutCycles(nodes: Map<string, Building>): Map<string, string> {
  const parentOf = new Map<string, string>();
  for (const [traceId, { node }] of nodes) if (nodes.has(node.parent_id)) parentOf.set(traceId, node.parent_id);
  const done = new Set<string>();
  for (const start of nodes.keys()) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let cur: string | undefined = start;
    while (cur !== undefined && !done.has(cur) && !onPath.has(cur)) {
      path.push(cur);
      onPath.add(cur);
      cur = parentOf.get(cur);
    }
    if (cur !== undefined && onPath.has(cur)) {
      // Found a cycle: cut it at the member that comes first in the nodes' order.
      const cycle = path.slice(path.indexOf(cur));
      const first = [...nodes.keys()].find((id) => cycle.includes(id))!;
      parentOf.delete(first);
    }
    for (const id of path) done.add(id);
  }
  return parentOf;
}

/** `osprofiler trace show --json` text: json.dumps(report, indent=2, separators=(",", ": ")). */
export function formatReportJson(report: Report): string {
  return pyDumps(report, { indent: 2, separators: [',', ': '] });
}
