/**
 * A batch as core's notifier hands it to a driver on the raw path (lines, base ids, times,
 * error flags), of `n` points numbered from `from`, spread over `traces`; every seventh
 * carries an error. With the lines and notifications it was made from, to compare with.
 */
import { pyDumps, type Notification } from '@osprofiler/core';
import type { LineBatch } from '@osprofiler/core/instrument';

export function batchOf(from: number, n: number, traces: string[]): { batch: LineBatch; lines: string[]; notes: Notification[] } {
  const notes: Notification[] = Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      name: `p${i}-${i % 2 ? 'stop' : 'start'}`,
      base_id: traces[i % traces.length],
      trace_id: `t${i}`,
      parent_id: traces[i % traces.length],
      timestamp: `2026-12-06T07:00:00.${String(i).padStart(6, '0')}`,
      info: i % 7 === 3 ? { etype: 'Error', message: `m${i}`, host: 'h' } : { i, host: 'h' },
      project: null,
      service: 's',
    };
  });
  const lines = notes.map((x) => pyDumps(x));
  const errors = new Uint8Array(n);
  notes.forEach((x, k) => (errors[k] = (x.info as { etype?: string }).etype !== undefined ? 1 : 0));
  return { batch: { baseIds: notes.map((x) => x.base_id), timestamps: notes.map((x) => x.timestamp), lines, errors }, lines, notes };
}
