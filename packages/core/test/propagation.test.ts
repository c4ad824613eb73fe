import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configure, continueFrom, extract, flush, get, inject, resolveConfig, run, shutdown, signedUnpack, traceHeaders, traced } from '../src/index';
import { incomingTrace } from '../src/instrument';
import { RecordingDriver } from './support/recording-driver';

let driver: RecordingDriver;
beforeEach(() => {
  driver = new RecordingDriver();
  configure({ driver, host: 'h', flushIntervalMs: 5, hmacKeys: ['k-new', 'k-old'] });
});
afterEach(() => shutdown());

describe('propagation', () => {
  it('no trace => no headers and nothing written', () => {
    const carrier: Record<string, string> = {};
    expect(inject(carrier)).toBe(false);
    expect(carrier).toEqual({});
    expect(traceHeaders()).toBeUndefined();
  });

  it('inject signs base_id and the CURRENT point id with the key that matched', () => {
    run({ hmacKey: 'k-old', baseId: 'B' }, () => {
      traced('rpc', () => {
        const carrier: Record<string, string> = {};
        expect(inject(carrier)).toBe(true);
        const data = signedUnpack(carrier['X-Trace-Info'], carrier['X-Trace-HMAC'], ['k-old']);
        expect(data).toEqual({ base_id: 'B', parent_id: get()!.currentId, hmac_key: 'k-old' });
        // Not valid under the other key only.
        expect(signedUnpack(carrier['X-Trace-Info'], carrier['X-Trace-HMAC'], ['k-new'])).toBeNull();
      });
    });
  });

  it('works with fetch Headers and Map carriers, reads lower-case Node headers', () => {
    run({ hmacKey: 'k-new', baseId: 'B2' }, () => {
      const h = new Headers();
      inject(h);
      const back = extract(h, ['k-new']);
      expect(back).toEqual({ hmacKey: 'k-new', baseId: 'B2', parentId: 'B2' });
      const nodeStyle = { 'x-trace-info': h.get('x-trace-info'), 'x-trace-hmac': h.get('x-trace-hmac') };
      expect(extract(nodeStyle, ['k-new'])).toEqual(back);
      const m = new Map<string, string>();
      inject(m);
      expect(extract(m, ['k-new'])).toEqual(back);
    });
  });

  it('rejects forged, missing, repeated and oversized headers without throwing', () => {
    let good: Record<string, string> = {};
    run({ hmacKey: 'k-new', baseId: 'B3' }, () => {
      inject(good);
    });
    good = { 'x-trace-info': good['X-Trace-Info'], 'x-trace-hmac': good['X-Trace-HMAC'] };
    expect(extract(good, ['k-new'])).toBeDefined();
    expect(extract({ ...good, 'x-trace-hmac': '0'.repeat(40) }, ['k-new'])).toBeUndefined();
    expect(extract({ 'x-trace-info': good['x-trace-info'] }, ['k-new'])).toBeUndefined();
    expect(extract({ ...good, 'x-trace-hmac': [good['x-trace-hmac'], good['x-trace-hmac']] }, ['k-new'])).toBeUndefined();
    expect(extract({ ...good, 'x-trace-info': 'A'.repeat(9000) }, ['k-new'])).toBeUndefined();
    expect(extract(good, [])).toBeUndefined();
    expect(extract(null, ['k'])).toBeUndefined();
    expect(extract({ 'x-trace-info': 5, 'x-trace-hmac': {} } as never, ['k'])).toBeUndefined();
  });

  it('key rotation across three services: old -> old+new -> new', async () => {
    // Service A knows only the old key; B knows both; C knows only the new one.
    const A = ['k-old'];
    const B = ['k-new', 'k-old'];
    const C = ['k-new'];
    const hop = (carrier: Record<string, string>, keys: string[], name: string, next?: (c: Record<string, string>) => void) =>
      continueFrom(carrier, () => traced(name, () => {
        const out: Record<string, string> = {};
        inject(out);
        next?.(out);
      }), keys);
    let seenByC: ReturnType<typeof extract>;
    run({ hmacKey: 'k-old', baseId: 'rot' }, () => {
      const out: Record<string, string> = {};
      inject(out);
      hop(out, A, 'a', (c1) => hop(c1, B, 'b', (c2) => {
        // B matched k-old, so it signs onward with k-old: C (new key only) cannot verify.
        seenByC = extract(c2, C);
      }));
    });
    expect(seenByC).toBeUndefined();
    // Once the origin signs with the new key, every hop that knows it continues the trace.
    let chain: string[] = [];
    run({ hmacKey: 'k-new', baseId: 'rot2' }, () => {
      const out: Record<string, string> = {};
      inject(out);
      hop(out, B, 'b', (c2) => hop(c2, C, 'c', () => { chain = [get()!.baseId, get()!.hmacKey]; }));
    });
    expect(chain).toEqual(['rot2', 'k-new']);
    await flush();
    const ev = driver.byBase('rot2');
    expect(ev.map((e) => e.name)).toEqual(['b-start', 'c-start', 'c-stop', 'b-stop']);
    expect(ev[1].parent_id).toBe(ev[0].trace_id);
  });

  it('incomingTrace: verified header, else sampling every N-th with the first key', () => {
    const config = resolveConfig({ hmacKeys: ['first', 'second'], sampling: '1/3' }, {});
    configure({ driver, hmacKeys: ['first', 'second'], sampling: '1/3' });
    const results = Array.from({ length: 6 }, () => incomingTrace({}, config));
    expect(results.map((r) => r !== undefined)).toEqual([false, false, true, false, false, true]);
    expect(results[2]).toEqual({ hmacKey: 'first' });
  });
});
