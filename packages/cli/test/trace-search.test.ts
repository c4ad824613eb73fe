import { tempDir } from '../../../tools/testing/temp-dir';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFileDriver } from '@osprofiler/core';
import { main } from '../src/index';
import { parseDurationArg, parseTimeArg } from '../src/commands/trace-search';
import { searchFixture, type SearchFixture } from '../../../tools/testing/search-contract';

let fx: SearchFixture;
let cs: string;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'osprofiler', ...args], { stdout: (s) => (out += s), stderr: (s) => (err += s), env: {} });
  return { code, out, err };
}

beforeAll(async () => {
  const dir = tempDir('osp-cli-search-');
  cs = `file://${dir}`;
  fx = searchFixture();
  const d = createFileDriver(cs);
  for (const b of fx.batches) d.notify(b);
  await d.close();
});

describe('trace list: filters and columns (file:// store)', () => {
  const window = () => ['--since', new Date(fx.t0).toISOString(), '--until', new Date(fx.t0 + 60_000).toISOString()];

  it('plain output stays Python\'s two-column table', async () => {
    const r = await run(['trace', 'list', '--connection-string', cs]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toMatch(/^\| base_id +\| timestamp +\|$/);
  });

  it('filters print the wide table', async () => {
    const r = await run(['trace', 'list', '--connection-string', cs, '--service', 'billing', ...window()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[1]).toMatch(/^\| base_id +\| timestamp +\| service +\| root +\| duration +\| points +\| error +\|$/);
    expect(lines).toHaveLength(5);
    expect(lines[3]).toContain(fx.ids.pay);
    expect(lines[3]).toMatch(/\| api,billing +\| wsgi POST \/pay +\| 300 ms +\| 3 +\| yes +\|$/);
  });

  it('each filter flag reaches the search', async () => {
    const ids = async (...flags: string[]) => {
      const r = await run(['trace', 'list', '--connection-string', cs, '--json', ...window(), ...flags]);
      expect(r.err).toBe('');
      return (JSON.parse(r.out) as { base_id: string }[]).map((t) => t.base_id);
    };
    expect(await ids('--errors')).toEqual([fx.ids.pay]);
    expect(await ids('--root', 'driver')).toEqual([fx.ids.job]);
    expect(await ids('--host', 'h3')).toEqual([fx.ids.pay]);
    expect(await ids('--project', 'money')).toEqual([fx.ids.pay]);
    expect(await ids('--min-duration', '100ms', '--max-duration', '0.2s')).toEqual([fx.ids.orders]);
    expect(await ids('--text', 'convert')).toEqual([fx.ids.job]);
    expect(await ids('--service', 'api', '--limit', '2')).toEqual([fx.ids.health[4], fx.ids.health[3]]);
  });

  it('--json keeps base_id and timestamp and adds the summary fields', async () => {
    const r = await run(['trace', 'list', '--connection-string', cs, '--json']);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const pay = rows.find((t) => t.base_id === fx.ids.pay)!;
    expect(Object.keys(pay).slice(0, 2)).toEqual(['base_id', 'timestamp']);
    expect(pay).toMatchObject({ root_name: 'wsgi', root_detail: 'POST /pay', points: 3, error: true, duration_ms: 300 });
  });

  it('bad filter values print usage and exit non-zero', async () => {
    const r = await run(['trace', 'list', '--connection-string', cs, '--min-duration', 'fast']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/duration like 250/);
  });

  it('parses durations and times', () => {
    expect(parseDurationArg('1.5s')).toBe(1500);
    expect(parseDurationArg('250')).toBe(250);
    expect(parseTimeArg('2h', 10_000_000)).toBe(10_000_000 - 7_200_000);
    expect(parseTimeArg('2026-01-01T00:00:00')).toBe(Date.UTC(2026, 0, 1));
  });
});
