import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDriver } from '@osprofiler/core';
import type { Driver, Report, TraceSummary } from '@osprofiler/core';
import { main } from '../src/index';
import type { CliIO } from '../src/index';
import { displayWidth } from '../src/render/text';
import { fixtures, tempDir, writeFixtureReport } from './helpers';

const BASE = 'bbbbbbbb-0000-4000-8000-000000000001';
const EMPTY: Report = { info: { name: 'total', started: 0, finished: null, last_trace_started: null }, children: [], stats: {} };

interface Captured {
  code: number;
  out: string;
  err: string;
  opened: string[];
  closed: number;
  listCalls: { errors: boolean; limit?: number }[];
}

function fakeDriver(state: Captured, traces: TraceSummary[] = [], errorTraces: TraceSummary[] = []): Driver {
  return {
    scheme: 'fake',
    notify: () => undefined,
    getReport: async (id: string) => (id === BASE ? (fixtures().redis_trace.get_report as unknown as Report) : EMPTY),
    listTraces: async (o) => {
      state.listCalls.push({ errors: false, limit: o?.limit });
      return traces;
    },
    listErrorTraces: async (o) => {
      state.listCalls.push({ errors: true, limit: o?.limit });
      return errorTraces;
    },
    flush: async () => undefined,
    close: async () => {
      state.closed++;
    },
  };
}

async function run(
  args: string[],
  opts: { env?: Record<string, string>; traces?: TraceSummary[]; errorTraces?: TraceSummary[]; createDriver?: CliIO['createDriver'] } = {},
): Promise<Captured> {
  const c: Captured = { code: -1, out: '', err: '', opened: [], closed: 0, listCalls: [] };
  c.code = await main(['node', 'osprofiler', ...args], {
    stdout: (s) => {
      c.out += s;
    },
    stderr: (s) => {
      c.err += s;
    },
    env: opts.env ?? {},
    createDriver:
      opts.createDriver ??
      (async (cs) => {
        c.opened.push(cs);
        return fakeDriver(c, opts.traces, opts.errorTraces);
      }),
  });
  return c;
}

