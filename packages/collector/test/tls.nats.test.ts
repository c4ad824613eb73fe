// TLS to NATS as NATS users set it up: a nats-server of the test's own requiring mutual
// TLS, with a CA and certificates the test makes with openssl (server SAN IP 127.0.0.1,
// which nats.js checks). Agent and collector with CA + client cert/key: points flow. A
// collector trusting another CA, or without a client certificate, is refused with a clear
// message; bad TLS files fail start-up naming the option.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AGENT_DAEMON, flowThrough, makeTlsFiles, refusedCollector, spawnNode, startCollectorProc, testNames, tlsServerFlags, useServers, type TlsFiles } from './support/nats';

const CLI = resolve(__dirname, '../../cli/dist/bin.js');
const P = 2;
const names = testNames('tls');
let tls: TlsFiles;
const s = useServers(() => {
  tls = makeTlsFiles();
  return tlsServerFlags(tls, true);
});
const refused = (extra: string[]): Promise<string> => refusedCollector(s, names, extra);

describe('NATS over TLS', () => {
  it('bad TLS files fail start-up naming the option', async () => {
    const junk = join(tls.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    expect(await refused(['--nats-tls-ca', join(tls.dir, 'missing.pem')])).toMatch(/--nats-tls-ca \S*missing\.pem: ENOENT/);
    expect(await refused(['--nats-tls-ca', junk])).toMatch(/--nats-tls-ca \S*junk\.pem: not a PEM certificate/);
    expect(await refused(['--nats-tls-ca', tls.ca, '--nats-tls-cert', tls.clientCert])).toMatch(/--nats-tls-cert and --nats-tls-key go together/);
    const err = await refused(['--nats-tls-ca', tls.ca, '--nats-tls-cert', tls.clientCert, '--nats-tls-key', junk]);
    expect(err).toMatch(/--nats-tls-key \S*junk\.pem: not a PEM private key/);
    // The agent checks the same files at start-up, not at its first publish.
    const agent = spawnNode([AGENT_DAEMON, '--listen', join(tls.dir, 'a.sock'), '--upstream', s.nats.url, '--nats-tls-ca', junk]);
    s.procs.push(agent);
    expect(await agent.exited).not.toBe(0);
    expect(agent.stderr()).toMatch(/--nats-tls-ca \S*junk\.pem: not a PEM certificate/);
    // And the `osprofiler` commands pass the flags through.
    for (const args of [
      ['collector', '--nats', s.nats.url, '--backend', s.redis.url(), '--nats-tls-ca', tls.ca, '--nats-tls-cert', tls.clientCert, '--nats-tls-key', junk],
      ['agent', '--listen', join(tls.dir, 'b.sock'), '--upstream', s.nats.url, '--nats-tls-ca', tls.ca, '--nats-tls-cert', tls.clientCert, '--nats-tls-key', junk],
    ]) {
      const p = spawnNode([CLI, ...args]);
      s.procs.push(p);
      expect(await p.exited).not.toBe(0);
      expect(p.stderr()).toMatch(/--nats-tls-key \S*junk\.pem: not a PEM private key/);
    }
  }, 30_000);

  it('a server certificate from another CA is refused, naming the CA option', async () => {
    const err = await refused(['--nats-tls-ca', tls.otherCa, '--nats-tls-cert', tls.clientCert, '--nats-tls-key', tls.clientKey]);
    expect(err).toMatch(/--nats nats:\/\/127\.0\.0\.1:\d+: TLS: the server's certificate is not trusted \(.+\); check --nats-tls-ca/);
  }, 30_000);

  it('mutual TLS: without a client certificate refused; with CA + cert + key points flow from agent to collector to the store', async () => {
    expect(await refused(['--nats-tls-ca', tls.ca])).toMatch(/--nats nats:\/\/127\.0\.0\.1:\d+: .*give --nats-tls-cert and --nats-tls-key/);
    const flags = ['--nats-tls-ca', tls.ca, '--nats-tls-cert', tls.clientCert, '--nats-tls-key', tls.clientKey];
    s.procs.push(await startCollectorProc({ nats: s.nats.url, backend: s.redis.url(), names, partitions: P, extra: flags }));
    const r = await flowThrough({ nats: s.nats.url, names, partitions: P, redisPort: s.redis.port, procs: s.procs, agentExtra: flags });
    expect(r.expected).toBeGreaterThan(0);
    expect(r.stored).toBe(r.expected);
    expect(r.duplicates).toBe(0);
  }, 60_000);
});
