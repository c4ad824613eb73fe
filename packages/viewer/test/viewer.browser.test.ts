/**
 * The viewer in Debian's Chromium over a real store: the test's own redis-server, traces
 * written by Node's redis:// driver and by Python's. Screenshots go to test-artifacts/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from '../../../tools/testing/temp-dir';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver } from '@osprofiler/core';
import type { Driver } from '@osprofiler/core';
import '@osprofiler/drivers/register';
import type { Page } from 'playwright-core';
import { renderHtmlReport, startViewer, type ViewerServer } from '../src/index';
import { RedisServer } from '../../../tools/testing/redis-server';
import { searchFixture, type SearchFixture } from '../../../tools/testing/search-contract';
import { launchBrowser, shot, type Browser } from './support/browser';
import { comparePair, EVIL, evilTrace, mixedTrace, skewedTrace, store } from './support/traces';
import { runPeer } from '../../core/test/support/python-peer';

let redis: RedisServer;
let driver: Driver;
let client: Redis;
let viewer: ViewerServer;
let browser: Browser;
let page: Page;
let fx: SearchFixture;
let mixed: { baseId: string; billingWsgi: string };
let pair: { fast: string; slow: string };
let evil: string;
let skewed: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  driver = await createDriver(redis.url(), { project: 'p', service: 's' });
  client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
  await client.connect();
  fx = searchFixture();
  for (const b of fx.batches) await store(driver, b);
  mixed = await mixedTrace(driver, client, redis.url());
  pair = await comparePair(driver, Date.now() - 3_600_000);
  evil = await evilTrace(driver, Date.now() - 7_200_000);
  skewed = await skewedTrace(driver, Date.now() - 10_800_000);
  viewer = await startViewer({ driver, port: 0 });
  browser = await launchBrowser();
  page = await browser.page();
  page.on('pageerror', (err) => {
    throw err;
  });
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  await driver?.close();
  await client?.quit();
  await redis?.stop();
});

async function open(hash: string): Promise<void> {
  await page.goto(`${viewer.url}#${hash}`);
}

async function resultIds(): Promise<string[]> {
  await page.waitForSelector('#search-status[data-count]');
  return page.$$eval('#results tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.id ?? ''));
}

describe('search page', () => {
  const window = () => `since=${encodeURIComponent(new Date(fx.t0).toISOString().slice(0, 19))}&until=${encodeURIComponent(new Date(fx.t0 + 60_000).toISOString().slice(0, 19))}`;

  it('each filter narrows the table; errors are marked', async () => {
    const cases: [string, string[]][] = [
      ['', [...[...fx.ids.health].reverse(), fx.ids.job, fx.ids.pay, fx.ids.orders]],
      ['service=billing', [fx.ids.pay]],
      ['project=money', [fx.ids.pay]],
      ['root=driver', [fx.ids.job]],
      ['host=h3', [fx.ids.pay]],
      ['errors=1', [fx.ids.pay]],
      ['min=100', [fx.ids.pay, fx.ids.orders]],
      ['min=100&max=200', [fx.ids.orders]],
      ['text=convert', [fx.ids.job]],
    ];
    for (const [q, want] of cases) {
      await open(`/search?${window()}${q === '' ? '' : '&' + q}`);
      expect(await resultIds(), q).toEqual(want);
    }
    await open(`/search?${window()}`);
    await resultIds();
    expect(await page.$$eval('#results tr.err', (r) => r.map((x) => (x as HTMLElement).dataset.id))).toEqual([fx.ids.pay]);
    expect(await page.$$eval('#scatter circle.dot.err', (d) => d.length)).toBe(1);
    await shot(page, 'search');
  });

  it('the filter form puts the filters in the URL (a permalink) and searches', async () => {
    await open('/search');
    await page.fill('input[name=service]', 'worker');
    await page.fill('input[name=since]', new Date(fx.t0).toISOString().slice(0, 19));
    await page.click('#search-button');
    await page.waitForFunction(() => location.hash.includes('service=worker'));
    expect(await resultIds()).toEqual([fx.ids.job]);
  });

  it('a dot of the scatter plot opens its trace', async () => {
    await open(`/search?${window()}&service=worker`);
    await resultIds();
    await page.click(`#scatter circle[data-id="${fx.ids.job}"]`);
    await page.waitForSelector('#waterfall .row');
    expect(await page.textContent('#trace-id')).toBe(fx.ids.job);
  });
});

describe('trace page', () => {
  it('a trace of three services, stored by Node and by Python: waterfall, stats, critical path', async () => {
    await open(`/trace/${mixed.baseId}`);
    await page.waitForSelector('#waterfall .row');
    const services = await page.$$eval('#stats-service tbody tr td:first-child', (c) => c.map((x) => x.textContent).sort());
    expect(services).toEqual(['api', 'billing', 'pysvc']);
    const names = await page.$$eval('#waterfall .row', (r) => r.map((x) => (x as HTMLElement).dataset.name));
    expect(names.slice(0, 4)).toEqual(['wsgi', 'rpc', 'wsgi', 'sql']);
    expect(names).toContain('peer_emit');
    expect(await page.$$eval('#waterfall .bar.critical', (b) => b.length)).toBeGreaterThanOrEqual(3);
    expect(await page.$$eval('#waterfall .badge-error', (b) => b.length)).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#permalink')).toBe('Permalink');
    await shot(page, 'trace-mixed');
  });

  it('collapse and expand', async () => {
    await open(`/trace/${mixed.baseId}`);
    await page.waitForSelector('#waterfall .row');
    const total = await page.$$eval('#waterfall .row', (r) => r.length);
    expect(await page.textContent('#shown-count')).toBe(`${total} of ${total} points shown`);
    await page.click('#waterfall .row[data-index="0"] .toggle');
    expect(await page.textContent('#shown-count')).toBe(`1 of ${total} points shown`);
    expect(await page.isHidden('#waterfall .row[data-index="1"]')).toBe(true);
    await page.click('#waterfall .row[data-index="0"] .toggle');
    expect(await page.isVisible('#waterfall .row[data-index="1"]')).toBe(true);
    await page.click('#collapse-all');
    expect(await page.textContent('#shown-count')).toBe(`1 of ${total} points shown`);
    await page.click('#expand-all');
    expect(await page.textContent('#shown-count')).toBe(`${total} of ${total} points shown`);
  });

  it('an SQL point shows its statement and pool wait; an rpc point links to the wsgi it started', async () => {
    await open(`/trace/${mixed.baseId}`);
    await page.click('#waterfall .row[data-name="sql"]');
    expect(await page.textContent('#sql-statement')).toBe('SELECT * FROM invoices WHERE id = $1');
    expect(await page.textContent('#details')).toContain('pool wait (ms)');
    await shot(page, 'trace-sql-details');
    await page.click('#waterfall .row[data-name="rpc"]');
    await page.click('#rpc-link');
    expect(await page.textContent('#details h2')).toContain('billing');
    expect(await page.getAttribute('#waterfall .row.selected', 'data-id')).toBe(mixed.billingWsgi);
    // Python's failing leaf: error type and message.
    await page.click('#waterfall .row:has(.badge-error) >> nth=-1');
    expect(await page.textContent('#error-detail')).toMatch(/ValueError|RuntimeError|Error/);
  });

  it('hide points shorter than N ms; clocks that differ are noted', async () => {
    await open(`/trace/${mixed.baseId}`);
    await page.waitForSelector('#waterfall .row');
    const total = await page.$$eval('#waterfall .row', (r) => r.length);
    await page.fill('#hide-short', '20');
    const shown = Number((await page.textContent('#shown-count'))!.split(' ')[0]);
    expect(shown).toBeLessThan(total);
    expect(await page.$$('#waterfall .row[data-name="sql"]')).toHaveLength(0);
    expect(await page.$('#clock-note')).toBeNull();
    await open(`/trace/${skewed}`);
    await page.waitForSelector('#clock-note');
    expect(await page.textContent('#clock-note')).toMatch(/Clocks differ: 1 point/);
    await shot(page, 'clock-skew');
  });

  it('download the report JSON; open a saved one (Python\'s report too)', async () => {
    await open(`/trace/${mixed.baseId}`);
    await page.waitForSelector('#waterfall .row');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const saved = join(tempDir('osp-dl-'), 'saved.json');
    await download.saveAs(saved);
    const ours = JSON.parse(readFileSync(saved, 'utf8'));
    expect(ours).toEqual(await driver.getReport(mixed.baseId));
    // Python's own `trace show --json` of the same trace, opened in the page.
    const py = runPeer(['report', '--base-id', mixed.baseId, '--connection', redis.url()]);
    expect(py.status).toBe(0);
    const pyFile = join(tempDir('osp-py-'), 'python-report.json');
    writeFileSync(pyFile, py.stdout);
    await page.setInputFiles('#open-file', pyFile);
    await page.waitForFunction(() => document.getElementById('trace-id')?.textContent === '(from file)' || document.querySelectorAll('#waterfall .row').length > 0);
    await page.waitForSelector('#stats-service');
    const services = await page.$$eval('#stats-service tbody tr td:first-child', (c) => c.map((x) => x.textContent).sort());
    expect(services).toEqual(['api', 'billing', 'pysvc']);
    await page.click('#waterfall .row[data-name="sql"]');
    expect(await page.textContent('#sql-statement')).toBe('SELECT * FROM invoices WHERE id = $1');
  });

  it('compare: aligned by name tree, added points and time differences', async () => {
    await open(`/compare/${pair.fast}/${pair.slow}`);
    await page.waitForSelector('#compare tbody tr');
    const rows = await page.$$eval('#compare tbody tr', (r) => r.map((x) => `${(x as HTMLElement).dataset.name}:${(x as HTMLElement).dataset.status}`));
    expect(rows).toEqual(['wsgi:same', 'sql:same', 'sql:same', 'sql:added', 'cache:added']);
    expect(await page.textContent('#compare-summary')).toContain('2 added, 0 missing');
    expect(await page.textContent('#compare tbody tr:nth-child(3) td:last-child')).toBe('+36 ms');
    await shot(page, 'compare');
  });

  it('an unknown id gives the not-found page', async () => {
    await open('/trace/00000000-0000-4000-8000-000000000000');
    await page.waitForSelector('#not-found');
    expect(await page.textContent('#not-found h1')).toBe('Trace not found');
    await shot(page, 'not-found');
  });

  it('untrusted data is shown as text, never run or parsed as markup', async () => {
    await open(`/trace/${evil}`);
    await page.waitForSelector('#waterfall .row');
    for (const row of await page.$$('#waterfall .row')) await row.click();
    await page.click('#waterfall .row[data-index="0"]');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('#app img, #app b', (x) => x.length)).toBe(0);
    expect(await page.textContent('#details')).toContain(EVIL);
    expect(await page.textContent('#waterfall')).toContain('</script>');
    await shot(page, 'evil-served');
  });
});

describe('the --html file', () => {
  it('opens from disk, offline, with the same trace page; hostile data stays data', async () => {
    const dir = tempDir('osp-html-');
    const mixedFile = join(dir, 'mixed.html');
    writeFileSync(mixedFile, renderHtmlReport(await driver.getReport(mixed.baseId)));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${mixedFile}`);
    await page.waitForSelector('#waterfall .row');
    expect(await page.$$eval('#stats-service tbody tr', (r) => r.length)).toBe(3);
    await page.click('#waterfall .row[data-name="sql"]');
    expect(await page.textContent('#sql-statement')).toBe('SELECT * FROM invoices WHERE id = $1');
    await shot(page, 'html-file');

    const evilFile = join(dir, 'evil.html');
    writeFileSync(evilFile, renderHtmlReport(await driver.getReport(evil)));
    await page.goto(`file://${evilFile}`);
    await page.waitForSelector('#waterfall .row');
    for (const row of await page.$$('#waterfall .row')) await row.click();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('img, b', (x) => x.length)).toBe(0);
    expect(await page.textContent('#details')).toContain(EVIL);
    expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    await shot(page, 'evil-html-file');
  });
});

describe('a store that is down', () => {
  it('gives the error page, not a blank one', async () => {
    const down = await RedisServer.start();
    const d = await createDriver(`${down.url(0, '?command_timeout=1s&connect_timeout=1s')}`);
    const v = await startViewer({ driver: d, port: 0 });
    try {
      await down.stop();
      await page.goto(`${v.url}#/trace/${mixed.baseId}`);
      await page.waitForSelector('#error-page', { timeout: 20_000 });
      expect(await page.textContent('#error-page h1')).toBe('The store could not be read');
      await page.goto(`${v.url}#/search`);
      await page.waitForSelector('#search-status.error', { timeout: 20_000 });
      expect(await page.textContent('#search-status')).toMatch(/Search failed/);
      await shot(page, 'store-down');
    } finally {
      await v.close();
      await d.close().catch(() => undefined);
    }
  });
});