describe('main: trace show', () => {
  it('prints the tree by default from the default file:// backend and closes the driver', async () => {
    const c = await run(['trace', 'show', BASE]);
    expect(c.code).toBe(0);
    expect(c.err).toBe('');
    expect(c.opened).toEqual(['file://']);
    expect(c.closed).toBe(1);
    expect(c.out.split('\n')[0]).toBe(`trace ${BASE}  total 19 ms, 5 points, 1 error`);
  });

  it('prints Python --json output', async () => {
    const c = await run(['trace', 'show', '--json', BASE]);
    expect(c.code).toBe(0);
    expect(c.out).toBe(fixtures().redis_trace.get_report_cli_json_text.replace(/\n?$/, '\n'));
  });

  it('honours OSPROFILER_CONNECTION_STRING, and the flag wins over it', async () => {
    expect((await run(['trace', 'show', BASE], { env: { OSPROFILER_CONNECTION_STRING: 'memory://' } })).opened).toEqual(['memory://']);
    expect((await run(['trace', 'show', BASE, '--connection-string', 'file:///tmp/x'], { env: { OSPROFILER_CONNECTION_STRING: 'memory://' } })).opened).toEqual(['file:///tmp/x']);
    // An empty variable counts as unset, as in Python's cliutils.env().
    expect((await run(['trace', 'show', BASE], { env: { OSPROFILER_CONNECTION_STRING: '' } })).opened).toEqual(['file://']);
  });

  it('reports an unknown trace naming the store searched (no HMAC-key hint: the command takes none), exit 1', async () => {
    const id = '12345678-1234-4234-8234-123456789abc';
    const c = await run(['trace', 'show', id, '--json', '--connection-string', 'redis://:pw@127.0.0.1:1']);
    expect(c.code).toBe(1);
    expect(c.out).toBe('');
    expect(c.err).toBe(
      `Trace with UUID ${id} not found in 'redis://:***@127.0.0.1:1'. ` +
        'Is it the store the service writes to (--connection-string, OSPROFILER_CONNECTION_STRING)?\n',
    );
    expect(c.err).not.toMatch(/HMAC/);
  });

  it('an unknown trace in a file:// store names its directory, and says when it does not exist', async () => {
    const dir = tempDir();
    const id = '12345678-1234-4234-8234-123456789abc';
    const real = { createDriver: (cs: string) => createDriver(cs) };
    const there = await run(['trace', 'show', id, '--connection-string', `file://${dir}`], real);
    expect(there.code).toBe(1);
    expect(there.err).toBe(
      `Trace with UUID ${id} not found in 'file://${dir}' (directory ${dir}). ` +
        'Is it the store the service writes to (--connection-string, OSPROFILER_CONNECTION_STRING)?\n',
    );
    const gone = await run(['trace', 'show', id], { ...real, env: { OSPROFILER_CONNECTION_STRING: `file://${dir}/none` } });
    expect(gone.code).toBe(1);
    expect(gone.err).toContain(`not found in 'file://${dir}/none' (directory ${join(dir, 'none')}, which does not exist).`);
  });

  it('loads a report file instead of querying storage', async () => {
    const file = writeFixtureReport(tempDir());
    const c = await run(['trace', 'show', file, '--dot']);
    expect(c.code).toBe(0);
    expect(c.opened).toEqual([]);
    expect(c.out.startsWith('digraph {\n\t0 [label="total - 19 ms"]')).toBe(true);
    expect(c.out.endsWith('}\n\n')).toBe(true);
  });

  it('reports a missing or broken report file', async () => {
    const dir = tempDir();
    const missing = await run(['trace', 'show', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: cannot read report file .*nope\.json: no such file\n$/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{not json');
    const broken = await run(['trace', 'show', bad]);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/is not valid JSON/);
  });

  it('writes --out without the final newline', async () => {
    const out = join(tempDir(), 'o.json');
    const c = await run(['trace', 'show', BASE, '--json', '--out', out]);
    expect(c.code).toBe(0);
    expect(c.out).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(fixtures().redis_trace.get_report_cli_json_text.replace(/\n$/, ''));
  });

  it('rejects two formats, --html, a missing argument and unknown options with usage, exit 2', async () => {
    for (const args of [
      ['trace', 'show', BASE, '--json', '--dot'],
      ['trace', 'show', BASE, '--tree', '--json'],
      ['trace', 'show'],
      ['trace', 'show', BASE, '--bogus'],
      ['trace', 'show', BASE, 'extra'],
      ['trace', 'show', BASE, '--html', '--json'],
    ]) {
      const c = await run(args);
      expect(c.code, args.join(' ')).toBe(2);
      expect(c.out).toBe('');
      expect(c.err).toMatch(/^error: /);
      expect(c.err).toContain('Usage: osprofiler trace show [options] <trace>');
      expect(c.opened).toEqual([]);
    }
  });

  it('names a bad connection string without its password, exit 2', async () => {
    const c = await run(['trace', 'show', BASE, '--connection-string', 'nosuch://:hunter2@localhost:1/0?password=hunter2'], {
      createDriver: async (cs) => {
        throw new Error(`unsupported connection string ${cs} (hunter2)`);
      },
    });
    expect(c.code).toBe(2);
    expect(c.err).toContain("cannot use connection string 'nosuch://:***@localhost:1/0?password=***'");
    expect(c.err).not.toContain('hunter2');
    // Real drivers: an unknown scheme names the known ones (exit 2).
    const unknown = await run(['trace', 'list', '--connection-string', 'nosuch://x'], { createDriver: (cs) => createDriver(cs) });
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no storage driver for scheme "nosuch" \(known schemes: agent, amqp, file, memory, mysql/);
    const empty = await run(['trace', 'show', BASE, '--connection-string', '']);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/connection string is empty/);
  });

  it('a backend that is down exits 1 (as the README says), not 2', async () => {
    // A port nothing listens on: bound, then closed.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const c = await run(['trace', 'list', '--connection-string', `redis://:secretpw@127.0.0.1:${port}/0`], { createDriver: (cs) => createDriver(cs) });
    expect(c.code).toBe(1);
    expect(c.err).toMatch(new RegExp(`^error: cannot use connection string 'redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0': redis:// storage at 127\\.0\\.0\\.1:${port}`));
    expect(c.err).not.toContain('secretpw');
  });

  it('reports a backend failure while reading, exit 1, scrubbed', async () => {
    const c = await run(['trace', 'show', BASE, '--connection-string', 'redis://u:pw12345@h'], {
      createDriver: async () => ({
        ...fakeDriver({ code: 0, out: '', err: '', opened: [], closed: 0, listCalls: [] }),
        getReport: async () => {
          throw new Error('auth failed for pw12345');
        },
      }),
    });
    expect(c.code).toBe(1);
    expect(c.err).toBe("error: reading from 'redis://u:***@h' failed: auth failed for ***\n");
  });
});

describe('main: trace list', () => {
  const traces: TraceSummary[] = [
    { base_id: 'aaaaaaaa-0000-4000-8000-000000000001', timestamp: '2026-11-23T02:40:49.000001' },
    { base_id: 'cccccccc-0000-4000-8000-000000000003', timestamp: '2026-11-23T02:40:51.000001' },
    { base_id: 'bbbbbbbb-0000-4000-8000-000000000002', timestamp: '2026-11-23T02:40:50.000001' },
  ];

  it('prints a prettytable-like table, newest first', async () => {
    const c = await run(['trace', 'list'], { traces });
    expect(c.code).toBe(0);
    expect(c.out).toBe(
      [
        '+--------------------------------------+----------------------------+',
        '| base_id                              | timestamp                  |',
        '+--------------------------------------+----------------------------+',
        '| cccccccc-0000-4000-8000-000000000003 | 2026-11-23T02:40:51.000001 |',
        '| bbbbbbbb-0000-4000-8000-000000000002 | 2026-11-23T02:40:50.000001 |',
        '| aaaaaaaa-0000-4000-8000-000000000001 | 2026-11-23T02:40:49.000001 |',
        '+--------------------------------------+----------------------------+',
        '',
      ].join('\n'),
    );
    expect(c.listCalls).toEqual([{ errors: false, limit: undefined }]);
  });

  it('a file:// store that does not exist is an error, exit 1 (not an empty table)', async () => {
    const dir = join(tempDir(), 'never-written');
    const c = await run(['trace', 'list', '--connection-string', `file://${dir}`], { createDriver: (cs) => createDriver(cs) });
    expect(c.code).toBe(1);
    expect(c.out).toBe('');
    expect(c.err).toBe(
      `error: no trace store at 'file://${dir}' (directory ${dir}, which does not exist): nothing was stored there yet, ` +
        'or the service writes elsewhere (--connection-string, OSPROFILER_CONNECTION_STRING)\n',
    );
    // An existing, empty one still lists nothing, exit 0.
    const empty = await run(['trace', 'list', '--connection-string', `file://${tempDir()}`], { createDriver: (cs) => createDriver(cs) });
    expect(empty.code).toBe(0);
    expect(empty.out).toBe('+---------+-----------+\n| base_id | timestamp |\n+---------+-----------+\n+---------+-----------+\n');
  });

  it('prints an empty table like prettytable', async () => {
    const c = await run(['trace', 'list']);
    expect(c.out).toBe('+---------+-----------+\n| base_id | timestamp |\n+---------+-----------+\n+---------+-----------+\n');
  });

  it('--error-trace / --errors / --error-trace 1 list error traces; --limit and --json', async () => {
    for (const flag of [['--error-trace'], ['--errors'], ['--error-trace', '1'], ['--error-trace=true']]) {
      const c = await run(['trace', 'list', ...flag], { errorTraces: traces.slice(0, 1) });
      expect(c.code, flag.join(' ')).toBe(0);
      expect(c.listCalls).toEqual([{ errors: true, limit: undefined }]);
      expect(c.out).toContain('aaaaaaaa-0000-4000-8000-000000000001');
    }
    const off = await run(['trace', 'list', '--error-trace', '0'], { traces });
    expect(off.listCalls).toEqual([{ errors: false, limit: undefined }]);
    const c = await run(['trace', 'list', '--limit', '2', '--json'], { traces });
    expect(c.listCalls).toEqual([{ errors: false, limit: 2 }]);
    expect(c.out).toBe(
      '[\n  {\n    "base_id": "cccccccc-0000-4000-8000-000000000003",\n    "timestamp": "2026-11-23T02:40:51.000001"\n  },\n' +
        '  {\n    "base_id": "bbbbbbbb-0000-4000-8000-000000000002",\n    "timestamp": "2026-11-23T02:40:50.000001"\n  }\n]\n',
    );
  });

  it('rejects a bad --limit with usage, exit 2', async () => {
    for (const v of ['0', '-1', 'abc', '1.5', '']) {
      const c = await run(['trace', 'list', '--limit', v]);
      expect(c.code, v).toBe(2);
      expect(c.err).toContain('must be a positive integer');
      expect(c.err).toContain('Usage: osprofiler trace list [options]');
    }
    expect((await run(['trace', 'list', '--limit'])).code).toBe(2);
  });
});

describe('main: help, version, unknown commands', () => {
  it('--help on every level exits 0 and writes to stdout', async () => {
    for (const args of [['--help'], ['-h'], ['trace', '--help'], ['trace', 'show', '--help'], ['trace', 'list', '--help']]) {
      const c = await run(args);
      expect(c.code, args.join(' ')).toBe(0);
      expect(c.err).toBe('');
      expect(c.out).toMatch(/^Usage: osprofiler/);
    }
    const show = await run(['trace', 'show', '--help']);
    for (const flag of ['--json', '--dot', '--tree', '--html', '--connection-string <cs>', '--out <file>', 'OSPROFILER_CONNECTION_STRING']) {
      expect(show.out).toContain(flag);
    }
    for (const line of show.out.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('`help <command>` works like --help; the top-level description names every command', async () => {
    for (const [args, usage] of [
      [['help', 'profile'], 'Usage: osprofiler profile [options] <url>'],
      [['help', 'trace'], 'Usage: osprofiler trace [options] [command]'],
      [['help', 'agent'], 'Usage: osprofiler agent [options]'],
      [['trace', 'help', 'list'], 'Usage: osprofiler trace list [options]'],
    ] as const) {
      const c = await run([...args]);
      expect(c.code, args.join(' ')).toBe(0);
      expect(c.out.split('\n')[0]).toBe(usage);
    }
    expect((await run(['help', 'profile'])).out).toBe((await run(['profile', '--help'])).out);
    const top = (await run(['--help'])).out.replace(/\s+/g, ' ');
    const description = top.slice(0, top.indexOf('Options:'));
    for (const cmd of ['trace show', 'trace list', 'trace export', 'profile', 'agent']) expect(description).toContain(cmd);
    expect(top).toMatch(/help \[command\]/);
  });

  it('the tree is as wide as --width, else the terminal (io.columns), else 100 columns', async () => {
    const widest = (out: string): number => Math.max(...out.split('\n').map((l) => displayWidth(l)));
    const plain = await run(['trace', 'show', BASE]);
    expect(widest(plain.out)).toBe(100); // the fixture's error line is cut at 100
    const wide = await run(['trace', 'show', BASE, '--width', '160']);
    expect(wide.code).toBe(0);
    expect(widest(wide.out)).toBeGreaterThan(100);
    expect(widest(wide.out)).toBeLessThanOrEqual(160);
    expect(wide.out).toContain('ERROR RuntimeError: kaboom');
    const narrow = await run(['trace', 'show', BASE, '--width', '70']);
    expect(widest(narrow.out)).toBeLessThanOrEqual(70);
    // A terminal 72 columns wide, no flag.
    const c: string[] = [];
    const code = await main(['node', 'osprofiler', 'trace', 'show', BASE], {
      stdout: (s) => void c.push(s),
      stderr: () => undefined,
      env: {},
      columns: 72,
      createDriver: async () => fakeDriver({ code: 0, out: '', err: '', opened: [], closed: 0, listCalls: [] }),
    });
    expect(code).toBe(0);
    expect(widest(c.join(''))).toBeLessThanOrEqual(72);
    expect(widest(c.join(''))).toBeGreaterThan(60);
    for (const bad of ['10', 'wide', '0']) expect((await run(['trace', 'show', BASE, '--width', bad])).code, bad).toBe(2);
  });

  it('--version and -v print the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const c = await run([flag]);
      expect(c.code).toBe(0);
      expect(c.out).toBe(`${pkg.version}\n`);
    }
  });

  it('an unknown command, or none, is a usage error (exit 2)', async () => {
    for (const args of [['bogus'], ['trace', 'bogus'], [], ['trace']]) {
      const c = await run(args);
      expect(c.code, args.join(' ')).toBe(2);
      expect(c.out).toBe('');
      expect(c.err).toContain('Usage: osprofiler');
    }
  });

  it('does not leave files behind for a failed --out', async () => {
    const dir = tempDir();
    const c = await run(['trace', 'show', BASE, '--json', '--out', join(dir, 'missing-dir', 'o.json')]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/^error: cannot write /);
    expect(existsSync(join(dir, 'missing-dir'))).toBe(false);
  });
});
