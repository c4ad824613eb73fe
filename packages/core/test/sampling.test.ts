import { afterEach, describe, expect, it } from 'vitest';
import { configure, ConfigError, resolveConfig, shutdown, signedPack } from '../src/index';
import { createSampler, incomingTrace } from '../src/instrument';
import { RecordingDriver } from './support/recording-driver';

afterEach(() => shutdown());

describe('sampling: the per-second cap', () => {
  it('a cap alone takes every request until the bucket (one second of traces) is empty, then refills with time', () => {
    let now = 0;
    const s = createSampler({ maxPerSecond: 5 }, () => now);
    expect(Array.from({ length: 8 }, () => s())).toEqual([true, true, true, true, true, false, false, false]);
    now += 200; // one token back
    expect([s(), s()]).toEqual([true, false]);
    now += 10_000; // never more than the burst at once
    expect(Array.from({ length: 7 }, () => s()).filter(Boolean)).toHaveLength(5);
  });

  it('with a rate or every-N-th, the cap counts only what they chose', () => {
    let now = 0;
    const s = createSampler({ everyNth: 2, maxPerSecond: 2 }, () => now);
    expect(Array.from({ length: 8 }, () => s())).toEqual([false, true, false, true, false, false, false, false]);
    now += 500;
    expect(Array.from({ length: 4 }, () => s())).toEqual([false, true, false, false]);
  });

  it('a fractional cap lets one trace through, then one every 1/cap seconds', () => {
    let now = 0;
    const s = createSampler({ maxPerSecond: 0.5 }, () => now);
    expect([s(), s()]).toEqual([true, false]);
    now += 1999;
    expect(s()).toBe(false);
    now += 1;
    expect(s()).toBe(true);
  });

  it('a bounded burst: sampled <= cap * elapsed + burst, and the cap is reached', () => {
    const cap = 50;
    const s = createSampler({ rate: 1, maxPerSecond: cap });
    const t0 = performance.now();
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) if (s()) sampled++;
    const elapsed = (performance.now() - t0) / 1000;
    expect(sampled).toBeLessThanOrEqual(Math.floor(cap * elapsed + cap));
    expect(sampled).toBeGreaterThanOrEqual(cap);
  });

  it('incomingTrace: a signed header always wins, even with the bucket empty; it takes no token', () => {
    configure({ driver: new RecordingDriver(), hmacKeys: ['k'], sampling: '1/s' });
    const config = resolveConfig({ hmacKeys: ['k'], sampling: '1/s' }, {});
    const sampler = createSampler(config.sampling, () => 0);
    expect(incomingTrace({}, config, sampler)).toEqual({ hmacKey: 'k' });
    expect(incomingTrace({}, config, sampler)).toBeUndefined();
    const { info, hmac } = signedPack({ base_id: 'B', parent_id: 'P' }, 'k');
    for (let i = 0; i < 3; i++) expect(incomingTrace({ 'x-trace-info': info, 'x-trace-hmac': hmac }, config, sampler)).toEqual({ hmacKey: 'k', baseId: 'B', parentId: 'P' });
  });
});

describe('sampling: config', () => {
  const env = (v: string) => ({ OSPROFILER_SAMPLING: v, OSPROFILER_HMAC_KEYS: 'k' });
  it.each([
    ['50/s', { maxPerSecond: 50 }],
    ['0.5/s', { maxPerSecond: 0.5 }],
    ['0.1,50/s', { rate: 0.1, maxPerSecond: 50 }],
    [' 0.1 , 50 / s ', { rate: 0.1, maxPerSecond: 50 }],
    ['50/s,0.1', { rate: 0.1, maxPerSecond: 50 }],
    ['1/10,20/s', { everyNth: 10, maxPerSecond: 20 }],
    ['1/10', { everyNth: 10 }],
    ['0.25', { rate: 0.25 }],
    ['off', null],
  ])('OSPROFILER_SAMPLING=%j', (v, want) => {
    expect(resolveConfig({}, env(v)).sampling).toEqual(want);
  });

  it('objects: a cap alone or with a rate', () => {
    expect(resolveConfig({ hmacKeys: ['k'], sampling: { rate: 0.1, maxPerSecond: 50 } }, {}).sampling).toEqual({ rate: 0.1, maxPerSecond: 50 });
    expect(resolveConfig({ hmacKeys: ['k'], sampling: { maxPerSecond: 3 } }, {}).sampling).toEqual({ maxPerSecond: 3 });
    // A bare number is a rate (the Express option's type allows it).
    expect(resolveConfig({ hmacKeys: ['k'], sampling: 0.25 as never }, {}).sampling).toEqual({ rate: 0.25 });
    expect(() => resolveConfig({ hmacKeys: ['k'], sampling: 2 as never }, {})).toThrow('sampling (OSPROFILER_SAMPLING)');
  });

  it.each(['0/s', '-1/s', '50/m', '0.1,0.2', '1/10,0.1', '50/s,60/s', '0.1,50/s,1/2', 'x/s', '1.5', '', ',', '1/0'])('bad %j: ConfigError naming the field and the variable', (v) => {
    const e = (() => {
      try {
        resolveConfig({}, env(v));
      } catch (err) {
        return err;
      }
    })();
    if (v === '') return expect(e).toBeUndefined(); // empty variable = unset
    expect(e).toBeInstanceOf(ConfigError);
    expect(String((e as Error).message)).toContain('sampling (OSPROFILER_SAMPLING)');
    expect(String((e as Error).message)).toContain('"C/s"');
  });

  it.each([{ maxPerSecond: 0 }, { maxPerSecond: Infinity }, { rate: 0.1, maxPerSecond: '5' }, { everyNth: 2, rate: 0.5 }, { perSecond: 5 }, {}, { rate: 0.5, extra: 1 }])('bad object %j', (v) => {
    expect(() => resolveConfig({ hmacKeys: ['k'], sampling: v as never }, {})).toThrow('sampling (OSPROFILER_SAMPLING)');
  });
});
