/**
 * Reading a file:// store a child process writes. A trace's index line is appended after
 * its trace file (packages/core src/drivers/file.ts: a listed trace always has a file), so a
 * trace whose report is already complete can be listed a moment later.
 */
import { createFileDriver } from '@osprofiler/core';

/** The base_ids `store` lists, sorted, polled until they are `want`'s (sorted) or `timeoutMs` passed: the last answer either way. */
export async function listedIds(store: string, want: readonly string[], timeoutMs = 10_000): Promise<string[]> {
  const driver = createFileDriver(`file://${store}`);
  const expected = JSON.stringify([...want].sort());
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ids = (await driver.listTraces()).map((t) => t.base_id).sort();
      if (JSON.stringify(ids) === expected || Date.now() > end) return ids;
      await new Promise((t) => setTimeout(t, 25));
    }
  } finally {
    await driver.close();
  }
}
