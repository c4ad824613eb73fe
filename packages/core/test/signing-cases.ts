/**
 * Shared test data for signing.test.ts and signing.python-interop.test.ts: the fixtures
 * captured from Python OSProfiler 3.4.3, and generated adversarial cases whose expected
 * verdicts the interop test checks against the live Python library.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FIXTURES_PATH = path.resolve(__dirname, '../../../../shared/interop/osprofiler-fixtures.json');

export interface HeaderVector {
  hmac_key: string;
  base_id: string;
  parent_id_given: string | null;
  json: string;
  'X-Trace-Info': string;
  'X-Trace-HMAC': string;
}

export interface UnpackCase {
  case: string;
  'X-Trace-Info': string;
  'X-Trace-HMAC': string;
  server_keys: string[];
  /** Python's raw signed_unpack result (before the middleware's validity check). */
  signed_unpack: Record<string, unknown> | null;
  middleware_accepts: boolean;
}

export interface Fixtures {
  header_vectors: HeaderVector[];
  unpack_cases: UnpackCase[];
}

export function loadFixtures(): Fixtures {
  return JSON.parse(fs.readFileSync(FIXTURES_PATH, 'utf8')) as Fixtures;
}

/** What our signedUnpack returns for an accepted fixture: parent_id defaulted like Python's init. */
export function expectedFromFixture(c: UnpackCase): { base_id: string; parent_id: string; hmac_key: string } | null {
  if (!c.middleware_accepts || c.signed_unpack === null) return null;
  const d = c.signed_unpack as { base_id: string; parent_id?: string | null; hmac_key: string };
  return { base_id: d.base_id, parent_id: d.parent_id || d.base_id, hmac_key: d.hmac_key };
}

export function hmacHex(info: string, key: string): string {
  return createHmac('sha1', Buffer.from(key, 'utf8')).update(info, 'utf8').digest('hex');
}

/** URL-safe base64 WITH padding, like Python's urlsafe_b64encode. */
export function b64u(data: string | Buffer): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return buf.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

export interface AdversarialCase {
  name: string;
  info: string | null;
  hmac: string | null;
  keys: string[];
  /** Expected verdict; 'gray' = documented divergence zone, not compared with Python. */
  accept: boolean;
  /** Expected result fields (when accepted). */
  expect?: { base_id?: string; parent_id?: string; hmac_key?: string };
  /** Compare the unpacked dict with Python's (false when Python's value has no JSON twin). */
  compareDict?: boolean;
}

const K = 'SECRET_KEY';
const B = '11111111-2222-4333-8444-555555555555';
const P = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const VALID_JSON = `{"base_id": "${B}", "parent_id": "${P}"}`;
const VALID_INFO = b64u(VALID_JSON);
const VALID_HMAC = hmacHex(VALID_INFO, K);

/** A case signed correctly with `key` over exactly `info`. */
function signed(
  name: string,
  info: string,
  accept: boolean,
  expect?: AdversarialCase['expect'],
  opts: { keys?: string[]; key?: string; compareDict?: boolean } = {},
): AdversarialCase {
  const key = opts.key ?? K;
  return { name, info, hmac: hmacHex(info, key), keys: opts.keys ?? [key], accept, expect, compareDict: opts.compareDict };
}

function json(name: string, text: string, accept: boolean, expect?: AdversarialCase['expect'], compareDict?: boolean) {
  return signed(name, b64u(text), accept, expect, { compareDict });
}

