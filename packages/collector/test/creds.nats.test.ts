// A NATS .creds file (operator mode, decentralised JWT auth): a nats-server of the test's
// own with an operator, accounts and a user the test makes (@nats-io/jwt, resolver
// MEMORY). Agent and collector with --nats-creds: points flow. A user of an account the
// server does not know is refused; a file that is not a .creds file fails start-up naming
// --nats-creds.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowThrough, makeOperatorMode, refusedCollector, startCollectorProc, tempDir, testNames, useServers, type OperatorMode } from './support/nats';

const P = 2;
const names = testNames('creds');
let op: OperatorMode;
const s = useServers(async () => {
  op = await makeOperatorMode();
  return ['-c', op.config];
});

describe('NATS creds file (operator mode)', () => {
  it('a file that is not a .creds file, or is missing, fails start-up naming --nats-creds', async () => {
    const junk = join(tempDir('creds'), 'junk.creds');
    writeFileSync(junk, 'user: nobody\n');
    expect(await refusedCollector(s, names, ['--nats-creds', junk])).toMatch(/--nats-creds \S*junk\.creds: not a NATS \.creds file/);
    expect(await refusedCollector(s, names, ['--nats-creds', join(tempDir('creds'), 'missing.creds')])).toMatch(/--nats-creds \S*missing\.creds: ENOENT/);
  }, 30_000);

  it('a user of an unknown account is refused', async () => {
    expect(await refusedCollector(s, names, ['--nats-creds', op.strangerCreds])).toMatch(/--nats nats:\/\/127\.0\.0\.1:\d+: .*(authorization|auth)/i);
  }, 30_000);

  it('agent and collector with --nats-creds: every point stored once', async () => {
    const flags = ['--nats-creds', op.creds];
    const c = await startCollectorProc({ nats: s.nats.url, backend: s.redis.url(), names, partitions: P, extra: flags });
    s.procs.push(c);
    // The seed never reaches the log.
    expect(c.stderr()).not.toMatch(/SU[A-Z2-7]{50,}/);
    const r = await flowThrough({ nats: s.nats.url, names, partitions: P, redisPort: s.redis.port, procs: s.procs, agentExtra: flags });
    expect(r.expected).toBeGreaterThan(0);
    expect(r.stored).toBe(r.expected);
    expect(r.duplicates).toBe(0);
  }, 60_000);
});
