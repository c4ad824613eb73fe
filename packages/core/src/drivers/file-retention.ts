/**
 * Retention of the `file://` store: drop trace files not written for `maxAgeMs`, then the
 * least recently written ones while the store is above `maxBytes`, then index days no
 * kept trace can be listed from. Safe with other processes writing and pruning at the
 * same time: a file vanishing under us is simply skipped.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { recordFailure } from '../failures';
import { mapLimit } from './concurrency';
import { ERRORS_DIR, INDEX_DIR, SUMMARY_DIR, TRACES_DIR, dayOfFile, utcDay } from './file-layout';

export interface RetentionLimits {
  /** 0 = no age limit. */
  maxAgeMs: number;
  /** 0 = no size limit. */
  maxBytes: number;
}

export interface PruneResult {
  deletedTraces: number;
  deletedBytes: number;
  deletedIndexFiles: number;
  /** Bytes of trace files left. */
  keptBytes: number;
}

interface TraceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

const DAY_MS = 86_400_000;

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function traceFiles(dir: string): Promise<TraceFile[]> {
  const root = join(dir, TRACES_DIR);
  const shards = (await list(root)).filter((d) => d.isDirectory()).map((d) => join(root, d.name));
  const paths = (
    await mapLimit(shards, 16, async (shard) =>
      (await list(shard)).filter((f) => f.isFile() && f.name.endsWith('.jsonl')).map((f) => join(shard, f.name)),
    )
  ).flat();
  const files = await mapLimit(paths, 32, async (path): Promise<TraceFile | undefined> => {
    try {
      const s = await stat(path);
      return { path, size: s.size, mtimeMs: s.mtimeMs };
    } catch {
      return undefined; // deleted meanwhile by another process
    }
  });
  return files.filter((f): f is TraceFile => f !== undefined);
}

/** True if this call deleted it; false if it was already gone or cannot be deleted. */
async function remove(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    // Gone already (another process pruned it), or not ours to delete: keep going, one
    // stubborn file must not stop retention for the rest of the store.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') recordFailure('driver.file.prune', err);
    return false;
  }
}

export async function pruneStore(dir: string, limits: RetentionLimits, now: number = Date.now()): Promise<PruneResult> {
  const result: PruneResult = { deletedTraces: 0, deletedBytes: 0, deletedIndexFiles: 0, keptBytes: 0 };
  const files = (await traceFiles(dir)).sort((a, b) => a.mtimeMs - b.mtimeMs);
  let total = files.reduce((sum, f) => sum + f.size, 0);
  const cutoff = limits.maxAgeMs > 0 ? now - limits.maxAgeMs : -Infinity;
  let i = 0;
  // Oldest first: first everything past the age limit, then more until under the size limit.
  for (; i < files.length; i++) {
    const f = files[i];
    const tooOld = f.mtimeMs < cutoff;
    const tooBig = limits.maxBytes > 0 && total > limits.maxBytes;
    if (!tooOld && !tooBig) break;
    if (await remove(f.path)) {
      result.deletedTraces++;
      result.deletedBytes += f.size;
    }
    total -= f.size; // gone either way, or undeletable: counting it again helps nobody
  }
  result.keptBytes = total;

  // An index line is written when a trace starts, its file's mtime is its last write: keep
  // index days from one day before the oldest kept trace's last write (a day of slack
  // for traces that ran long). Nothing kept: keep yesterday and today.
  const oldestKept = i < files.length ? files[i].mtimeMs : now;
  const keepFrom = utcDay(Math.min(oldestKept, now) - DAY_MS);
  for (const sub of [INDEX_DIR, ERRORS_DIR, SUMMARY_DIR]) {
    for (const entry of await list(join(dir, sub))) {
      const day = dayOfFile(entry.name);
      if (day !== undefined && day < keepFrom && (await remove(join(dir, sub, entry.name)))) result.deletedIndexFiles++;
    }
  }
  return result;
}
