/**
 * The NATS JetStream contract between agents (publishers) and collectors (consumers),
 * described in PROTOCOL.md §Upstream. One place for the subject, partition and header
 * rules so both sides compute them the same way.
 */

/** Schema version of a message with an 'L' body (header `Osprofiler-Schema`). */
export const UPSTREAM_SCHEMA_VERSION = '1';
/** Schema version of a message whose body carries the search index ('I' body); collectors read both. */
export const UPSTREAM_SCHEMA_INDEXED = '2';
/**
 * Schema version of a message whose body is an 'L' or 'I' body compressed with raw
 * DEFLATE (RFC 1951, zlib `deflateRaw`). The bench's lines shrink ~15×, and nats-server's
 * cost is mostly per byte stored and delivered (PROTOCOL.md §Upstream).
 */
export const UPSTREAM_SCHEMA_DEFLATE = '3';
/** The versions a collector reads. */
export const UPSTREAM_SCHEMAS: readonly string[] = [UPSTREAM_SCHEMA_VERSION, UPSTREAM_SCHEMA_INDEXED, UPSTREAM_SCHEMA_DEFLATE];
/** Bodies smaller than this are sent as they are: a DEFLATE stream's set-up costs more than the bytes it saves. */
export const DEFLATE_MIN_BYTES = 1024;
export const DEFAULT_SUBJECT_PREFIX = 'osprofiler';
export const DEFAULT_PARTITIONS = 16;
export const DEFAULT_STREAM = 'OSPROFILER';

export const Headers = {
  /** Schema version (`1`, or `2` when the body carries the search index). */
  SCHEMA: 'Osprofiler-Schema',
  /** The publishing agent's id (or `amqp:<collector id>` for messaging-driver intake). */
  AGENT: 'Osprofiler-Agent',
  /** Number of points (lines) in the body. */
  POINTS: 'Osprofiler-Points',
  /** The agent's running message sequence (diagnostics; not used for dedup). */
  SEQ: 'Osprofiler-Seq',
  /** JetStream's own de-duplication header: `<agent id>:<batch key>`. */
  MSG_ID: 'Nats-Msg-Id',
  /** Dead letters: why, and where the message came from. */
  REASON: 'Osprofiler-Reason',
  SOURCE_SUBJECT: 'Osprofiler-Source-Subject',
} as const;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
    } else {
      for (const b of Buffer.from(s.slice(i, i + 1 + (c >= 0xd800 && c < 0xdc00 ? 1 : 0)), 'utf8')) h = Math.imul(h ^ b, 0x01000193);
      if (c >= 0xd800 && c < 0xdc00) i++;
    }
  }
  return h >>> 0;
}

/** The partition of a trace: every point of one base_id lands in the same one. */
export function partitionOf(baseId: string, partitions: number): number {
  return fnv1a32(baseId) % partitions;
}

const TOKEN_SAFE = /^[A-Za-z0-9_-]+$/;

/** A project name as one subject token: `[A-Za-z0-9_-]` kept, other UTF-8 bytes `%XX`, none (null or "") `_`. */
export function projectToken(project: string | null | undefined): string {
  if (project === null || project === undefined || project === '') return '_';
  if (TOKEN_SAFE.test(project)) return project;
  let out = '';
  for (const b of Buffer.from(project, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && /[A-Za-z0-9_-]/.test(ch) ? ch : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `<prefix>.points.<project>.<partition>` */
export function pointsSubject(prefix: string, project: string | null | undefined, partition: number): string {
  return `${prefix}.points.${projectToken(project)}.${partition}`;
}

/** What a partition's consumer filters on: `<prefix>.points.*.<partition>`. */
export function partitionFilter(prefix: string, partition: number): string {
  return `${prefix}.points.*.${partition}`;
}

/** `<prefix>.deadletter.<partition>` */
export function deadLetterSubject(prefix: string, partition: number | string): string {
  return `${prefix}.deadletter.${partition}`;
}

/** A subject prefix must be one or more plain tokens. */
export function checkSubjectPrefix(prefix: string): boolean {
  return /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix);
}

const PROJECT_KEY = Buffer.from(', "project": ', 'latin1');

/**
 * The top-level `project` of one wire line, read by position: it is the last
 * `, "project": ` of the line (info comes before it, and a JSON string never holds an
 * unescaped quote). Null when absent or null; escapes are parsed.
 */
export function lineProject(line: Buffer): string | null {
  const k = line.lastIndexOf(PROJECT_KEY);
  if (k < 0) return null;
  const v = k + PROJECT_KEY.length;
  if (line[v] !== 0x22) return null; // null (or not a string)
  const end = line.indexOf(0x22, v + 1);
  if (end < 0) return null;
  const raw = line.toString('latin1', v + 1, end);
  if (raw.indexOf('\\') < 0) return raw;
  // Escaped content: find the real end and decode it as JSON.
  let i = v + 1;
  while (i < line.length && line[i] !== 0x22) i += line[i] === 0x5c ? 2 : 1;
  try {
    return JSON.parse(line.toString('latin1', v, i + 1)) as string;
  } catch {
    return null;
  }
}
