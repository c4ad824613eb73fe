/**
 * The SQL drivers' search index: one summary row per trace, upserted with each batch (so
 * several writers merge in the database), plus one tag row per service/project/host.
 *
 *   <prefix>osprofiler_traces: base_id (key), first_ts/last_ts (text, Python's format),
 *     first_us/last_us/duration_us, points, error, root_key (sorts best root first:
 *     '0'+ts for a point whose parent is the base_id, '1'+ts otherwise, '2' for none),
 *     root_name, root_service, root_detail, route, search_text (lower-cased, bounded),
 *     created_at; INDEX (first_us, base_id) for the newest-first page.
 *   tags: postgresql keeps them in the summary row ('s:…', 'p:…', 'h:…', a GIN index);
 *   mysql in <prefix>osprofiler_tags: (kind 's'|'p'|'h', value, base_id) key.
 */
import { searchIndex } from '@osprofiler/core/instrument';
import type { SearchOptions, TraceSummary } from '@osprofiler/core';
import type { TraceDelta } from '@osprofiler/core/instrument';

export interface SummaryRow {
  baseId: string;
  firstTs: string;
  lastTs: string;
  firstUs: string;
  lastUs: string;
  points: number;
  error: boolean;
  rootKey: string;
  rootName: string | null;
  rootService: string | null;
  rootDetail: string | null;
  route: string | null;
  text: string;
  tags: [kind: 's' | 'p' | 'h', value: string][];
}

export function summaryRows(deltas: Map<string, TraceDelta>): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const d of deltas.values()) {
    const fu = searchIndex.timestampMicros(d.first);
    const lu = searchIndex.timestampMicros(d.last);
    if (!Number.isFinite(fu) || !Number.isFinite(lu)) continue;
    const tags: SummaryRow['tags'] = [];
    for (const v of d.services) tags.push(['s', v]);
    for (const v of d.projects) tags.push(['p', v]);
    for (const v of d.hosts) tags.push(['h', v]);
    out.push({
      baseId: d.baseId,
      firstTs: d.first,
      lastTs: d.last,
      firstUs: String(fu),
      lastUs: String(lu),
      points: d.points,
      error: d.error,
      rootKey: d.root === null ? '2' : (d.root.top ? '0' : '1') + d.root.ts,
      rootName: d.root?.name ?? null,
      rootService: d.root?.service ?? null,
      rootDetail: d.root?.detail ?? null,
      route: d.route,
      text: d.text.toLowerCase().slice(0, searchIndex.MAX_TEXT),
      tags,
    });
  }
  return out;
}

/** A row as the search query returns it. */
export interface SummaryResult {
  base_id: string;
  first_ts: string;
  last_ts: string;
  first_us: string | number;
  last_us: string | number;
  points: string | number;
  error: boolean | number;
  root_name: string | null;
  root_service: string | null;
  root_detail: string | null;
  route: string | null;
}

export function summaryOfRow(r: SummaryResult, tags: Map<string, { s: string[]; p: string[]; h: string[] }>): TraceSummary {
  const t = tags.get(r.base_id) ?? { s: [], p: [], h: [] };
  return {
    base_id: r.base_id,
    timestamp: r.first_ts,
    started: r.first_ts,
    duration_ms: (Number(r.last_us) - Number(r.first_us)) / 1000,
    root_name: r.root_name,
    root_service: r.root_service,
    root_detail: searchIndex.rootLabel(r.route, r.root_detail),
    services: t.s,
    projects: t.p,
    hosts: t.h,
    points: Number(r.points),
    error: r.error === true || Number(r.error) === 1,
    indexed: true,
  };
}

/**
 * Traces a text search examines at most per call (the newest matching the other filters,
 * after the cursor), as redis:// does: a LIKE over every summary took 280 ms at 100,000
 * traces for a rare word (tools/bench/search.cjs); a window of 5,000 takes a bounded time
 * whatever the store's size, and the cursor goes on to older traces.
 */
export const TEXT_SEARCH_BOUND = 5_000;

/** What a dialect's search query returns. */
export interface SummaryPage {
  rows: SummaryResult[];
  /** With text, when the window of examined traces was full: its oldest trace (where the next call goes on). */
  edge?: { first_us: string | number; base_id: string };
}

/** LIKE pattern for a substring (escape character `!`). */
export function likeContains(s: string): string {
  return '%' + s.replace(/[!%_]/g, (c) => '!' + c) + '%';
}

export type { SearchOptions };
