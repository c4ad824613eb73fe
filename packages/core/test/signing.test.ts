import * as crypto from 'node:crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Wrap timingSafeEqual in a spy (calling the real one) to prove the compare goes through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const timingSafeEqual = vi.fn(actual.timingSafeEqual);
  return { ...actual, default: { ...actual, timingSafeEqual }, timingSafeEqual };
});

import { parseHmacKeys, signedPack, signedUnpack } from '../src/signing';
import {
  adversarialCases,
  b64u,
  expectedFromFixture,
  FIXTURE_BASE,
  FIXTURE_KEY,
  FIXTURE_PARENT,
  grayCases,
  hmacHex,
  loadFixtures,
  VALID_HMAC,
  VALID_INFO,
} from './signing-cases';

const fixtures = loadFixtures();
const tse = vi.mocked(crypto.timingSafeEqual);

describe('signedPack: byte-identical to Python signed_pack (fixtures header_vectors)', () => {
  it('has header vectors to check', () => {
    expect(fixtures.header_vectors.length).toBeGreaterThanOrEqual(4);
  });

  it.each(fixtures.header_vectors.map((v) => [`${v.hmac_key} / ${v.base_id}`, v] as const))('%s', (_name, v) => {
    const packed = signedPack({ base_id: v.base_id, parent_id: v.parent_id_given ?? v.base_id }, v.hmac_key);
    expect(packed.info).toBe(v['X-Trace-Info']);
    expect(packed.hmac).toBe(v['X-Trace-HMAC']);
    expect(Buffer.from(packed.info, 'base64').toString('utf8')).toBe(v.json);
  });

  it('keeps the "=" padding and the URL-safe alphabet', () => {
    for (let i = 0; i < 200; i++) {
      const { info, hmac } = signedPack({ base_id: randomUUID(), parent_id: randomUUID() }, 'k');
      expect(info).toHaveLength(140); // 104 JSON bytes -> 35 quads, the last one padded
      expect(info.endsWith('=') && !info.endsWith('==')).toBe(true);
      expect(info).toMatch(/^[A-Za-z0-9_-]+=$/);
      expect(hmac).toMatch(/^[0-9a-f]{40}$/);
    }
    const odd = signedPack({ base_id: 'not-a-uuid', parent_id: 'x?y>z' }, 'k');
    expect(odd.info).toContain('_');
  });

  it('serialises like json.dumps (ensure_ascii, escapes) and signs the base64 text', () => {
    const { info, hmac } = signedPack({ base_id: 'é"\\\n☃😀', parent_id: '\u007f' }, 'another-key-é');
    expect(Buffer.from(info, 'base64').toString('latin1')).toBe(
      '{"base_id": "\\u00e9\\"\\\\\\n\\u2603\\ud83d\\ude00", "parent_id": "\\u007f"}',
    );
    expect(hmac).toBe(crypto.createHmac('sha1', Buffer.from('another-key-é', 'utf8')).update(info).digest('hex'));
  });

  it('refuses an empty key or one that is not UTF-8 encodable', () => {
    expect(() => signedPack({ base_id: 'a', parent_id: 'a' }, '')).toThrow(TypeError);
    expect(() => signedPack({ base_id: 'a', parent_id: 'a' }, 'k\ud800')).toThrow(TypeError);
  });

  it('round-trips through signedUnpack', () => {
    for (const key of ['SECRET_KEY', 'another-key-é', 'k', '☃ key with spaces']) {
      const base = randomUUID();
      const parent = randomUUID();
      const { info, hmac } = signedPack({ base_id: base, parent_id: parent }, key);
      expect(signedUnpack(info, hmac, ['other', key])).toEqual({ base_id: base, parent_id: parent, hmac_key: key });
    }
  });
});

describe('signedUnpack: verdicts and results of Python 3.4.3 (fixtures unpack_cases)', () => {
  it('has unpack cases to check', () => {
    expect(fixtures.unpack_cases.length).toBeGreaterThanOrEqual(17);
  });

  it.each(fixtures.unpack_cases.map((c) => [c.case, c] as const))('%s', (_name, c) => {
    const got = signedUnpack(c['X-Trace-Info'], c['X-Trace-HMAC'], c.server_keys);
    expect(got !== null).toBe(c.middleware_accepts);
    expect(got).toEqual(expectedFromFixture(c));
  });
});

