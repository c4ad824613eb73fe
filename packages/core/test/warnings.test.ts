/**
 * What a first run says: one warning when keys are configured while tracing is off, one
 * when tracing is on with neither keys nor sampling, and one contained failure printed once
 * per process, however many worker threads hit it. Each case is its own `node` process
 * (warnings are once per process) running the built package.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir';

const CORE = resolve(__dirname, '..', 'dist', 'index.js');
const KIT = resolve(__dirname, '..', 'dist', 'instrument.js');

function node(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const dir = tempDir('osp-warnings-');
  const r = spawnSync(process.execPath, ['-e', `const core = require(${JSON.stringify(CORE)});\nconst kit = require(${JSON.stringify(KIT)});\n${code}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, OSPROFILER_STATE_DIR: dir, ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('configuration warnings', () => {
  it('keys while tracing is off: one warning naming enabled and OSPROFILER_ENABLED; run() by hand still records', () => {
    const r = node(`
      core.configure({ service: 'orders', hmacKeys: ['SECRET_KEY'] });
      core.configure({ service: 'orders', hmacKeys: ['SECRET_KEY'] });
      core.run({ hmacKey: 'SECRET_KEY', baseId: 'b1' }, () => core.traced('manual', {}, () => 1));
      core.flush()
        .then(() => core.createDriver('file://'))
        .then((d) => d.getReport('b1'))
        .then((report) => console.log('stored ' + report.children.length));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(count(r.stderr, '[OSPROFILER_DISABLED]')).toBe(1);
    expect(r.stderr).toContain('hmacKeys are set but tracing is off (enabled: false');
    expect(r.stderr).toContain('Set enabled: true in configure() or OSPROFILER_ENABLED=true');
    expect(r.stdout.trim()).toMatch(/^stored [1-9]/);
  });

  it('keys from the environment only, or a worker configured with its creator\'s settings: configure() is not the place to say it', () => {
    // (Automatic mode and the adapters, set up while off, say it instead.)
    const r = node(
      `core.configure({ connectionString: 'memory://' });
       core.run({ hmacKey: 'k1' }, () => core.traced('lazy', {}, () => 1));
       const { Worker } = require('node:worker_threads');
       new Worker('require(' + JSON.stringify(${JSON.stringify(CORE)}) + ').configure({ hmacKeys: ["k1"] })', { eval: true });`,
      { OSPROFILER_HMAC_KEYS: 'k1' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('enabled with neither keys nor sampling: warned once; run({ hmacKey }) still records', () => {
    const r = node(
      `
      core.configure({});
      core.configure({});
      core.run({ hmacKey: 'by-hand', baseId: 'b1' }, () => core.traced('manual', {}, () => 1));
      core.flush()
        .then(() => core.createDriver('file://'))
        .then((d) => d.getReport('b1'))
        .then((report) => console.log('stored ' + report.children.length));
    `,
      { OSPROFILER_ENABLED: 'true' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(count(r.stderr, '[OSPROFILER_NO_KEYS]')).toBe(1);
    expect(r.stderr).toContain('no hmacKeys (OSPROFILER_HMAC_KEYS) and no sampling (OSPROFILER_SAMPLING): no incoming request can start a trace');
    expect(r.stdout.trim()).toMatch(/^stored [1-9]/);
  });

  it('says nothing for a working configuration, or for sampling alone with keys', () => {
    const r = node(`
      core.configure({ enabled: true, hmacKeys: ['k'], connectionString: 'memory://' });
      core.configure({ enabled: true, hmacKeys: ['k'], sampling: '1/10', connectionString: 'memory://' });
      core.configure({ connectionString: 'memory://' });
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('osprofiler');
  });
});

describe('contained failures are printed once per process', () => {
  it('main thread and three real worker threads failing at the same place: one warning; each thread still counts', () => {
    const r = node(`
      const { Worker } = require('node:worker_threads');
      kit.recordFailure('driver.test', new Error('backend down'));
      const workerCode = 'const core = require(' + JSON.stringify(${JSON.stringify(CORE)}) + ');' +
        'const kit = require(' + JSON.stringify(${JSON.stringify(KIT)}) + ');' +
        'kit.recordFailure("driver.test", new Error("backend down"));' +
        'kit.recordFailure("worker.only", new Error("w"));' +
        'require("node:worker_threads").parentPort.postMessage(core.failureCounts());';
      let left = 3;
      const counts = [];
      for (let i = 0; i < 3; i++) {
        const w = new Worker(workerCode, { eval: true });
        w.on('message', (m) => counts.push(m));
        w.on('exit', () => { if (--left === 0) console.log(JSON.stringify(counts)); });
      }
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(count(r.stderr, 'osprofiler: driver.test failed')).toBe(1);
    expect(count(r.stderr, 'osprofiler: worker.only failed')).toBe(1);
    const counts = JSON.parse(r.stdout) as Record<string, number>[];
    expect(counts).toHaveLength(3);
    for (const c of counts) expect(c).toEqual({ 'driver.test': 1, 'worker.only': 1 });
  });

  it('distinct places are each printed once', () => {
    const r = node(`for (let i = 0; i < 50; i++) kit.recordFailure('place.' + (i % 5), new Error('x'));`);
    for (let i = 0; i < 5; i++) expect(count(r.stderr, `osprofiler: place.${i} failed`)).toBe(1);
  });
});
