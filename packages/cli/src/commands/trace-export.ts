/** `osprofiler trace export <base_id> --to <connection string>` */
import { exportTrace } from '@osprofiler/core';
import { redact, resolveConnectionString, withDriver } from '../connection';
import { CliError, type CliIO } from '../io';
import { notFoundMessage } from './trace-show';

export interface TraceExportOptions {
  to: string;
  connectionString?: string;
}

/** Copies a stored trace to another store (e.g. an OpenTelemetry backend via otlp://). */
export async function traceExport(baseId: string, opts: TraceExportOptions, io: CliIO): Promise<number> {
  const source = resolveConnectionString(opts.connectionString, io.env);
  const copied = await withDriver(source, io, (from) => withDriver(opts.to, io, (to) => exportTrace(from, baseId, to)));
  if (copied === 0) throw new CliError(notFoundMessage(baseId, `'${redact(source)}'`), 1, true);
  io.stdout(`exported ${copied} notifications of trace ${baseId}\n`);
  return 0;
}