describe('signedUnpack: generated adversarial cases (expectations checked against Python in the interop test)', () => {
  it.each([...adversarialCases(), ...grayCases()].map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = signedUnpack(c.info, c.hmac, c.keys);
    expect(got !== null).toBe(c.accept);
    if (got !== null && c.expect) expect(got).toMatchObject(c.expect);
    if (got !== null) {
      expect(typeof got.base_id).toBe('string');
      expect(typeof got.parent_id).toBe('string');
      expect(got.parent_id === '').toBe(got.base_id === '' && got.parent_id === got.base_id);
    }
  });
});

describe('signedUnpack: limits and robustness', () => {
  const K = FIXTURE_KEY;

  it('rejects info longer than 8 KiB even when correctly signed (Python has no limit)', () => {
    const mk = (n: number) => b64u(`{"base_id": "${'b'.repeat(n)}"}`);
    const under = mk(6000);
    const over = mk(6200);
    expect(under.length).toBeLessThanOrEqual(8192);
    expect(over.length).toBeGreaterThan(8192);
    expect(signedUnpack(under, hmacHex(under, K), [K])?.base_id).toBe('b'.repeat(6000));
    expect(signedUnpack(over, hmacHex(over, K), [K])).toBeNull();
    // Exactly at the limit is still fine (extra '=' after the padding are ignored by Python).
    const at = under + '='.repeat(8192 - under.length);
    expect(signedUnpack(at, hmacHex(at, K), [K])).not.toBeNull();
    const atPlus = at + '=';
    expect(signedUnpack(atPlus, hmacHex(atPlus, K), [K])).toBeNull();
  });

  it('rejects an hmac header longer than 8 KiB, even if it is only whitespace around a valid one', () => {
    expect(signedUnpack(VALID_INFO, ' '.repeat(100) + VALID_HMAC, [K])).not.toBeNull();
    expect(signedUnpack(VALID_INFO, ' '.repeat(8152) + VALID_HMAC, [K])).not.toBeNull();
    expect(signedUnpack(VALID_INFO, ' '.repeat(8153) + VALID_HMAC, [K])).toBeNull();
  });

  it('never throws on garbage', () => {
    const samples: unknown[] = [
      undefined,
      null,
      0,
      1,
      NaN,
      true,
      {},
      [],
      ['a'],
      Symbol('s'),
      () => 'x',
      Buffer.from('abc'),
      new Uint8Array(3),
      { toString: () => { throw new Error('boom'); } },
      Object.create(null),
      'x'.repeat(100_000),
      VALID_INFO,
      VALID_HMAC,
      '\ud800',
    ];
    const keySamples: unknown[] = [
      undefined,
      null,
      'SECRET_KEY',
      [],
      [K],
      [1, null, {}, K],
      [Symbol('k')],
      new Proxy([K], { get: () => { throw new Error('trap'); } }),
      { length: 1, 0: K },
    ];
    for (const info of samples)
      for (const hmac of samples)
        for (const keys of keySamples)
          expect(() => signedUnpack(info as string, hmac as string, keys as string[])).not.toThrow();

    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(Math.random() * 300);
      const bytes = randomBytes(len);
      const infos = [bytes.toString('latin1'), bytes.toString('utf8'), bytes.toString('base64'), b64u(bytes)];
      const s = String.fromCharCode(...Array.from({ length: len >> 1 }, () => Math.floor(Math.random() * 0x10000)));
      infos.push(s);
      for (const info of infos) {
        // Correctly signed garbage exercises the decoder and the JSON parser, too.
        expect(() => signedUnpack(info, hmacHex(info, K), [K])).not.toThrow();
        expect(() => signedUnpack(info, info.slice(0, 40), [K, 'x'])).not.toThrow();
      }
    }
    // Garbage that is valid base64 of garbage JSON-ish text.
    const alphabet = '{}[]":,0123456789.eE+-ntrufalsNIy \\u';
    for (let i = 0; i < 3000; i++) {
      let text = '{"base_id": ';
      const n = Math.floor(Math.random() * 40);
      for (let j = 0; j < n; j++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
      const info = b64u(text);
      let got: unknown;
      expect(() => (got = signedUnpack(info, hmacHex(info, K), [K]))).not.toThrow();
      if (got !== null) expect(typeof (got as { base_id: unknown }).base_id).toBe('string');
    }
  });

  it('tries the keys in order and reports the one that matched', () => {
    const got = signedUnpack(VALID_INFO, VALID_HMAC, ['a', 'b', K, 'c']);
    expect(got).toEqual({ base_id: FIXTURE_BASE, parent_id: FIXTURE_PARENT, hmac_key: K });
    expect(signedUnpack(VALID_INFO, VALID_HMAC, ['a', 'b'])).toBeNull();
  });
});

