/**
 * The docs' code samples, found and run for real. Every fenced block is preceded
 * by a marker comment, one of
 *   <!-- sample: run file=app.mjs get=/orders/7 expect=wsgi,db auto -->
 *   <!-- sample: skip <reason> -->
 * The files: docs/**, the root README and every package's and example's README.
 * `run` writes the block to `file` (a `.ts` block is transpiled to CommonJS, a `.mts` one to
 * an ES module, decorators on) in
 * a fresh directory under tools/docs/.samples (so the workspace's packages resolve), starts it
 * with a `file://` store of its own (OSPROFILER_CONNECTION_STRING) and PORT set to a free
 * port; with `get=` it waits for the port, sends one request signed with SECRET_KEY (the key
 * every sample uses) and reads that trace; `with=FILE` also writes the block before it as FILE; without it the program must exit 0 and every trace
 * it stored is read. `expect=` lists point names the trace must hold; `auto` starts the program
 * under `node --import @osprofiler/auto` (`--require` for CommonJS) with
 * OSPROFILER_ENABLED=true OSPROFILER_HMAC_KEYS=SECRET_KEY, as the docs' one-line setup does.
 *   <!-- sample: run cli -->
 * on a sh block (the `osprofiler` commands that look at a trace): the page's app sample before
 * it runs again as above and, while it is up, the block runs with bash, the app's env (its
 * store) and the workspace's `osprofiler` on PATH; `127.0.0.1:3000` becomes the app's port
 * and `<trace-id>` the id of the runner's request. It must exit 0 and print that id.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { createDriver, traceNotifications, type Notification } from '@osprofiler/core';
import { httpGet, signedHeaders } from '../../../testing/http';
import { stopProcess } from '../../../testing/child-process';
import { freePort } from '../../../testing/redis-server';

export const ROOT = join(__dirname, '../../../..');
export const KEY = 'SECRET_KEY';

export interface Sample {
  /** docs/… path and line of the block, for messages. */
  where: string;
  lang: string;
  code: string;
  marker: { kind: 'run' | 'skip' | 'none'; options: Record<string, string>; reason: string };
  /** The block before this one in the same file (`with=FILE` writes it beside the program). */
  prev?: Sample;
}

export function markdownFiles(dir = join(ROOT, 'docs'), out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) markdownFiles(p, out);
    else if (e.endsWith('.md')) out.push(p);
  }
  return out.sort();
}

/** The READMEs users read first: the root one, each package's and each example's. */
export function readmeFiles(): string[] {
  const out = [join(ROOT, 'README.md')];
  for (const group of ['packages', 'examples']) {
    for (const d of readdirSync(join(ROOT, group)).sort()) {
      const f = join(ROOT, group, d, 'README.md');
      if (existsSync(f)) out.push(f);
    }
  }
  return out;
}

