// A NATS .creds file (operator mode, decentralised JWT auth): a nats-server of the test's
// own with an operator, accounts and a user the test makes (@nats-io/jwt, resolver
// MEMORY). Agent and collector with --nats-creds: points flow. A user of an account the
// server does not know is refused; a file that is not a .creds file fails start-up naming
// --nats-creds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../../../tools/testing/redis-server';
import { COLLECTOR_DAEMON, OwnNats, flowThrough, freePort, makeOperatorMode, spawnNode, startCollectorProc, stopProc, tempDir, testNames, type OperatorMode, type Proc } from './support/nats';

const P = 2;
const names = testNames('creds');
let op: OperatorMode;
let nats: OwnNats;
let redis: RedisServer;
const procs: Proc[] = [];

beforeAll(async () => {
  op = await makeOperatorMode();
  nats = await OwnNats.create(['-c', op.config]);
  await nats.start();
  redis = new RedisServer({ port: await freePort(), persist: true });
  await redis.start();
});

afterAll(async () => {
  for (const p of procs.reverse()) await stopProc(p, 'SIGKILL');
  await nats?.stop();
  await redis?.stop();
});

async function refused(creds: string): Promise<string> {
  const p = spawnNode([COLLECTOR_DAEMON, '--nats', nats.url, '--backend', redis.url(), '--stream', names.stream, '--subject-prefix', names.prefix, '--nats-creds', creds]);
  procs.push(p);
  expect(await p.exited).toBe(1);
  return p.stderr();
}

describe('NATS creds file (operator mode)', () => {
  it('a file that is not a .creds file, or is missing, fails start-up naming --nats-creds', async () => {
    const junk = join(tempDir('creds'), 'junk.creds');
    writeFileSync(junk, 'user: nobody\n');
    expect(await refused(junk)).toMatch(/--nats-creds \S*junk\.creds: not a NATS \.creds file/);
    expect(await refused(join(tempDir('creds'), 'missing.creds'))).toMatch(/--nats-creds \S*missing\.creds: ENOENT/);
  }, 30_000);

  it('a user of an unknown account is refused', async () => {
    expect(await refused(op.strangerCreds)).toMatch(/--nats nats:\/\/127\.0\.0\.1:\d+: .*(authorization|auth)/i);
  }, 30_000);

  it('agent and collector with --nats-creds: every point stored once', async () => {
    const flags = ['--nats-creds', op.creds];
    const c = await startCollectorProc({ nats: nats.url, backend: redis.url(), names, partitions: P, extra: flags });
    procs.push(c);
    // The seed never reaches the log.
    expect(c.stderr()).not.toMatch(/SU[A-Z2-7]{50,}/);
    const r = await flowThrough({ nats: nats.url, names, partitions: P, redisPort: redis.port, procs, agentExtra: flags });
    expect(r.expected).toBeGreaterThan(0);
    expect(r.stored).toBe(r.expected);
    expect(r.duplicates).toBe(0);
  }, 60_000);
});