describe('signedUnpack: the pad-based HMAC equals crypto.createHmac', () => {
  // Keys shorter than, exactly, and longer than SHA-1's 64-byte block (hashed first), and
  // multi-byte UTF-8; infos up to the 8 KiB limit, with non-ASCII and lone surrogates.
  const keys = ['k', 'bench-key', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'ключ-🔑'.repeat(20)];
  const infos = ['', 'eyJiYXNlX2lkIjogIjEifQ==', 'é'.repeat(100), 'a\ud800b', '€'.repeat(8192), 'q'.repeat(8192)];
  it('accepts exactly the HMACs createHmac computes, for every key and info', () => {
    for (const key of keys) {
      for (const info of infos) {
        const good = crypto.createHmac('sha1', Buffer.from(key, 'utf8')).update(info, 'utf8').digest('hex');
        // The infos are not valid trace info: a match returns null after decoding, a
        // mismatch returns null before; the spy tells them apart by what was compared.
        const spy = vi.mocked(crypto.timingSafeEqual);
        spy.mockClear();
        signedUnpack(info, good, [key]);
        expect(spy).toHaveBeenCalledTimes(1);
        expect(spy.mock.results[0].value).toBe(true);
        spy.mockClear();
        signedUnpack(info, good.replace(/^./, (c) => (c === '0' ? '1' : '0')), [key]);
        expect(spy.mock.results[0].value).toBe(false);
      }
    }
  });
  it('accepts exactly the HMACs createHmac computes for every info length to 600 bytes (each SHA-1 padding boundary), ASCII and multi-byte', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    for (const key of ['k', 'y'.repeat(64), 'z'.repeat(65)]) {
      for (let n = 0; n <= 600; n++) {
        // ASCII, and with a 2-byte and a 3-byte character (UTF-8 longer than the text).
        for (const info of [b64u(randomBytes(n)).slice(0, n), n < 3 ? 'é'.repeat(n) : 'é€' + 'a'.repeat(n - 3)]) {
          const good = crypto.createHmac('sha1', Buffer.from(key, 'utf8')).update(info, 'utf8').digest('hex');
          spy.mockClear();
          signedUnpack(info, good, [key]);
          signedUnpack(info, good.slice(0, 39) + (good[39] === '0' ? '1' : '0'), [key]);
          expect(spy.mock.results.map((r) => r.value), `key ${key.length}, info ${JSON.stringify(info)}`).toEqual([true, false]);
        }
      }
    }
  });

  it('verifies real headers signed with each key, alternating keys (no state kept between calls)', () => {
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        const id = randomUUID();
        const { info, hmac } = signedPack({ base_id: id, parent_id: id }, key);
        expect(signedUnpack(info, hmac, ['other', key])).toEqual({ base_id: id, parent_id: id, hmac_key: key });
      }
    }
  });
});

