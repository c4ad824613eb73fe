import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, markdownFiles } from './support/samples';

/** The repository's READMEs (root, packages, examples, tools) and everything under docs/. */
function pages(): string[] {
  const out = [join(ROOT, 'README.md'), ...markdownFiles()];
  for (const top of ['packages', 'examples', 'tools']) {
    for (const d of readdirSync(join(ROOT, top))) {
      const p = join(ROOT, top, d, 'README.md');
      if (existsSync(p)) out.push(p);
    }
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

it('every relative link in the docs and READMEs points at a file (and heading) that exists', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages()) {
    const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1];
      if (/^[a-z]+:/i.test(href)) continue; // http(s), mailto
      const [path, anchor] = href.split('#');
      const target = path === '' ? page : join(dirname(page), decodeURIComponent(path));
      checked++;
      if (!existsSync(target)) broken.push(`${relative(ROOT, page)}: ${href} (no such file)`);
      else if (anchor && statSync(target).isFile() && target.endsWith('.md') && !anchors(target).has(anchor)) broken.push(`${relative(ROOT, page)}: ${href} (no such heading)`);
    }
  }
  expect(checked).toBeGreaterThan(50);
  expect(broken).toEqual([]);
});
