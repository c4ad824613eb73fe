/** Reading what the backend stored, straight from Redis (LRANGE of Python's list per trace). */
import { Redis } from 'ioredis';
import type { Sent } from './load';

export interface StoredSummary {
  /** `trace_id name` of every stored point notification (markers excluded). */
  points: Set<string>;
  /** Notifications stored more than once. */
  duplicates: number;
  /** Sum of info.dropped over the distinct `dropped-stop` markers (by trace_id). */
  markedDropped: number;
  /** Stored notifications of traces not in `sent`. */
  foreign: number;
}

export function sentPoints(sent: Sent[]): Set<string> {
  const out = new Set<string>();
  for (const s of sent) for (const id of s.ids) for (const n of ['start', 'stop']) out.add(`${id} ${n}`);
  return out;
}

export async function readStore(port: number, sent: Sent[], db = 0): Promise<StoredSummary> {
  const r = new Redis({ host: '127.0.0.1', port, db, lazyConnect: true });
  await r.connect();
  const points = new Set<string>();
  let duplicates = 0;
  let markedDropped = 0;
  // A marker resent after a kill is stored twice (at-least-once, like any batch); it is
  // one point (its trace_id), and the report shows it once: count each once.
  const markers = new Set<string>();
  try {
    const bases = [...new Set(sent.map((s) => s.base))];
    for (let i = 0; i < bases.length; i += 500) {
      const p = r.pipeline();
      for (const b of bases.slice(i, i + 500)) p.lrange(`osprofiler_opt:${b}`, 0, -1);
      for (const [err, list] of (await p.exec()) ?? []) {
        if (err) throw err;
        for (const text of list as string[]) {
          const n = JSON.parse(text) as { name: string; trace_id: string; info: { dropped?: number } };
          if (n.name === 'dropped-stop') {
            if (!markers.has(n.trace_id)) markedDropped += n.info.dropped ?? 0;
            else duplicates++;
            markers.add(n.trace_id);
            continue;
          }
          const key = `${n.trace_id} ${n.name.endsWith('-start') ? 'start' : 'stop'}`;
          if (points.has(key)) duplicates++;
          points.add(key);
        }
      }
    }
    const allKeys = await r.keys('osprofiler_opt:*');
    const known = new Set(bases.map((b) => `osprofiler_opt:${b}`));
    const foreign = allKeys.filter((k) => !known.has(k)).length;
    return { points, duplicates, markedDropped, foreign };
  } finally {
    r.disconnect();
  }
}
