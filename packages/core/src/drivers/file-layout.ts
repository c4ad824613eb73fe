/**
 * On-disk layout of the `file://` store, shared by every process writing to it:
 *
 *   <dir>/traces/<2-char shard>/<name>.jsonl   one Python-style JSON notification per line
 *   <dir>/index/<yyyy-mm-dd>.log               "<base_id> <timestamp>" per new trace
 *   <dir>/errors/<yyyy-mm-dd>.log              "<base_id> <timestamp>" per error event
 *   <dir>/summary/<yyyy-mm-dd>.log             search-summary delta JSON per trace per write
 *   <dir>/.last-prune                          mtime = last background prune, any process
 *
 * Index files are named by the UTC day the line was written, so retention can drop
 * whole days and listing can read the newest days first.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseStoredEvent } from './stored-event';

// Lowercase UUID-like ids are used as file names directly (readable, greppable). The
// first character is a hex digit so no name or shard can be "." / ".." or start with "-";
// uppercase is hashed too, so case-insensitive file systems cannot merge two traces.
const PLAIN_ID = /^[0-9a-f][0-9a-f-]{1,63}$/;

/** File-system-safe name for a base_id: ids from headers are unchecked strings. */
export function traceFileName(baseId: string): string {
  if (PLAIN_ID.test(baseId)) return baseId;
  // "x" cannot start a plain name, so hashed and plain names never collide.
  return 'x' + createHash('sha256').update(baseId, 'utf8').digest('hex').slice(0, 40);
}

export function traceFilePath(dir: string, baseId: string): string {
  const name = traceFileName(baseId);
  const shard = name.startsWith('x') ? name.slice(1, 3) : name.slice(0, 2);
  return join(dir, 'traces', shard, `${name}.jsonl`);
}

export const TRACES_DIR = 'traces';
export const INDEX_DIR = 'index';
export const ERRORS_DIR = 'errors';
/** Search summaries: one JSON delta per trace per write, merged by readers (search.ts). */
export const SUMMARY_DIR = 'summary';
export const PRUNE_STAMP = '.last-prune';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.log$/;

/** UTC day of `ms` as yyyy-mm-dd. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayFileName(ms: number): string {
  return `${utcDay(ms)}.log`;
}

/** The day of an index file name, or undefined for anything else in the directory. */
export function dayOfFile(name: string): string | undefined {
  return DAY_FILE.exec(name)?.[1];
}

// Fields are space-separated on one line: escape what would break that (and '%' itself).
function encodeField(s: string): string {
  return s.replace(/[%\s\u0000-\u001f\u007f]/g, (c) => encodeURIComponent(c));
}

export function indexLine(baseId: string, timestamp: string): string {
  return `${encodeField(baseId)} ${encodeField(timestamp)}\n`;
}

/** Parses one index line; undefined for a damaged line. */
export function parseIndexLine(line: string): { base_id: string; timestamp: string } | undefined {
  const parts = line.split(' ');
  if (parts.length !== 2) return undefined;
  try {
    return { base_id: decodeURIComponent(parts[0]), timestamp: decodeURIComponent(parts[1]) };
  } catch {
    return undefined;
  }
}

/**
 * Complete lines of an append-only file. A last line without "\n" is a write still in
 * progress or cut by a crash, so it is left out.
 */
export function completeLines(text: string): { lines: string[]; partial: boolean } {
  const lines = text.split('\n');
  const last = lines.pop();
  return { lines: lines.filter((l) => l !== ''), partial: last !== undefined && last !== '' };
}

// Every stored notification starts with its "name" key (Python's key order, kept by pyDumps).
const EVENT_START = '{"name": ';

/**
 * Parses the complete lines of a trace file. A line that does not parse is counted;
 * when a crashed writer left a partial line that the next append continued, the intact
 * event after it is still recovered.
 */
export function parseTraceLines(lines: readonly string[]): { events: Record<string, unknown>[]; bad: number } {
  const events: Record<string, unknown>[] = [];
  let bad = 0;
  for (const line of lines) {
    const ev = parseStoredEvent(line);
    if (ev !== undefined) {
      events.push(ev);
      continue;
    }
    bad++;
    const at = line.lastIndexOf(EVENT_START);
    const tail = at > 0 ? parseStoredEvent(line.slice(at)) : undefined;
    if (tail !== undefined) events.push(tail);
  }
  return { events, bad };
}
