/**
 * `osprofiler trace list` filters and columns, through the store's search index
 * (`Driver.searchTraces`). Without a filter or `--wide`, `trace list` prints Python's
 * two-column table exactly as before.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Driver, SearchOptions, TraceSummary } from '@osprofiler/core';
import { CliError } from '../io';
import { oneLine } from '../render/text';

export interface TraceSearchFlags {
  service?: string;
  project?: string;
  root?: string;
  host?: string;
  since?: number;
  until?: number;
  minDuration?: number;
  maxDuration?: number;
  text?: string;
  wide?: boolean;
}

/** Pages read at most when collecting (`--limit` or everything, up to this many pages of 1000). */
const MAX_PAGES = 20;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250`, `250ms`, `1.5s`, `2m` as milliseconds. */
export function parseDurationArg(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (m === null) throw new InvalidArgumentError('expected a duration like 250, 250ms, 1.5s or 2m.');
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

/** An ISO date/time (UTC when no zone is given), or an age like `15m`, `2h`, `7d` (that long ago). */
export function parseTimeArg(value: string, now = Date.now()): number {
  const rel = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$/.exec(value);
  if (rel !== null) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  let v = value.trim();
  if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) v = v.replace(' ', 'T') + 'Z';
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO time (2026-01-31T12:00:00, UTC) or an age like 15m, 2h, 7d.');
  return ms;
}

/** Adds the filter options to `trace list`. */
export function addSearchOptions(cmd: Command): Command {
  return cmd
    .option('--service <name>', 'only traces with a point of this service')
    .option('--project <name>', 'only traces with a point of this project')
    .option('--root <name>', 'only traces whose root point has this name (e.g. wsgi)')
    .option('--host <name>', 'only traces with a point recorded on this host')
    .addOption(new Option('--since <time>', 'only traces started at or after TIME (ISO, UTC; or an age: 15m, 2h, 7d)').argParser((v) => parseTimeArg(v)))
    .addOption(new Option('--until <time>', 'only traces started at or before TIME').argParser((v) => parseTimeArg(v)))
    .addOption(new Option('--min-duration <d>', 'only traces lasting at least D (250ms, 1.5s; plain numbers are ms)').argParser(parseDurationArg))
    .addOption(new Option('--max-duration <d>', 'only traces lasting at most D').argParser(parseDurationArg))
    .option('--text <s>', "only traces with S in a point's route, path, SQL, command, function or error (case-insensitive)")
    .option('--wide', 'add the columns service, root, duration, points and error');
}

export function wantsSearch(o: TraceSearchFlags & { errorTrace?: boolean; errors?: boolean }): boolean {
  return (
    o.wide === true ||
    [o.service, o.project, o.root, o.host, o.since, o.until, o.minDuration, o.maxDuration, o.text].some((v) => v !== undefined)
  );
}

function searchOf(o: TraceSearchFlags, errorsOnly: boolean): SearchOptions {
  return {
    service: o.service,
    project: o.project,
    root: o.root,
    host: o.host,
    since: o.since,
    until: o.until,
    minDurationMs: o.minDuration,
    maxDurationMs: o.maxDuration,
    text: o.text,
    errorsOnly,
  };
}

function requireSearch(driver: Driver): NonNullable<Driver['searchTraces']> {
  if (typeof driver.searchTraces !== 'function') {
    throw new CliError(`the ${driver.scheme}:// store cannot search traces; filters and --wide need a store with a search index (file://, redis://, postgresql://, mysql://, agent://)`, 2);
  }
  return driver.searchTraces.bind(driver);
}

/** Summaries matching the flags, newest first, at most `limit` (else everything up to the page bound). */
export async function collectSearch(driver: Driver, o: TraceSearchFlags, errorsOnly: boolean, limit?: number): Promise<TraceSummary[]> {
  const search = requireSearch(driver);
  const out: TraceSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const want = limit === undefined ? 1000 : Math.min(1000, limit - out.length);
    const r = await search({ ...searchOf(o, errorsOnly), limit: want, cursor });
    out.push(...r.traces);
    if (r.cursor === null || (limit !== undefined && out.length >= limit)) break;
    cursor = r.cursor;
  }
  return limit === undefined ? out : out.slice(0, limit);
}

/** The fields `--json` adds to each `{base_id, timestamp}` when the store can search. */
export function extraFields(s: TraceSummary | undefined): Record<string, unknown> {
  if (s === undefined) return {};
  return {
    started: s.started ?? null,
    duration_ms: s.duration_ms ?? null,
    root_name: s.root_name ?? null,
    root_service: s.root_service ?? null,
    root_detail: s.root_detail ?? null,
    services: s.services ?? [],
    projects: s.projects ?? [],
    hosts: s.hosts ?? [],
    points: s.points ?? null,
    error: s.error ?? null,
    indexed: s.indexed ?? null,
  };
}

/** Summaries by base_id for enriching `--json` (empty when the store cannot search). */
export async function summariesById(driver: Driver, errorsOnly: boolean): Promise<Map<string, TraceSummary>> {
  const map = new Map<string, TraceSummary>();
  if (typeof driver.searchTraces !== 'function') return map;
  for (const s of await collectSearch(driver, {}, errorsOnly)) map.set(s.base_id, s);
  return map;
}

export const WIDE_FIELDS = ['base_id', 'timestamp', 'service', 'root', 'duration', 'points', 'error'] as const;

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

export function wideRow(s: TraceSummary): string[] {
  const root = [s.root_name, s.root_detail].filter((v) => v !== null && v !== undefined && v !== '').join(' ');
  return [
    s.base_id,
    s.timestamp,
    (s.services ?? []).join(','),
    root,
    formatMs(s.duration_ms),
    s.points === undefined ? '' : String(s.points),
    s.error === true ? 'yes' : s.error === false ? '' : '?',
  ].map((c) => oneLine(c));
}