describe('signedUnpack: constant-time comparison', () => {
  // Braces matter: a hook that returns a function (mockClear returns the mock) gets called as a teardown.
  beforeEach(() => {
    tse.mockClear();
  });
  afterEach(() => {
    tse.mockClear();
  });

  it('compares with crypto.timingSafeEqual on the 20 bytes of the digest and of the given hex, once per key tried', () => {
    expect(signedUnpack(VALID_INFO, VALID_HMAC, ['k1', 'k2', FIXTURE_KEY])).not.toBeNull();
    expect(tse).toHaveBeenCalledTimes(3);
    for (const [a, b] of tse.mock.calls) {
      expect(Buffer.isBuffer(a) && Buffer.isBuffer(b)).toBe(true);
      expect((a as Buffer).length).toBe(20);
      expect((b as Buffer).length).toBe(20);
    }
    expect((tse.mock.calls[2][1] as Buffer).toString('hex')).toBe(VALID_HMAC);
    expect(tse.mock.results.map((r) => r.value)).toEqual([false, false, true]);
  });

  it('a wrong hmac of the right length is still compared in constant time against every key', () => {
    const wrong = 'f'.repeat(40);
    expect(signedUnpack(VALID_INFO, wrong, ['a', 'b'])).toBeNull();
    expect(tse).toHaveBeenCalledTimes(2);
    // Not hex at all (or upper case): still compared against every key, then refused.
    tse.mockClear();
    expect(signedUnpack(VALID_INFO, 'z'.repeat(40), ['a', FIXTURE_KEY])).toBeNull();
    expect(signedUnpack(VALID_INFO, VALID_HMAC.toUpperCase(), ['a', FIXTURE_KEY])).toBeNull();
    expect(tse).toHaveBeenCalledTimes(4);
  });

  it('an hmac of another length is no match, without calling timingSafeEqual (which would throw)', () => {
    expect(signedUnpack(VALID_INFO, VALID_HMAC + 'ab', [FIXTURE_KEY])).toBeNull();
    expect(signedUnpack(VALID_INFO, VALID_HMAC.slice(1), [FIXTURE_KEY])).toBeNull();
    expect(tse).not.toHaveBeenCalled();
  });

  it('after a match, an undecodable info returns null without trying the other keys', () => {
    const info = b64u('not json');
    expect(signedUnpack(info, hmacHex(info, FIXTURE_KEY), [FIXTURE_KEY, FIXTURE_KEY, FIXTURE_KEY])).toBeNull();
    expect(tse).toHaveBeenCalledTimes(1);
  });
});

describe('signedUnpack: the HMAC text and the reused buffers (hmac.ts, decodeCanonical)', () => {
  const K = FIXTURE_KEY;
  const signed = (base: string, parent: string, key = K) => signedPack({ base_id: base, parent_id: parent }, key);

  it('refuses an HMAC whose bytes match but whose text differs (upper case, a non-ASCII character read by its low byte)', () => {
    expect(signedUnpack(VALID_INFO, VALID_HMAC, [K])).not.toBeNull();
    expect(/[a-f]/.test(VALID_HMAC)).toBe(true);
    // Python's compare_digest compares the texts: its hexdigest is lowercase.
    expect(signedUnpack(VALID_INFO, VALID_HMAC.toUpperCase(), [K])).toBeNull();
    const i = VALID_HMAC.search(/[a-f]/);
    const mixed = VALID_HMAC.slice(0, i) + VALID_HMAC[i].toUpperCase() + VALID_HMAC.slice(i + 1);
    expect(signedUnpack(VALID_INFO, mixed, [K])).toBeNull();
    // U+0161 and U+0061 ('a') share their low byte; Node's hex and latin1 writers read it.
    const aliased = VALID_HMAC.replace(/[0-9a-f]/, (c) => String.fromCharCode(0x100 | c.charCodeAt(0)));
    expect(Buffer.from(aliased, 'latin1').toString('latin1')).toBe(VALID_HMAC);
    expect(signedUnpack(VALID_INFO, aliased, [K])).toBeNull();
    expect(signedUnpack(VALID_INFO, VALID_HMAC.slice(0, 39) + 'g', [K])).toBeNull();
  });

  it('wrong HMACs, several keys: each key in turn, then none, in any order of calls', () => {
    const keys = ['k1', 'k2', 'k3'];
    for (let round = 0; round < 4; round++) {
      for (const [j, key] of keys.entries()) {
        const id = randomUUID();
        const { info, hmac } = signed(id, id, key);
        const order = [...keys.slice(j + 1), ...keys.slice(0, j + 1)];
        expect(signedUnpack(info, hmac, order)).toEqual({ base_id: id, parent_id: id, hmac_key: key });
        expect(signedUnpack(info, hmac, keys.filter((k) => k !== key))).toBeNull();
        const wrong = (hmac[5] === '0' ? hmac.slice(0, 5) + '1' : hmac.slice(0, 5) + '0') + hmac.slice(6);
        expect(signedUnpack(info, wrong, keys)).toBeNull();
      }
    }
  });

  it('decodes each info on its own: a shorter one after a longer one reads none of its bytes', () => {
    const long = signed('b'.repeat(300), 'p'.repeat(300));
    expect(signedUnpack(long.info, long.hmac, [K])).toEqual({ base_id: 'b'.repeat(300), parent_id: 'p'.repeat(300), hmac_key: K });
    // The first bytes of the same JSON text, cut before its end, signed: not JSON, so untraced.
    const text = `{"base_id": "${'b'.repeat(300)}", "parent_id": "${'p'.repeat(300)}"}`;
    for (const cut of [text.length - 1, text.length - 2, 200, 13]) {
      const info = b64u(text.slice(0, cut));
      expect(signedUnpack(info, hmacHex(info, K), [K])).toBeNull();
    }
    const short = signed('s', '');
    expect(signedUnpack(short.info, short.hmac, [K])).toEqual({ base_id: 's', parent_id: 's', hmac_key: K });
  });

  it('bad base64 and bad JSON, correctly signed, are served untraced', () => {
    const id = randomUUID();
    const good = signed(id, id).info;
    const bad = [
      good.slice(0, 10) + '!' + good.slice(11), // a character outside the alphabet: skipped, padding then wrong
      good.slice(0, -1), // missing padding
      good.replace(/=+$/, '') + 'A', // a dangling character
      b64u(`{"base_id": "${id}", "parent_id": "${id}"`), // unterminated object
      b64u(`{"base_id": "${id}", "parent_id": "${id}", }`), // trailing comma
      b64u(`{"base_id": "${id}", "parent_id": "${id}"}x`), // text after the object
      b64u(`{"base_id": "${id}", "other": "x"}`), // an unknown key
      b64u(`{"parent_id": "${id}"}`), // no base_id
      b64u('["a"]'),
    ];
    for (const info of bad) expect(signedUnpack(info, hmacHex(info, K), [K])).toBeNull();
  });
});

