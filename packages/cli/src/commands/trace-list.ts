/** `osprofiler trace list` */
import { pyDumps } from '@osprofiler/core';
import type { Driver, TraceSummary } from '@osprofiler/core';
import { resolveConnectionString, withDriver } from '../connection';
import { CliError, CONNECTION_ENV } from '../io';
import type { CliIO } from '../io';
import { describeStore, missingStore } from '../store';
import { displayWidth, oneLine, padEnd } from '../render/text';
import { collectSearch, extraFields, summariesById, wantsSearch, wideRow, WIDE_FIELDS, type TraceSearchFlags } from './trace-search';

export interface TraceListOptions extends TraceSearchFlags {
  errorTrace?: boolean;
  errors?: boolean;
  limit?: number;
  connectionString?: string;
  json?: boolean;
}

/** A prettytable-like table (`align = "l"`), as Python's `trace list` prints. */
export function renderTable(fields: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = fields.map((f, i) => Math.max(displayWidth(f), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (cells: readonly string[]): string =>
    '|' + widths.map((w, i) => ` ${padEnd(cells[i] ?? '', w)} `).join('|') + '|';
  return [rule, line(fields), rule, ...rows.map(line), rule].join('\n');
}

/** An empty table would hide a wrong path: a store that does not exist is an error. */
function assertStore(cs: string, driver: Driver): void {
  if (missingStore(driver)) {
    throw new CliError(
      `no trace store at ${describeStore(cs, driver)}: nothing was stored there yet, or the service writes elsewhere (--connection-string, ${CONNECTION_ENV})`,
      1,
    );
  }
}

export async function traceList(opts: TraceListOptions, io: CliIO): Promise<number> {
  const cs = resolveConnectionString(opts.connectionString, io.env);
  const onlyErrors = Boolean(opts.errorTrace || opts.errors);
  const listOptions = opts.limit !== undefined ? { limit: opts.limit } : {};
  if (wantsSearch(opts)) {
    // Filters or --wide: the store's search index, newest first (search.ts in core).
    const found = await withDriver(cs, io, (driver) => {
      assertStore(cs, driver);
      return collectSearch(driver, opts, onlyErrors, opts.limit);
    });
    if (opts.json) io.stdout(pyDumps(found.map((t) => ({ base_id: t.base_id, timestamp: t.timestamp, ...extraFields(t) })), { indent: 2, separators: [',', ': '] }) + '\n');
    else io.stdout(renderTable(WIDE_FIELDS, found.map(wideRow)) + '\n');
    return 0;
  }
  let extra = new Map<string, TraceSummary>();
  const traces: TraceSummary[] = await withDriver(cs, io, async (driver) => {
    assertStore(cs, driver);
    const listed = await (onlyErrors ? driver.listErrorTraces(listOptions) : driver.listTraces(listOptions));
    if (opts.json) extra = await summariesById(driver, onlyErrors);
    return listed;
  });
  // Newest first, whatever order the backend returned (stable for equal timestamps).
  const sorted = [...traces].sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
  const shown = opts.limit !== undefined ? sorted.slice(0, opts.limit) : sorted;

  if (opts.json) {
    // The listing's own fields as before, then what the search index knows of the trace.
    const rows = shown.map((t) => ({ base_id: t.base_id, timestamp: t.timestamp, ...extraFields(extra.get(t.base_id)) }));
    io.stdout(pyDumps(rows, { indent: 2, separators: [',', ': '] }) + '\n');
  } else {
    const fields = ['base_id', 'timestamp'] as const;
    io.stdout(renderTable(fields, shown.map((t) => fields.map((f) => oneLine(t[f])))) + '\n');
  }
  return 0;
}
