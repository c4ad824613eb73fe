/**
 * Temp dirs a test file makes, removed when the file is done (temp-dir-cleanup.ts, a setup
 * file of every package: vitest.shared.mjs). Before it, a day of test runs left ~300 of
 * them in /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/** A new dir `<tmpdir>/<prefix>XXXXXX` of this test file's own. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes the dirs tempDir made (after the file's own hooks stopped what ran in them). */
export function removeTempDirs(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      // A leftover dir is not a test failure: say it and go on.
      console.warn(`temp dir ${dir} not removed: ${(err as Error).message}`);
    }
  }
  made.clear();
}
