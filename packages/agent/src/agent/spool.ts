/**
 * The disk spool: batches the backend could not take, in arrival order, in numbered
 * segment files `spool-<n>.osps`. A record is `u32 count, u32 length, body` (with the top
 * bit of count set, the length starts with `u8 n, n bytes` of upstream message key); each
 * append is fsynced before the batches are acknowledged. Replay reads the oldest segment,
 * hands records out in order and deletes the segment once all are written. A partial
 * last record (crash while appending, never acknowledged) is ignored.
 */
import { mkdir, open, readFile, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolRecord {
  count: number;
  body: Buffer;
  /** Upstream only: the record's message key (publisher.ts), kept so a replay reuses its ids. */
  key?: string;
}

/** Set in a record's count when a key follows the header: `u8 n, n bytes` before the body. */
const KEYED = 0x80000000;

const NAME = /^spool-(\d{12})\.osps$/;

function segmentName(n: number): string {
  return `spool-${String(n).padStart(12, '0')}.osps`;
}

export class Spool {
  /** Segment numbers on disk, oldest first; the last may be the one being appended. */
  private segments: number[] = [];
  private current: { n: number; fh: FileHandle; size: number } | undefined;
  private replay: { n: number; records: SpoolRecord[]; next: number } | undefined;
  bytes = 0;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  static async open(dir: string, segmentBytes: number): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const s = new Spool(dir, segmentBytes);
    for (const f of await readdir(dir)) {
      const m = NAME.exec(f);
      if (m === null) continue;
      s.segments.push(Number(m[1]));
      s.bytes += (await stat(join(dir, f))).size;
    }
    s.segments.sort((a, b) => a - b);
    return s;
  }

  get empty(): boolean {
    return this.segments.length === 0 && this.replay === undefined;
  }

  /** Appends the records and fsyncs; resolves once they are durable. */
  async append(records: SpoolRecord[]): Promise<void> {
    let total = 0;
    for (const r of records) total += 8 + r.body.length + (r.key === undefined ? 0 : 1 + r.key.length);
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (const r of records) {
      const key = r.key === undefined ? 0 : 1 + r.key.length; // keys are ASCII, < 256 bytes
      buf.writeUInt32BE(key === 0 ? r.count : (r.count | KEYED) >>> 0, off);
      buf.writeUInt32BE(key + r.body.length, off + 4);
      if (r.key !== undefined) {
        buf[off + 8] = r.key.length;
        buf.write(r.key, off + 9, 'latin1');
      }
      r.body.copy(buf, off + 8 + key);
      off += 8 + key + r.body.length;
    }
    if (this.current === undefined || this.current.size >= this.segmentBytes) await this.rotate();
    const cur = this.current as { n: number; fh: FileHandle; size: number };
    await cur.fh.write(buf, 0, buf.length);
    await cur.fh.datasync();
    cur.size += buf.length;
    this.bytes += buf.length;
  }

  private async rotate(): Promise<void> {
    await this.closeCurrent();
    const n = (this.segments.length > 0 ? this.segments[this.segments.length - 1] : 0) + 1;
    const fh = await open(join(this.dir, segmentName(n)), 'a', 0o600);
    this.segments.push(n);
    this.current = { n, fh, size: 0 };
  }

  private async closeCurrent(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (cur !== undefined) await cur.fh.close();
  }

  /** The next records to replay (up to `maxPoints`, at least one record), or [] when empty. */
  async peek(maxPoints: number): Promise<SpoolRecord[]> {
    if (this.replay === undefined || this.replay.next >= this.replay.records.length) {
      if (this.replay !== undefined) await this.finishSegment();
      if (this.segments.length === 0) return [];
      const n = this.segments[0];
      if (this.current?.n === n) await this.closeCurrent();
      this.replay = { n, records: parseSegment(await readFile(join(this.dir, segmentName(n)))), next: 0 };
      if (this.replay.records.length === 0) return this.peek(maxPoints);
    }
    const { records, next } = this.replay;
    const out: SpoolRecord[] = [];
    let points = 0;
    for (let i = next; i < records.length && (out.length === 0 || points + records[i].count <= maxPoints); i++) {
      out.push(records[i]);
      points += records[i].count;
    }
    return out;
  }

  /** Marks the records returned by the last peek as written. */
  async commit(n: number): Promise<void> {
    if (this.replay === undefined) return;
    this.replay.next += n;
    if (this.replay.next >= this.replay.records.length) await this.finishSegment();
  }

  private async finishSegment(): Promise<void> {
    const r = this.replay;
    this.replay = undefined;
    if (r === undefined) return;
    const path = join(this.dir, segmentName(r.n));
    try {
      this.bytes -= (await stat(path)).size;
      await unlink(path);
    } catch {
      // already gone
    }
    this.segments = this.segments.filter((s) => s !== r.n);
    if (this.bytes < 0 || this.segments.length === 0) this.bytes = Math.max(0, this.bytes);
  }

  async close(): Promise<void> {
    await this.closeCurrent();
  }
}

function parseSegment(buf: Buffer): SpoolRecord[] {
  const out: SpoolRecord[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const word = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (buf.length - off - 8 < len) break; // partial last record: never acknowledged
    if ((word & KEYED) === 0) out.push({ count: word, body: buf.subarray(off + 8, off + 8 + len) });
    else {
      const k = buf[off + 8];
      out.push({ count: (word & ~KEYED) >>> 0, key: buf.toString('latin1', off + 9, off + 9 + k), body: buf.subarray(off + 9 + k, off + 8 + len) });
    }
    off += 8 + len;
  }
  return out;
}
