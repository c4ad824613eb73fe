/** The viewer server's JSON API (served mode only). */
import type { SearchPage, TraceSummary } from '@osprofiler/core';
import type { ReportJson } from './model';

// The server answers with core's search types as JSON (type-only import: nothing of core is bundled).
export type Summary = TraceSummary;
export type Page = SearchPage;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function get<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, `the viewer server did not answer (${String(err)})`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(res.status, `unexpected answer from the viewer server (HTTP ${res.status})`);
  }
  if (!res.ok) throw new ApiError(res.status, String((body as { error?: unknown }).error ?? `HTTP ${res.status}`));
  return body as T;
}

export function search(q: URLSearchParams): Promise<Page> {
  return get<Page>(`/api/search?${q.toString()}`);
}

/** The page's compact form of the report (each stored event keeps only its info). */
export function report(id: string): Promise<ReportJson> {
  return get<ReportJson>(`${reportPath(id)}?form=page`);
}

/** The full report JSON, as `trace show --json` gives it (`?download=1` adds a file name). */
export function reportPath(id: string): string {
  return `/api/trace/${encodeURIComponent(id)}`;
}

export function info(): Promise<{ store: string; search: boolean }> {
  return get('/api/info');
}

/** Epoch ms of a summary's start (Python's UTC timestamp without zone). */
export function startedMs(s: Summary): number {
  const t = s.started ?? s.timestamp;
  return Date.parse(t.slice(0, 23) + 'Z');
}
