// How a NATS url and the access files become nats.js connection options (no server):
// credentials out of the URL, IPv6 literals, TLS asked for by a CA or tls://, and bad
// values refused naming the option, never echoing a password.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credsAuthenticator } from '@nats-io/transport-node';
import { natsOptions } from '@osprofiler/agent';
import { makeTlsFiles, tempDir } from './support/nats';

const t = { credsAuthenticator };

describe('natsOptions', () => {
  it('user:pass (URL-encoded) and token out of the URL; default port; several servers', () => {
    const o = natsOptions({ url: 'nats://osp:p%40ss%3Aw@127.0.0.1:4223,nats://127.0.0.1' }, t);
    expect(o.servers).toEqual(['127.0.0.1:4223', '127.0.0.1:4222']);
    expect(o).toMatchObject({ user: 'osp', pass: 'p@ss:w' });
    expect(natsOptions({ url: 'nats://s3cret-token@localhost:4222' }, t)).toMatchObject({ token: 's3cret-token', servers: ['localhost:4222'] });
  });

  it('IPv6 literals keep one pair of brackets', () => {
    expect(natsOptions({ url: 'nats://u:p@[::1]:4333' }, t).servers).toEqual(['[::1]:4333']);
    expect(natsOptions({ url: 'nats://[::1]' }, t).servers).toEqual(['[::1]:4222']);
  });

  it('TLS: asked for by tls:// or a CA file; the files go to nats.js', () => {
    expect(natsOptions({ url: 'nats://127.0.0.1:4222' }, t).tls).toBeUndefined();
    expect(natsOptions({ url: 'tls://127.0.0.1:4222' }, t).tls).toBeDefined();
    const f = makeTlsFiles();
    expect(natsOptions({ url: 'nats://127.0.0.1', tlsCa: f.ca, tlsCert: f.clientCert, tlsKey: f.clientKey }, t).tls).toEqual({ caFile: f.ca, certFile: f.clientCert, keyFile: f.clientKey });
  });

  it('bad values are refused naming the option, without the password', () => {
    for (const url of ['http://u:hunter2@127.0.0.1', 'nats://u:hunter2@[::1', 'u:hunter2@h:99999']) {
      expect(() => natsOptions({ url }, t)).toThrow(/NATS url "[a-z]+:\/\/u:\*\*\*@[^"]*"(: scheme must be nats:\/\/ or tls:\/\/| does not parse)/);
      expect(() => natsOptions({ url }, t)).not.toThrow(/hunter2/);
    }
    const dir = tempDir('opts');
    const junk = join(dir, 'x.pem');
    writeFileSync(junk, 'junk');
    expect(() => natsOptions({ url: 'nats://h', tlsCa: join(dir, 'none.pem') }, t)).toThrow(/--nats-tls-ca \S*none\.pem: ENOENT/);
    expect(() => natsOptions({ url: 'nats://h', tlsKey: junk }, t)).toThrow(/--nats-tls-cert and --nats-tls-key go together/);
    expect(() => natsOptions({ url: 'nats://h', credsFile: junk }, t)).toThrow(/--nats-creds \S*x\.pem: not a NATS \.creds file/);
  });
});
