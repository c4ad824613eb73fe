/**
 * The human-readable view of a report: one line per trace point, indented as a tree,
 * with start offset, duration, a timeline bar scaled to the whole trace and a short
 * detail (error, request, function, SQL). Every line fits in `width` columns (100).
 */
import type { Report, ReportNode } from '@osprofiler/core';
import { displayWidth, oneLine, padEnd, padStart, truncate } from './text';

export interface TreeOptions {
  /** Shown in the header; taken from the stored events when not given. */
  baseId?: string;
  /** Maximum line width in columns. Default 100, minimum 60. */
  width?: number;
  /** Cells of the timeline bar. Default 20. */
  barWidth?: number;
}

type Info = Record<string, unknown>;

const START_W = 7;
const DURATION_W = 9;
const MAX_NAME_W = 40;
const MAX_SERVICE_W = 24;
const MAX_PREFIX_GROUPS = 8;
/** Root-info keys that, when a positive number, mean the trace lost events. */
const LOSS_KEY = /drop|lost|discard|skip|missing|truncat|overflow/i;

function obj(value: unknown): Info | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Info) : undefined;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The `info` of a node's stored start (or stop) event, whatever the full point name was. */
function payloadInfo(info: Info, suffix: '-start' | '-stop'): Info | undefined {
  for (const key of Object.keys(info)) {
    if (key.startsWith('meta.raw_payload.') && key.endsWith(suffix)) return obj(obj(info[key])?.info);
  }
  return undefined;
}

function isError(info: Info): boolean {
  return typeof info.exception === 'string' ? info.exception !== 'None' : info.exception !== undefined && info.exception !== null;
}

/** What the point did, recognised by its info as well as its name (Python and Node kinds). */
export function describePoint(info: Info): string {
  const start = payloadInfo(info, '-start') ?? {};
  const stop = payloadInfo(info, '-stop') ?? {};
  const parts: string[] = [];

  if (isError(info)) {
    const message = str(stop.message);
    parts.push(`ERROR ${oneLine(str(info.exception) ?? '')}${message ? `: ${oneLine(message)}` : ''}`);
  } else if (!('exception' in info)) {
    parts.push('(no stop event)');
  }

  const db = obj(start.db);
  const request = obj(start.request);
  const fn = obj(start.function);
  const requests = obj(start.requests);
  const exec = obj(start.exec);
  const message = obj(start.message);
  let what: string | undefined;
  if (db && str(db.statement)) {
    what = str(db.statement);
  } else if (request && str(request.method) && str(request.path) !== undefined) {
    const query = str(request.query);
    what = `${str(request.method)} ${str(request.path)}${query ? `?${query}` : ''}`;
  } else if (fn && str(fn.name)) {
    what = str(fn.name);
  } else if (request && str(request.method) && str(request.url)) {
    what = `${str(request.method)} ${str(request.url)}`;
  } else if (requests && str(requests.method)) {
    const port = str(requests.port);
    what = `${str(requests.method)} ${str(requests.scheme) ?? 'http'}://${str(requests.hostname) ?? ''}${port ? `:${port}` : ''}${str(requests.path) ?? ''}`;
  } else if (exec && str(exec.command)) {
    what = str(exec.command);
  } else if (message && str(message.pattern)) {
    what = str(message.pattern);
  }
  if (what) parts.push(oneLine(what));

  const status = str(obj(stop.response)?.status_code) ?? str(obj(stop.requests)?.status_code);
  if (status) parts.push(`-> ${status}`);
  const rows = str(obj(stop.db)?.rows);
  if (rows) parts.push(`(${rows} rows)`);
  const exitCode = obj(stop.exec)?.exit_code ?? obj(stop.thread)?.exit_code;
  if (typeof exitCode === 'number' && exitCode !== 0) parts.push(`exit ${exitCode}`);
  return parts.join(' ');
}

