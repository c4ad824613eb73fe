// `--check`, last part: the viewer (`osprofiler ui` over the same store) shows the trace in
// Debian's Chromium (playwright-core, never a downloaded browser): every service in the
// per-service stats, every point a waterfall row. The screenshot is kept in screenshots/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

/** Failures found (empty when the viewer shows the trace as stored). */
export async function checkViewer(viewerUrl, baseId, { services, points, kinds, shot }) {
  if (!existsSync(CHROMIUM)) return [`${CHROMIUM} is missing: apt-get install -y chromium (the viewer check needs it)`];
  const failures = [];
  const profile = mkdtempSync(join(tmpdir(), 'osp-multi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${viewerUrl}#/trace/${baseId}`);
    await page.waitForSelector('#waterfall .row');
    const shown = (await page.textContent('#trace-id'))?.trim();
    if (shown !== baseId) failures.push(`viewer: #trace-id shows ${shown}, want ${baseId}`);
    const svc = await page.$$eval('#stats-service tbody tr td:first-child', (c) => c.map((x) => x.textContent).sort());
    if (JSON.stringify(svc) !== JSON.stringify([...services].sort())) failures.push(`viewer: services ${JSON.stringify(svc)}, want ${JSON.stringify([...services].sort())}`);
    const names = await page.$$eval('#waterfall .row', (r) => r.map((x) => x.dataset.name));
    if (names.length !== points) failures.push(`viewer: ${names.length} waterfall rows, want ${points} (one per point)`);
    for (const k of kinds) if (!names.includes(k)) failures.push(`viewer: no ${k} row`);
    if (errors.length > 0) failures.push(`viewer: page errors: ${errors.join('; ')}`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, shot), fullPage: true });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  return failures;
}
