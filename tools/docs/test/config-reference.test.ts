import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM tool script without types
import { OUT, ROOT, documentedNames, render } from '../config-reference.mjs';

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|cts)$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

describe('docs/configuration.md', () => {
  it('is what the generator makes from the typed configuration today', () => {
    expect(readFileSync(OUT, 'utf8'), 'stale: run `node tools/docs/config-reference.mjs`').toBe(render());
  });

  it('documents every OSPROFILER_* name the packages read or emit', () => {
    const documented: Set<string> = documentedNames();
    const used = new Map<string, string>();
    for (const pkg of readdirSync(join(ROOT, 'packages'))) {
      const src = join(ROOT, 'packages', pkg, 'src');
      try {
        statSync(src);
      } catch {
        continue;
      }
      for (const f of sources(src)) for (const m of readFileSync(f, 'utf8').matchAll(/OSPROFILER_[A-Z0-9_]*[A-Z0-9]/g)) used.set(m[0], f);
    }
    expect(used.size).toBeGreaterThan(15);
    const missing = [...used].filter(([name]) => !documented.has(name)).map(([name, f]) => `${name} (${f})`);
    expect(missing).toEqual([]);
    // and the page states each of them
    const page = readFileSync(OUT, 'utf8');
    for (const name of used.keys()) expect(page).toContain(`\`${name}\``);
  });
});
