/** `osprofiler trace list` */
import { pyDumps } from '@osprofiler/core';
import type { TraceSummary } from '@osprofiler/core';
import { resolveConnectionString, withDriver } from '../connection';
import { CliError, CONNECTION_ENV } from '../io';
import type { CliIO } from '../io';
import { describeStore, missingStore } from '../store';
import { displayWidth, oneLine, padEnd } from '../render/text';

export interface TraceListOptions {
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

export async function traceList(opts: TraceListOptions, io: CliIO): Promise<number> {
  const cs = resolveConnectionString(opts.connectionString, io.env);
  const onlyErrors = Boolean(opts.errorTrace || opts.errors);
  const listOptions = opts.limit !== undefined ? { limit: opts.limit } : {};
  const traces: TraceSummary[] = await withDriver(cs, io, (driver) => {
    // An empty table would hide a wrong path: a store that does not exist is an error.
    if (missingStore(driver)) {
      throw new CliError(
        `no trace store at ${describeStore(cs, driver)}: nothing was stored there yet, or the service writes elsewhere (--connection-string, ${CONNECTION_ENV})`,
        1,
      );
    }
    return onlyErrors ? driver.listErrorTraces(listOptions) : driver.listTraces(listOptions);
  });
  // Newest first, whatever order the backend returned (stable for equal timestamps).
  const sorted = [...traces].sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
  const shown = opts.limit !== undefined ? sorted.slice(0, opts.limit) : sorted;

  if (opts.json) {
    const rows = shown.map((t) => ({ base_id: t.base_id, timestamp: t.timestamp }));
    io.stdout(pyDumps(rows, { indent: 2, separators: [',', ': '] }) + '\n');
  } else {
    const fields = ['base_id', 'timestamp'] as const;
    io.stdout(renderTable(fields, shown.map((t) => fields.map((f) => oneLine(t[f])))) + '\n');
  }
  return 0;
}
