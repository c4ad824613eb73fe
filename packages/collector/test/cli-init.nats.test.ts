// `osprofiler collector --init` creates the stream (work queue, limits, discard new), the
// dead-letter stream, one durable pull consumer per partition and the lease bucket;
// bad command lines exit non-zero with a message.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { tempDir } from '../../../tools/testing/temp-dir';
import { resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { SHARED_NATS, dropJetStream, testNames } from './support/nats';

const CLI = resolve(__dirname, '../../cli/dist/bin.js');
const names = testNames('init');

afterAll(async () => {
  await dropJetStream(SHARED_NATS, names.stream);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('osprofiler collector', () => {
  it('--init creates the stream, dead-letter stream, consumers and lease bucket', async () => {
    const r = cli(['collector', '--init', '--nats', SHARED_NATS, '--stream', names.stream, '--subject-prefix', names.prefix, '--partitions', '3']);
    expect(r.stderr).toMatch(/are ready/);
    expect(r.status).toBe(0);
    const nc = await connect({ servers: '127.0.0.1:4222' });
    try {
      const jsm = await jetstreamManager(nc);
      const s = await jsm.streams.info(names.stream);
      expect(s.config).toMatchObject({ subjects: [`${names.prefix}.points.>`], retention: 'workqueue', discard: 'new', max_bytes: 1024 ** 3, storage: 'file' });
      expect(s.config.max_age).toBe(24 * 3600 * 1e9);
      expect((await jsm.streams.info(`${names.stream}_DEADLETTER`)).config.subjects).toEqual([`${names.prefix}.deadletter.>`]);
      for (let p = 0; p < 3; p++) {
        const c = await jsm.consumers.info(names.stream, `${names.stream}_p${p}`);
        expect(c.config).toMatchObject({ durable_name: `${names.stream}_p${p}`, ack_policy: 'explicit', filter_subject: `${names.prefix}.points.*.${p}` });
      }
      expect((await jsm.streams.info(`KV_${names.stream}_LEASES`)).config.max_msgs_per_subject).toBe(1);
    } finally {
      await nc.close();
    }
  }, 60_000);

  it('bad command lines exit non-zero with a message', () => {
    const noBackend = cli(['collector', '--nats', SHARED_NATS]);
    expect(noBackend.status).toBe(2);
    expect(noBackend.stderr).toMatch(/--backend/);
    const badPartitions = cli(['collector', '--nats', SHARED_NATS, '--backend', 'redis://127.0.0.1:1', '--partitions', 'x']);
    expect(badPartitions.status).not.toBe(0);
    expect(badPartitions.stderr).toMatch(/--partitions/);
    const badNats = cli(['collector', '--nats', 'http://x', '--backend', 'memory://', '--subject-prefix', 'a']);
    expect(badNats.status).toBe(1);
    expect(badNats.stderr).toMatch(/--nats .*scheme must be nats:\/\/ or tls:\/\//);
  }, 60_000);

  it('osprofiler agent --upstream runs without --backend and drains on SIGTERM', async () => {
    const sock = resolve(tempDir('osp-cli-up-'), 'a.sock');
    const child = spawn(process.execPath, [CLI, 'agent', '--listen', sock, '--upstream', SHARED_NATS, '--subject-prefix', names.prefix, '--partitions', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!/publishing to nats:\/\/127\.0\.0\.1:4222/.test(err) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/listening on .*a\.sock, publishing to nats:\/\/127\.0\.0\.1:4222/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
