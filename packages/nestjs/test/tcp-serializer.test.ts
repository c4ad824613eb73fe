import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { configure, extract, get, run, shutdown, signedPack } from '@osprofiler/core';
import { ProfilerTcpDeserializer, ProfilerTcpSerializer, TCP_FIELD } from '../src/index';

const KEY = 'TCP_KEY';
configure({ enabled: true, hmacKeys: [KEY], connectionString: 'memory://nest-tcp-unit' });
afterAll(async () => {
  await shutdown();
});

/** Runs `fn` in a fresh async scope (what the TCP server's socket callback is) and returns what it saw. */
function inScope<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(fn())));
}

describe('ProfilerTcpSerializer / ProfilerTcpDeserializer', () => {
  it('the serializer adds nothing outside a trace, and a verifiable osprofiler field inside one', () => {
    const s = new ProfilerTcpSerializer();
    const packet = { pattern: 'p', data: [1], id: 'x' };
    expect(s.serialize(packet)).toEqual(packet);
    const base = randomUUID();
    const out = run({ hmacKey: KEY, baseId: base }, () => s.serialize(packet)) as Record<string, any>;
    expect(out).toMatchObject(packet);
    const t = extract({ 'X-Trace-Info': out[TCP_FIELD].info, 'X-Trace-HMAC': out[TCP_FIELD].hmac }, [KEY]);
    expect(t).toMatchObject({ baseId: base, parentId: base });
  });

  it('the deserializer strips the field, enters a valid trace, and clears it for forged or missing info', async () => {
    const d = new ProfilerTcpDeserializer();
    const base = randomUUID();
    const good = signedPack({ base_id: base, parent_id: base }, KEY);
    const seen = await inScope(() => {
      const packet = d.deserialize({ pattern: 'p', data: 1, id: 'x', [TCP_FIELD]: good });
      return { packet, baseId: get()?.baseId };
    });
    expect(seen).toEqual({ packet: { pattern: 'p', data: 1, id: 'x' }, baseId: base });

    const forged = signedPack({ base_id: base, parent_id: base }, 'OTHER');
    for (const carried of [forged, { info: 'x', hmac: 'y' }, null, 'junk', undefined]) {
      const r = await inScope(() => {
        // An earlier valid message on the same socket entered a trace: this one must clear it.
        d.deserialize({ pattern: 'p', data: 0, [TCP_FIELD]: good });
        if (get()?.baseId !== base) throw new Error('setup: trace not entered');
        const packet = d.deserialize({ pattern: 'p', data: 2, ...(carried === undefined ? {} : { [TCP_FIELD]: carried }) });
        return { packet, traced: get() !== undefined };
      });
      expect(r).toEqual({ packet: { pattern: 'p', data: 2 }, traced: false });
    }
  });

  it('non-Nest packets still go through Nest’s default mapping, and nothing throws', async () => {
    const d = new ProfilerTcpDeserializer();
    expect(await inScope(() => d.deserialize('raw text', { channel: 'chan' }))).toEqual({ pattern: 'chan', data: 'raw text' });
    expect(await inScope(() => d.deserialize(null))).toEqual({ pattern: undefined, data: undefined });
  });
});
