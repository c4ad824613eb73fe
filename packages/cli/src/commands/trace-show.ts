/** `osprofiler trace show <base_id | report.json>` */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { formatReportJson } from '@osprofiler/core';
import type { Report } from '@osprofiler/core';
import { redact, resolveConnectionString, withDriver } from '../connection';
import { CliError, CONNECTION_ENV } from '../io';
import type { CliIO } from '../io';
import { renderDot } from '../render/dot';
import { renderTree } from '../render/tree';
import { describeStore, missingStore, treeWidth } from '../store';
import { renderHtml } from './trace-html';

export type ShowFormat = 'tree' | 'json' | 'dot' | 'html';

export interface TraceShowOptions {
  json?: boolean;
  dot?: boolean;
  tree?: boolean;
  html?: boolean;
  connectionString?: string;
  out?: string;
  width?: number;
}

/** Python's `uuidutils.is_uuid_like`: 32 hex digits once braces, `urn:`, `uuid:` and '-' are removed. */
export function isUuidLike(value: string): boolean {
  const stripped = value.replaceAll('urn:', '').replaceAll('uuid:', '').replace(/^[{}]+|[{}]+$/g, '').replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(stripped);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Python's "Trace with UUID … not found. Please check the HMAC key used in the command."
 * names a key this command never takes; this one names the store that was searched.
 */
export function notFoundMessage(id: string, store?: string): string {
  return store === undefined
    ? `Trace with UUID ${id} not found.`
    : `Trace with UUID ${id} not found in ${store}. Is it the store the service writes to (--connection-string, ${CONNECTION_ENV})?`;
}

function loadReportFile(path: string): Report {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read report file ${path}: ${(err as Error).message}`, 1);
  }
  try {
    return JSON.parse(text) as Report;
  } catch (err) {
    throw new CliError(`report file ${path} is not valid JSON: ${(err as Error).message}`, 1);
  }
}

function hasChildren(report: unknown): report is Report {
  if (report === null || typeof report !== 'object') return false;
  const children = (report as { children?: unknown }).children;
  return Array.isArray(children) && children.length > 0;
}

export async function traceShow(target: string, opts: TraceShowOptions, io: CliIO): Promise<number> {
  const format: ShowFormat = opts.json ? 'json' : opts.dot ? 'dot' : opts.html ? 'html' : 'tree';
  let report: unknown;
  let baseId: string | undefined;
  let store: string | undefined;

  // As Python: anything that is not a UUID is a report file. Unlike Python, a non-UUID
  // that is not an existing file is tried as a trace id (ids from headers need not be UUIDs).
  if (!isUuidLike(target) && isFile(target)) {
    report = loadReportFile(target);
  } else if (!isUuidLike(target) && /[/\\]|\.json$/i.test(target)) {
    throw new CliError(`cannot read report file ${target}: no such file`, 1);
  } else {
    const cs = resolveConnectionString(opts.connectionString, io.env);
    store = `'${redact(cs)}'`;
    report = await withDriver(cs, io, (driver) => {
      store = describeStore(cs, driver);
      return missingStore(driver) ? Promise.resolve({}) : driver.getReport(target);
    });
    baseId = target;
  }

  if (!hasChildren(report)) throw new CliError(notFoundMessage(target, store), 1, true);

  let output: string;
  switch (format) {
    case 'json':
      output = formatReportJson(report);
      break;
    case 'dot':
      output = renderDot(report);
      break;
    case 'html':
      output = renderHtml(report, baseId);
      break;
    default:
      output = renderTree(report, { baseId, width: opts.out !== undefined ? (opts.width ?? 100) : treeWidth(opts.width, io) });
  }

  if (opts.out !== undefined) {
    try {
      writeFileSync(opts.out, output);
    } catch (err) {
      throw new CliError(`cannot write ${opts.out}: ${(err as Error).message}`, 1);
    }
  } else {
    // Python `print(output)` adds one newline; the tree already ends with one.
    io.stdout(format === 'tree' ? output : output + '\n');
  }
  return 0;
}