describe('parseHmacKeys: osprofiler._utils.split', () => {
  it.each([
    ['SECRET_KEY', ['SECRET_KEY']],
    ['a,b', ['a', 'b']],
    [' a , b ,, c ,', ['a', 'b', 'c']],
    ['', []],
    [' , ,', []],
    ['another-key-é, k', ['another-key-é', 'k']],
    ['\x1ca\x85,\xa0b\u3000', ['a', 'b']], // Python's str.strip whitespace
    ['\ufeffa', ['\ufeffa']], // ...which does not include the BOM (String#trim would strip it)
    ['a b', ['a b']],
  ] as const)('%j', (input, want) => {
    expect(parseHmacKeys(input)).toEqual(want);
  });

  it('strips and filters arrays without splitting their items', () => {
    expect(parseHmacKeys([' a ', '', 'b,c', '  '])).toEqual(['a', 'b,c']);
    expect(parseHmacKeys(['a', 1, null] as unknown as string[])).toEqual(['a']);
  });

  it('is exported from the package index', async () => {
    // Imported here so that a broken module elsewhere in the index fails only this test.
    const index = await import('../src/index.js');
    expect(index.parseHmacKeys).toBe(parseHmacKeys);
    expect(index.signedPack).toBe(signedPack);
    expect(index.signedUnpack).toBe(signedUnpack);
  });
});