export function adversarialCases(): AdversarialCase[] {
  const cases: AdversarialCase[] = [];
  const push = (...c: AdversarialCase[]) => cases.push(...c);
  const ok = { base_id: B, parent_id: P, hmac_key: K };

  // --- the HMAC header
  push({ name: 'valid', info: VALID_INFO, hmac: VALID_HMAC, keys: [K], accept: true, expect: ok });
  push({ name: 'uppercase hmac', info: VALID_INFO, hmac: VALID_HMAC.toUpperCase(), keys: [K], accept: false });
  push({ name: 'hmac one char uppercase', info: VALID_INFO, hmac: VALID_HMAC.replace(/[a-f]/, (c) => c.toUpperCase()), keys: [K], accept: false });
  push({ name: 'whitespace around hmac', info: VALID_INFO, hmac: ` \t${VALID_HMAC}\r\n `, keys: [K], accept: true, expect: ok });
  push({ name: 'python-only whitespace \\x1c..\\x1f \\x85 \\xa0 around hmac', info: VALID_INFO, hmac: `\x1c\x1d${VALID_HMAC}\x85\xa0\x1f`, keys: [K], accept: true, expect: ok });
  push({ name: 'BOM before hmac (not whitespace for Python)', info: VALID_INFO, hmac: `\ufeff${VALID_HMAC}`, keys: [K], accept: false });
  push({ name: 'whitespace inside hmac', info: VALID_INFO, hmac: VALID_HMAC.slice(0, 20) + ' ' + VALID_HMAC.slice(20), keys: [K], accept: false });
  push({ name: 'hmac truncated to 39', info: VALID_INFO, hmac: VALID_HMAC.slice(0, 39), keys: [K], accept: false });
  push({ name: 'hmac with one extra char', info: VALID_INFO, hmac: VALID_HMAC + '0', keys: [K], accept: false });
  push({ name: 'empty hmac', info: VALID_INFO, hmac: '', keys: [K], accept: false });
  push({ name: 'whitespace-only hmac', info: VALID_INFO, hmac: '  \t ', keys: [K], accept: false });
  push({ name: 'missing hmac', info: VALID_INFO, hmac: null, keys: [K], accept: false });
  push({ name: 'missing info', info: null, hmac: VALID_HMAC, keys: [K], accept: false });
  push({ name: 'non-ASCII hmac (Python raises TypeError)', info: VALID_INFO, hmac: 'é'.repeat(40), keys: [K], accept: false });
  push({ name: 'latin-1 char that aliases a hex digit in one byte', info: VALID_INFO, hmac: VALID_HMAC.slice(0, 39) + String.fromCharCode(0x100 + VALID_HMAC.charCodeAt(39)), keys: [K], accept: false });
  push({ name: 'hmac of the JSON instead of the base64', info: VALID_INFO, hmac: hmacHex(VALID_JSON, K), keys: [K], accept: false });
  push({ name: 'wrong key', info: VALID_INFO, hmac: VALID_HMAC, keys: ['nope'], accept: false });
  push({ name: 'no server keys', info: VALID_INFO, hmac: VALID_HMAC, keys: [], accept: false });

  // --- keys
  push(signed('rotation: 2nd of 3 server keys', VALID_INFO, true, { ...ok, hmac_key: 'new' }, { key: 'new', keys: ['old', 'new', 'older'] }));
  push(signed('non-ASCII key', VALID_INFO, true, { ...ok, hmac_key: 'another-key-é' }, { key: 'another-key-é' }));
  push(signed('key with a lone surrogate is skipped', VALID_INFO, true, ok, { keys: ['\ud800', K] }));
  push(signed('empty key in an explicit key list', VALID_INFO, true, { ...ok, hmac_key: '' }, { key: '' }));
  push(signed('key with spaces is used verbatim', VALID_INFO, true, { ...ok, hmac_key: ' k ' }, { key: ' k ' }));

  // --- base64
  push(signed('padding stripped', VALID_INFO.replace(/=+$/, ''), false));
  push(signed('one "=" too many', VALID_INFO + '=', true, ok));
  push(signed('junk after the padding is ignored', VALID_INFO + 'AAAA!!', true, ok));
  push(signed('std alphabet +/', b64u('{"base_id": "??>>~~"}').replaceAll('-', '+').replaceAll('_', '/'), true, { base_id: '??>>~~', parent_id: '??>>~~' }));
  push(signed('mixed alphabets', b64u('{"base_id": "??>>~~??>>~~"}').replace('_', '/'), true, { base_id: '??>>~~??>>~~' }));
  push(signed('newlines and junk inside base64 are skipped', VALID_INFO.replace(/(.{10})/g, '$1\n*'), true, ok));
  push(signed('"=" after 1 char of a quad is skipped', VALID_INFO.slice(0, 5) + '=' + VALID_INFO.slice(5), true, ok));
  push(signed('"=" after 2 chars of a quad is skipped', VALID_INFO.slice(0, 6) + '=' + VALID_INFO.slice(6), true, ok));
  push(signed('"=" at a quad start is skipped', VALID_INFO.slice(0, 8) + '==' + VALID_INFO.slice(8), true, ok));
  push(signed('"=" after 3 chars of a quad ends the data', VALID_INFO.slice(0, 7) + '=' + VALID_INFO.slice(7), false));
  push(signed('unpadded but needs none (51 bytes)', b64u(`{"base_id": "${B}"}`), true, { base_id: B, parent_id: B }));
  push(signed('one dangling base64 char', b64u(`{"base_id": "${B}"}`) + 'A', false));
  push(signed('non-ASCII inside info', VALID_INFO.slice(0, 8) + 'é' + VALID_INFO.slice(8), false));
  push(signed('non-ASCII after the padding', VALID_INFO + 'é', false));
  push(signed('empty info', '', false));
  push(signed('only padding', '====', false));

  // --- bytes and text
  push(signed('invalid UTF-8', b64u(Buffer.concat([Buffer.from('{"base_id": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), false));
  push(signed('overlong UTF-8', b64u(Buffer.concat([Buffer.from('{"base_id": "'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])), false));
  push(signed('UTF-8 encoded surrogate', b64u(Buffer.concat([Buffer.from('{"base_id": "'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), false));
  push(json('UTF-8 BOM before the JSON', '\ufeff' + VALID_JSON, false));
  push(json('raw non-ASCII in base_id', '{"base_id": "é☃😀"}', true, { base_id: 'é☃😀' }));
  push(json('escaped lone surrogate in base_id', '{"base_id": "\\ud800x"}', true, { base_id: '\ud800x' }));
  push(json('escaped surrogate pair', '{"base_id": "\\ud83d\\ude00"}', true, { base_id: '😀' }));
  push(json('escaped NUL', '{"base_id": "a\\u0000b"}', true, { base_id: 'a\u0000b' }));
  push(json('raw control char in a string', '{"base_id": "a\u0001b"}', false));
  push(json('invalid escape', '{"base_id": "a\\xb"}', false));

  // --- JSON shape
  push(json('compact JSON', `{"base_id":"${B}","parent_id":"${P}"}`, true, ok));
  push(json('lots of JSON whitespace', ` \r\n\t{ "base_id" :\t"${B}" ,\n"parent_id" : "${P}" }\n `, true, ok));
  push(json('trailing garbage', VALID_JSON + 'x', false));
  push(json('trailing comma', `{"base_id": "${B}",}`, false));
  push(json('single quotes', `{'base_id': '${B}'}`, false));
  push(json('extra key', `{"base_id": "${B}", "extra": 1}`, false));
  push(json('__proto__ key', `{"base_id": "${B}", "__proto__": {"x": 1}}`, false));
  push(json('client hmac_key is overwritten', `{"base_id": "${B}", "hmac_key": "evil"}`, true, { base_id: B, parent_id: B, hmac_key: K }));
  push(json('duplicate base_id: last wins', `{"base_id": "first", "base_id": "second"}`, true, { base_id: 'second' }));
  push(json('missing base_id', `{"parent_id": "${P}"}`, false));
  push(json('empty object', '{}', false));
  push(json('JSON array', `["${B}"]`, false));
  push(json('JSON string', `"${B}"`, false));
  push(json('JSON number', '123', false));
  push(json('JSON null', 'null', false));
  push(json('NaN at top level', 'NaN', false));
  push(json('not JSON', 'hello', false));
  push(json('empty text', '', false));

  // --- id values (Python accepts anything; falsy base_id => a fresh one is generated)
  push(json('base_id not a uuid', '{"base_id": "not-a-uuid"}', true, { base_id: 'not-a-uuid', parent_id: 'not-a-uuid' }));
  push(json('base_id 123', '{"base_id": 123}', true, { base_id: '123', parent_id: '123' }));
  push(json('base_id 1.5', '{"base_id": 1.5}', true, { base_id: '1.5' }));
  push(json('base_id true', '{"base_id": true}', true, { base_id: 'true' }));
  push(json('base_id [1, 2]', '{"base_id": [1,2]}', true, { base_id: '[1, 2]' }));
  push(json('base_id {"a": 1}', '{"base_id": {"a":1}}', true, { base_id: '{"a": 1}' }));
  push(json('base_id ""', '{"base_id": ""}', true, { base_id: '', parent_id: '' }));
  push(json('base_id "" with a parent', `{"base_id": "", "parent_id": "${P}"}`, true, { base_id: '', parent_id: P }));
  push(json('base_id null', '{"base_id": null}', true, { base_id: '', parent_id: '' }));
  push(json('base_id 0', '{"base_id": 0}', true, { base_id: '' }));
  push(json('base_id -0.0', '{"base_id": -0.0}', true, { base_id: '' }));
  push(json('base_id 1e-400 (underflows to 0.0)', '{"base_id": 1e-400}', true, { base_id: '' }));
  push(json('base_id false', '{"base_id": false}', true, { base_id: '' }));
  push(json('base_id []', '{"base_id": []}', true, { base_id: '' }));
  push(json('base_id {}', '{"base_id": {}}', true, { base_id: '' }));
  push(json('base_id NaN (Python-only literal)', '{"base_id": NaN}', true, { base_id: 'NaN' }, false));
  push(json('base_id Infinity', '{"base_id": Infinity}', true, { base_id: 'Infinity' }, false));
  push(json('parent_id -Infinity', `{"base_id": "${B}", "parent_id": -Infinity}`, true, { base_id: B, parent_id: '-Infinity' }, false));
  push(json('NaN nested in an array', '{"base_id": [NaN, 1]}', true, { base_id: '[NaN, 1]' }, false));
  push(json('base_id 1e400 (float inf)', '{"base_id": 1e400}', true, { base_id: 'Infinity' }, false));
  push(json('-NaN is not a literal', '{"base_id": -NaN}', false));
  push(json('nan lowercase is not a literal', '{"base_id": nan}', false));
  push(json('parent_id null', `{"base_id": "${B}", "parent_id": null}`, true, { base_id: B, parent_id: B }));
  push(json('parent_id ""', `{"base_id": "${B}", "parent_id": ""}`, true, { base_id: B, parent_id: B }));
  push(json('parent_id 0', `{"base_id": "${B}", "parent_id": 0}`, true, { base_id: B, parent_id: B }));
  push(json('parent_id 7', `{"base_id": "${B}", "parent_id": 7}`, true, { base_id: B, parent_id: '7' }));
  push(json('leading zero number', '{"base_id": 01}', false));
  push(json('number "1."', '{"base_id": 1.}', false));

  // --- size limits of Python's decoder
  const nest = (n: number) => `{"base_id": ${'['.repeat(n)}1${']'.repeat(n)}}`;
  push(json('nesting 50 deep', nest(50), true, { base_id: '['.repeat(50) + '1' + ']'.repeat(50) }));
  push(json('nesting 1200 deep (Python: RecursionError)', nest(1200), false));
  push(json('integer of 4300 digits', `{"base_id": ${'7'.repeat(4300)}}`, true, undefined, false));
  push(json('integer of 4301 digits (Python: ValueError)', `{"base_id": ${'7'.repeat(4301)}}`, false));
  push(json('negative integer of 4300 digits', `{"base_id": -${'7'.repeat(4300)}}`, true, undefined, false));
  push(json('float of 5000 digits (no digit limit)', `{"base_id": 0.${'7'.repeat(5000)}}`, true, { base_id: String(Number('0.' + '7'.repeat(5000))) }, false));

  return cases;
}

/** Cases in the documented divergence zone (never compared with Python): nesting 901..~985. */
export function grayCases(): AdversarialCase[] {
  const nest = (n: number) => `{"base_id": ${'['.repeat(n)}1${']'.repeat(n)}}`;
  return [json('nesting 950 deep (we reject above 900, Python ~985 from a shallow stack)', nest(949), false)];
}

export { K as FIXTURE_KEY, B as FIXTURE_BASE, P as FIXTURE_PARENT, VALID_INFO, VALID_HMAC, VALID_JSON };
