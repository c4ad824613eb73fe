import { describe, expect, it } from 'vitest';
import type { Driver, DriverOptions } from '../src/driver';
import { FileDriver } from '../src/drivers/file';
import { MemoryDriver } from '../src/drivers/memory';
import { createDriver, driverSchemes, redactConnectionString, registerDriver } from '../src/registry';
import { tempDir } from '../../../tools/testing/temp-dir';

const root = tempDir('osprofiler-registry-');

describe('driver registry', () => {
  it('has memory and file built in', () => {
    expect(driverSchemes()).toEqual(expect.arrayContaining(['file', 'memory']));
  });

  it('creates drivers from connection strings; a bare scheme means "<scheme>://" (as Python)', async () => {
    expect(await createDriver('memory://')).toBeInstanceOf(MemoryDriver);
    expect(await createDriver('memory')).toBeInstanceOf(MemoryDriver);
    const f = await createDriver(`file://${root}?max_age=1d&max_bytes=10MB`, { retentionPruneIntervalMs: 0 });
    expect(f).toBeInstanceOf(FileDriver);
    expect((f as FileDriver).settings).toMatchObject({ dir: root, maxAgeMs: 86_400_000, maxBytes: 10_000_000 });
    await f.close();
  });

  it('fills DriverOptions defaults and passes extra keys through', async () => {
    let seen: DriverOptions | undefined;
    registerDriver('spy+test:', (_url, options) => {
      seen = options;
      return new MemoryDriver(options);
    });
    await createDriver('SPY+TEST://x', { project: 'p', extra: 1 });
    expect(seen).toMatchObject({ project: 'p', service: null, filterErrorTrace: false, extra: 1 });
    expect(typeof seen?.host).toBe('string');
  });

  it('unknown scheme: the error names it and lists the known ones, without the password', async () => {
    const err = await createDriver('nosuch://user:s3cret@host:1/db').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/no storage driver for scheme "nosuch" \(known schemes: .*file.*memory/);
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('factory errors never carry the password', async () => {
    registerDriver('leaky', (url) => {
      throw new Error(`cannot connect to ${url.href} with ${decodeURIComponent(url.password)}`);
    });
    const err = (await createDriver('leaky://u:p%40ss-word@h/').catch((e: Error) => e)) as Error;
    expect(err.message).toContain('***');
    expect(err.message).not.toMatch(/p%40ss-word|p@ss-word/);
  });

  it('bad strings fail at creation with a clear message', async () => {
    await expect(createDriver('file://relative/dir')).rejects.toThrow(/host "relative"/);
    await expect(createDriver('://nothing')).rejects.toThrow(/invalid connection string/);
    await expect(createDriver('memory://x/some/path')).rejects.toThrow(/memory:\/\/ connection string/);
    expect(() => registerDriver('bad scheme', () => ({}) as Driver)).toThrow(/not a valid URL scheme/);
    expect(redactConnectionString('redis://:pw@h:6379/0')).toBe('redis://:***@h:6379/0');
    expect(redactConnectionString('redis://user:pw@h')).toBe('redis://user:***@h');
    expect(redactConnectionString('file:///a/b')).toBe('file:///a/b');
  });
});