/** Every fenced block of a markdown file with the marker comment right before it (if any). */
export function samplesOf(file: string): Sample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)/.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
    const prev = i > 0 ? lines[i - 1].trim() : '';
    const m = /^<!--\s*sample:\s*(run|skip)\b(.*?)-->$/.exec(prev);
    const options: Record<string, string> = {};
    if (m?.[1] === 'run') {
      for (const tok of m[2].trim().split(/\s+/).filter(Boolean)) {
        const eq = tok.indexOf('=');
        options[eq < 0 ? tok : tok.slice(0, eq)] = eq < 0 ? 'true' : tok.slice(eq + 1);
      }
    }
    out.push({
      prev: out[out.length - 1],
      where: `${relative(ROOT, file)}:${i + 1}`,
      lang: open[2],
      code: lines.slice(i + 1, j).join('\n') + '\n',
      marker: { kind: (m?.[1] as 'run' | 'skip') ?? 'none', options, reason: m?.[1] === 'skip' ? m[2].trim() : '' },
    });
    i = j;
  }
  return out;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), ok(true)));
    c.once('error', () => ok(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SampleRun {
  /** Point names in the trace(s) read, one per start. */
  names: string[];
  notifications: Notification[];
  output: string;
  status?: number;
}

/** What a `cli` block gets: the running app's port and store, and the trace its request made. */
interface Running {
  dir: string;
  port: number;
  env: NodeJS.ProcessEnv;
  baseIds: string[];
}

/**
 * Runs one `run` sample as documented; throws with the program's output when it does not work.
 * A `cli` sh block runs the page's app sample before it (the nearest with `get=` or, for a
 * script, without) and then itself, with that app still up and its trace stored.
 */
export async function runSample(s: Sample): Promise<SampleRun> {
  if (s.marker.options.cli === undefined) return runProgram(s);
  let app = s.prev;
  while (app !== undefined && (app.marker.kind !== 'run' || app.marker.options.cli !== undefined)) app = app.prev;
  if (app === undefined) throw new Error(`${s.where}: a cli block needs a run sample before it on the page`);
  let out = '';
  const r = await runProgram(app, async (at) => {
    const id = at.baseIds[0];
    const code = s.code.replaceAll('127.0.0.1:3000', `127.0.0.1:${at.port}`).replaceAll('<trace-id>', id);
    const env = { ...at.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${at.env.PATH ?? ''}` };
    // `npx osprofiler` runs the workspace's bin directly: npx's own start-up took 4.4 s against 1.3 s here (load 30).
    const npx = 'npx() { if [ "$1" = osprofiler ]; then shift; osprofiler "$@"; else command npx "$@"; fi; }\n';
    const sh = spawnSync('bash', ['-euo', 'pipefail', '-c', npx + code], { cwd: at.dir, env, encoding: 'utf8', timeout: 90_000 });
    out = `${sh.stdout}${sh.stderr}`;
    if (sh.status !== 0) throw new Error(`${s.where}: exited with ${sh.status ?? sh.signal}\n--- output ---\n${out}`);
    // every cli block reads the store: the app's trace must be what it shows or lists
    if (!sh.stdout.includes(id)) throw new Error(`${s.where}: the output never names trace ${id}\n--- output ---\n${out}`);
  });
  return { ...r, output: out };
}

async function runProgram(s: Sample, meanwhile?: (at: Running) => Promise<void>): Promise<SampleRun> {
  const o = s.marker.options;
  const file = o.file ?? (s.lang === 'ts' ? 'app.ts' : 'app.mjs');
  const base = join(ROOT, 'tools/docs/.samples');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'sample-'));
  const store = mkdtempSync(join(tmpdir(), 'osprofiler-docs-'));
  let program = join(dir, file);
  if (file.endsWith('.ts') || file.endsWith('.mts')) {
    // `.mts`: an ES module (top-level await), like a TypeScript app with "type": "module".
    const esm = file.endsWith('.mts');
    const js = ts.transpileModule(s.code, {
      compilerOptions: { module: esm ? ts.ModuleKind.ES2022 : ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true },
    }).outputText;
    program = program.replace(/\.m?ts$/, esm ? '.mjs' : '.cjs');
    writeFileSync(program, js);
  } else {
    writeFileSync(program, s.code);
  }
  if (o.with) {
    if (s.prev === undefined) throw new Error(`${s.where}: with=${o.with} but no block before it`);
    writeFileSync(join(dir, o.with), s.prev.code);
  }
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OSPROFILER_')) env[k] = v;
  Object.assign(env, { PORT: String(port), OSPROFILER_CONNECTION_STRING: `file://${store}`, OSPROFILER_STATE_DIR: store });
  const args: string[] = [];
  if (o.auto) {
    Object.assign(env, { OSPROFILER_ENABLED: 'true', OSPROFILER_HMAC_KEYS: KEY });
    args.push(program.endsWith('.cjs') ? '--require' : '--import', '@osprofiler/auto');
  }
  args.push(program);
  const proc = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const driver = await createDriver(`file://${store}`);
  const fail = (why: string) => new Error(`${s.where}: ${why}\n--- program output ---\n${output}`);
  try {
    let baseIds: string[];
    let status: number | undefined;
    if (o.get) {
      const deadline = Date.now() + 60_000;
      while (!(await portOpen(port))) {
        if (proc.exitCode !== null) throw fail(`exited (${proc.exitCode}) before listening on PORT`);
        if (Date.now() > deadline) throw fail('did not listen on PORT within 60 s');
        await sleep(100);
      }
      const baseId = randomUUID();
      const res = await httpGet(port, o.get, signedHeaders(baseId, KEY));
      status = res.status;
      if (res.status >= 500) throw fail(`GET ${o.get} answered ${res.status}: ${res.body}`);
      baseIds = [baseId];
    } else {
      const code = await Promise.race([exited, sleep(60_000).then(() => 'timeout' as const)]);
      if (code !== 0) throw fail(code === 'timeout' ? 'did not exit within 60 s' : `exited with ${code}`);
      baseIds = (await driver.listTraces()).map((t) => t.base_id);
      if (baseIds.length === 0) throw fail('stored no trace');
    }
    const expected = (o.expect ?? '').split(',').filter(Boolean);
    // Points reach the store in batches (100 ms) and stops come after the response: poll.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const notifications: Notification[] = [];
      for (const id of baseIds) {
        try {
          notifications.push(...(await traceNotifications(driver, id)));
        } catch {
          // not stored yet
        }
      }
      const names = notifications.filter((n) => n.name.endsWith('-start')).map((n) => n.name.slice(0, -'-start'.length));
      const stops = notifications.filter((n) => n.name.endsWith('-stop')).length;
      if (expected.every((e) => names.includes(e)) && names.length > 0 && stops === names.length) {
        await meanwhile?.({ dir, port, env, baseIds });
        return { names, notifications, output, status };
      }
      if (Date.now() > deadline) throw fail(`trace holds [${names.join(', ')}] (${stops} stops), expected [${expected.join(', ')}] each started and stopped`);
      await sleep(200);
    }
  } finally {
    await stopProcess(proc, exited);
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  }
}
