/** `osprofiler ui` (the built binary, stopped by its pid) and `trace show --html`. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tempDir } from '../../../tools/testing/temp-dir';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileDriver } from '@osprofiler/core';
import { main } from '../src/index';
import { searchFixture, type SearchFixture } from '../../../tools/testing/search-contract';

const BIN = resolve(__dirname, '../dist/bin.js');
let fx: SearchFixture;
let cs: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir('osp-cli-viewer-');
  cs = `file://${join(dir, 'store')}`;
  fx = searchFixture();
  fx.batches[0][0].info.evil = '</script><!--<img src=x onerror=alert(1)>';
  const d = createFileDriver(cs);
  for (const b of fx.batches) d.notify(b);
  await d.close();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'osprofiler', ...args], { stdout: (s) => (out += s), stderr: (s) => (err += s), env: {} });
  return { code, out, err };
}

describe('osprofiler ui', () => {
  it('--port 0 picks a free port, prints the URL, serves the store read-only, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'ui', '--port', '0', '--connection-string', cs], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        let out = '';
        const t = setTimeout(() => rej(new Error(`no URL printed: ${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(out);
          if (m !== null) {
            clearTimeout(t);
            res(m[1]);
          }
        });
        child.once('exit', (code) => rej(new Error(`exited ${code}: ${out}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const r = (await (await fetch(`${url}api/search?since=${fx.t0}&until=${fx.t0 + 60_000}&errors=1`)).json()) as { traces: { base_id: string }[] };
      expect(r.traces.map((t) => t.base_id)).toEqual([fx.ids.pay]);
      expect((await fetch(`${url}api/search`, { method: 'POST' })).status).toBe(405);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('a bad --port prints usage and exits non-zero', async () => {
    const r = await run(['ui', '--port', 'abc']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/port number/);
  });
});

describe('osprofiler trace show --html', () => {
  it('writes one self-contained page; data cannot break out of its script element', async () => {
    const out = join(dir, 'orders.html');
    const r = await run(['trace', 'show', fx.ids.orders, '--html', '--out', out, '--connection-string', cs]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('id="osp-report"');
    expect(html).toContain(fx.ids.orders);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('<!--<img');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});