describe('signedUnpack fast path for the canonical header (native decoders)', () => {
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const hmacOf = (info: string, key: string): string => crypto.createHmac('sha1', key).update(info, 'utf8').digest('hex');

  it('gives exactly what the general decoder gives, for canonical and near-canonical encodings of the same data', () => {
    const ids = [randomUUID(), 'a', 'x y', "it's", '~!@#$%^&*()[]{}<>?/|', '', '"q"', 'back\\slash', 'é', 'tab\t', '0'];
    let checked = 0;
    for (const base of ids) {
      for (const parent of ids) {
        const { info } = signedPack({ base_id: base, parent_id: parent }, 'k');
        const expected = signedUnpack(info, hmacOf(info, 'k'), ['k']);
        // The same bytes encoded so that only the general path decides them: standard
        // alphabet, whitespace inside (Python's decoder skips it), padding then junk.
        const variants = [info.replaceAll('-', '+').replaceAll('_', '/'), info.slice(0, 4) + '\n' + info.slice(4), info + '\n'];
        // Leftover bits set in the last character before the padding: the same bytes to Python.
        const last = info.search(/=+$/) - 1;
        if (last >= 0) variants.push(info.slice(0, last) + B64URL[B64URL.indexOf(info[last]) + 1] + info.slice(last + 1));
        for (const v of variants) expect(signedUnpack(v, hmacOf(v, 'k'), ['k'])).toEqual(expected);
        if (base === '') expect(expected?.base_id).toBe('');
        else expect(expected).toEqual({ base_id: base, parent_id: parent === '' ? base : parent, hmac_key: 'k' });
        checked++;
      }
    }
    expect(checked).toBe(ids.length * ids.length);
  });

  it('checks the JSON byte by byte as the general path decides it: every byte replaced, removed or doubled, at every position', () => {
    // Short ids, and ids of 9 and 36 bytes (read four bytes at a time, then byte by byte).
    const originals = ['{"base_id": "ab-1", "parent_id": "c d"}', `{"base_id": "~!x y#$%^", "parent_id": "${randomUUID()}"}`];
    // Bytes around each class edge of a plain id, the JSON's own, and a UTF-8 lead byte.
    const others = [0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x2c, 0x3a, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7e, 0x7f, 0x80, 0xc3, 0xff];
    const texts: Buffer[] = [];
    for (const original of originals) {
      const text = Buffer.from(original, 'latin1');
      texts.push(text);
      for (let i = 0; i < text.length; i++) {
        for (const b of others) texts.push(Buffer.concat([text.subarray(0, i), Buffer.of(b), text.subarray(i + 1)]));
        texts.push(Buffer.concat([text.subarray(0, i), text.subarray(i + 1)]));
        texts.push(Buffer.concat([text.subarray(0, i + 1), text.subarray(i)]));
      }
    }
    let traced = 0;
    for (const t of texts) {
      const info = b64u(t);
      // A line break inside: the same bytes to Python, decided by the general path only.
      const general = info.slice(0, 4) + '\n' + info.slice(4);
      const expected = signedUnpack(general, hmacOf(general, 'k'), ['k']);
      expect(signedUnpack(info, hmacOf(info, 'k'), ['k']), t.toString('latin1')).toEqual(expected);
      if (expected !== null) traced++;
    }
    // Some mutations still trace (an id's byte changed), most do not.
    expect(traced).toBeGreaterThan(200);
    expect(traced).toBeLessThan(texts.length / 2);
  });

  it('reads the base64 natively only when every character before the padding is in the alphabets (decoded byte count)', () => {
    const id = randomUUID();
    const { info } = signedPack({ base_id: id, parent_id: id }, 'k');
    const ok = { base_id: id, parent_id: id, hmac_key: 'k' };
    const verdict = (v: string) => signedUnpack(v, hmacOf(v, 'k'), ['k']);
    expect(verdict(info)).toEqual(ok);
    // Both alphabets mixed are accepted (Python maps '-_' to '+/').
    const std = info.replaceAll('-', '+').replaceAll('_', '/');
    expect(verdict(std.slice(0, 8) + info.slice(8))).toEqual(verdict(std));
    // Characters Buffer's decoder would read as 'A' by their low byte (U+0141, U+0100) or
    // skip ('.', '*', '\u00ff'), in place of one character or added, length kept a multiple of 4:
    // Python refuses them or skips them; the general path decides, as before.
    for (const ch of ['\u0141', '\u0100', '.', '*', '\u00ff', '=']) {
      for (const at of [0, 5, info.length - 4]) {
        const replaced = info.slice(0, at) + ch + info.slice(at + 1);
        const added = info.slice(0, at) + ch + ch + ch + ch + info.slice(at);
        for (const v of [replaced, added]) {
          const r = verdict(v);
          // Python refuses any non-ASCII text; skipped ASCII junk gives the same data or nothing.
          if (ch.charCodeAt(0) > 0x7f) expect(r).toBeNull();
          else if (r !== null) expect(r).toEqual(ok);
        }
      }
    }
    // Padding missing or in the middle: refused; one '=' too many: Python ignores it (general path).
    const body = info.replace(/=+$/, '');
    for (const v of [body, body.slice(0, 8) + '==' + body.slice(10) + info.slice(body.length)]) expect(verdict(v)).toBeNull();
    if (body !== info) expect(verdict(info + '=')).toEqual(ok);
  });
});