function bar(started: number, finished: number, total: number, cells: number): string {
  const t = total > 0 ? total : 1;
  let a = Math.floor((started * cells) / t);
  let b = Math.ceil((finished * cells) / t);
  a = Math.min(Math.max(a, 0), cells - 1);
  b = Math.min(Math.max(b, a + 1), cells);
  return '·'.repeat(a) + '█'.repeat(b - a) + '·'.repeat(cells - b);
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function findBaseId(nodes: ReportNode[]): string | undefined {
  for (const node of nodes) {
    for (const key of Object.keys(node.info)) {
      if (key.startsWith('meta.raw_payload.')) {
        const id = str(obj(node.info[key])?.base_id);
        if (id) return id;
      }
    }
  }
  return undefined;
}

function countNodes(nodes: ReportNode[]): { points: number; errors: number } {
  let points = 0;
  let errors = 0;
  const stack = [...nodes];
  while (stack.length > 0) {
    const node = stack.pop() as ReportNode;
    points++;
    if (isError(node.info as Info)) errors++;
    if (Array.isArray(node.children)) stack.push(...node.children);
  }
  return { points, errors };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Render a report as an indented tree; every line ends with '\n'. */
export function renderTree(report: Report, opts: TreeOptions = {}): string {
  const width = Math.max(60, Math.floor(opts.width ?? 100));
  const cells = Math.max(5, Math.floor(opts.barWidth ?? 20));
  const children: ReportNode[] = Array.isArray(report.children) ? report.children : [];
  const total = num(report.info?.finished);
  const { points, errors } = countNodes(children);
  const baseId = opts.baseId ?? findBaseId(children) ?? '?';
  const out: string[] = [];
  const emit = (line: string): void => {
    out.push(truncate(line, width) + '\n');
  };

  const summary = [`total ${total} ms`, plural(points, 'point')];
  if (errors > 0) summary.push(plural(errors, 'error'));
  const tail = `  ${summary.join(', ')}`;
  emit(`trace ${truncate(oneLine(baseId), width - 6 - displayWidth(tail))}${tail}`);

  for (const key of Object.keys(report.info ?? {})) {
    const value = (report.info as Info)[key];
    if (LOSS_KEY.test(key) && typeof value === 'number' && value > 0) {
      emit(`warning: the trace is incomplete: ${oneLine(key)} = ${value} (events were lost before storage)`);
    }
  }
  // Points dropped before storage (agent:// client buffer, agent) are stored as top-level
  // `dropped-stop` notifications with info.dropped = N (see packages/agent/PROTOCOL.md).
  let droppedPoints = 0;
  for (const node of children) {
    const n = (node.info as Info).name === 'dropped' ? (payloadInfo(node.info as Info, '-stop') ?? {}).dropped : undefined;
    if (typeof n === 'number' && n > 0) droppedPoints += n;
  }
  if (droppedPoints > 0) emit(`warning: the trace is incomplete: ${plural(droppedPoints, 'point')} dropped before storage`);
  if (children.length === 0) {
    emit('(no trace points)');
    return out.join('');
  }

  const timeline = truncate(`0-${total} ms`, cells);
  emit(
    `${padStart('start', START_W)} ${padStart('duration', DURATION_W)} |${padEnd(timeline, cells)}| point (service) detail`,
  );

  const walk = (nodes: ReportNode[], ancestors: string): void => {
    nodes.forEach((node, index) => {
      const last = index === nodes.length - 1;
      const depth = ancestors.length / 3;
      const info = node.info as Info;
      const started = num(info.started);
      const finished = num(info.finished);
      let prefix = '';
      if (depth > 0) {
        let groups = ancestors.slice(3);
        if (groups.length / 3 > MAX_PREFIX_GROUPS) groups = '…' + groups.slice(-3 * MAX_PREFIX_GROUPS);
        prefix = groups + (last ? '└─ ' : '├─ ');
      }
      const name = truncate(oneLine(str(info.name) ?? '?'), MAX_NAME_W);
      const service = str(info.service);
      const who = service ? `${name} (${truncate(oneLine(service), MAX_SERVICE_W)})` : name;
      const detail = describePoint(info);
      emit(
        `${padStart(`+${started}`, START_W)} ${padStart(`${finished - started} ms`, DURATION_W)} ` +
          `|${bar(started, finished, total, cells)}| ${prefix}${who}${detail ? `  ${detail}` : ''}`,
      );
      const kids = Array.isArray(node.children) ? node.children : [];
      walk(kids, ancestors + (depth === 0 ? '   ' : last ? '   ' : '│  '));
    });
  };
  // Top-level points start flush left; `ancestors` holds one 3-column group per level.
  walk(children, '');
  return out.join('');
}
