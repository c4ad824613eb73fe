/**
 * 1,000 malformed or forged X-Trace-Info/X-Trace-HMAC pairs, generated deterministically
 * (seeded) from real signed headers: truncations, bit flips, wrong keys, bad padding,
 * oversized, non-ASCII, duplicated headers, empty and missing values, and well-signed but
 * invalid payloads. Each case is the raw header lines to put on the wire (latin-1 bytes).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { signedPack } from '@osprofiler/core';

export interface ForgedCase {
  kind: string;
  /** Raw header lines (without CRLF), written to the socket as latin-1. */
  lines: string[];
  /** Validly signed with a server key but longer than 8 KiB: Python accepts, we reject (documented). */
  oversizeValid?: boolean;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64u = (s: string) => Buffer.from(s, 'utf8').toString('base64').replaceAll('+', '-').replaceAll('/', '_');
const hmacOf = (info: string, key: string) => createHmac('sha1', Buffer.from(key, 'utf8')).update(info, 'utf8').digest('hex');

/** A header value must not hold CR, LF, NUL or other controls (Node rejects the whole request); tab is allowed. */
function wireSafe(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += (c < 0x20 && c !== 9) || c === 0x7f ? String.fromCharCode(c | 0x40) : ch;
  }
  return out;
}

export function forgedCases(keys: readonly string[], count = 1000, seed = 20261123): ForgedCase[] {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (n: number) => Math.floor(rnd() * n);
  const fresh = (key = keys[0]) => signedPack({ base_id: randomUUID(), parent_id: randomUUID() }, key);
  const h = (info: string | undefined, hmac: string | undefined): string[] => {
    const lines: string[] = [];
    if (info !== undefined) lines.push(`X-Trace-Info: ${wireSafe(info)}`);
    if (hmac !== undefined) lines.push(`X-Trace-HMAC: ${wireSafe(hmac)}`);
    return lines;
  };
  const flipBit = (s: string): string => {
    const i = int(s.length);
    let c: number;
    // Never a control character: Node would refuse the whole request before any app code.
    do c = s.charCodeAt(i) ^ (1 << int(8));
    while (c < 0x20 || c === 0x7f);
    return s.slice(0, i) + String.fromCharCode(c) + s.slice(i + 1);
  };

  const gens: Array<() => ForgedCase> = [
    () => {
      const v = fresh();
      return { kind: 'truncated info', lines: h(v.info.slice(0, int(v.info.length)), v.hmac) };
    },
    () => {
      const v = fresh();
      return { kind: 'truncated hmac', lines: h(v.info, v.hmac.slice(0, int(v.hmac.length))) };
    },
    () => {
      const v = fresh();
      const cut = v.info.slice(0, 1 + int(v.info.length - 1));
      return { kind: 'truncated info, re-signed', lines: h(cut, hmacOf(cut, keys[0])) };
    },
    () => {
      const v = fresh();
      return { kind: 'bit flip in info', lines: h(flipBit(v.info), v.hmac) };
    },
    () => {
      const v = fresh();
      return { kind: 'bit flip in hmac', lines: h(v.info, flipBit(v.hmac)) };
    },
    () => {
      const v = fresh(pick(['WRONG', 'secret_key', `${keys[0]}x`, keys[0].slice(1), 'k', 'é-key', '']) || 'x');
      return { kind: 'wrong key', lines: h(v.info, v.hmac) };
    },
    () => {
      const v = fresh();
      const stripped = v.info.replace(/=+$/, '');
      return { kind: 'padding stripped, re-signed', lines: h(stripped, hmacOf(stripped, keys[0])) };
    },
    () => {
      // Python's decoder skips stray '=' inside the text, so only a broken end is bad padding.
      const v = fresh();
      const bad = v.info.replace(/=+$/, pick(['A', 'Q', '.', '*', 'AAA']));
      return { kind: 'padding replaced, re-signed', lines: h(bad, hmacOf(bad, keys[0])) };
    },
    () => {
      const v = fresh();
      return { kind: 'hmac upper case', lines: h(v.info, v.hmac.toUpperCase()) };
    },
    () => {
      const a = fresh();
      const b = fresh();
      return { kind: 'hmac of another header', lines: h(a.info, b.hmac) };
    },
    () => {
      const v = fresh();
      return { kind: 'info and hmac swapped', lines: h(v.hmac, v.info) };
    },
    () => {
      const v = fresh();
      const i = int(v.info.length);
      const na = String.fromCharCode(0x80 + int(0x80));
      return { kind: 'non-ASCII in info', lines: h(v.info.slice(0, i) + na + v.info.slice(i), v.hmac) };
    },
    () => {
      const v = fresh();
      const i = int(v.info.length);
      const bad = v.info.slice(0, i) + String.fromCharCode(0xa0 + int(0x5f)) + v.info.slice(i);
      return { kind: 'non-ASCII in info, re-signed', lines: h(bad, hmacOf(bad, keys[0])) };
    },
    () => {
      const v = fresh();
      const i = int(40);
      return { kind: 'non-ASCII in hmac', lines: h(v.info, v.hmac.slice(0, i) + String.fromCharCode(0xc0 + int(0x40)) + v.hmac.slice(i + 1)) };
    },
    () => {
      const a = fresh();
      const b = fresh();
      const which = int(4);
      const lines =
        which === 0
          ? [...h(a.info, a.hmac), `X-Trace-Info: ${b.info}`]
          : which === 1
            ? [...h(a.info, a.hmac), `X-Trace-HMAC: ${a.hmac}`]
            : which === 2
              ? [...h(a.info, a.hmac), ...h(a.info, a.hmac)]
              : [`x-trace-info: ${a.info}`, ...h(undefined, a.hmac), `X-TRACE-HMAC: ${b.hmac}`];
      return { kind: 'duplicated headers', lines };
    },
    () => {
      const v = fresh();
      const which = int(6);
      const lines = [h('', v.hmac), h(v.info, ''), h('', ''), h(v.info, undefined), h(undefined, v.hmac), h('   ', '\t ')][which];
      return { kind: 'empty or missing', lines };
    },
    () => {
      // Oversized garbage (rejected by both) and, rarely, over Node's 16 KiB header limit.
      const n = pick([8193, 9000, 12000, 17000]);
      const v = fresh();
      return { kind: 'oversized garbage', lines: h('A'.repeat(n), int(2) === 0 ? v.hmac : 'f'.repeat(n)) };
    },
    () => {
      // Well signed with a server key, but the JSON is wrong for a trace.
      const payload = pick([
        '{"base_id": "x", "parent_id": "y", "extra": 1}',
        '{"parent_id": "y"}',
        '["base_id", "parent_id"]',
        'not json',
        '',
        '{"base_id": "a"',
        '"base_id"',
        'null',
        '{"base_id": "a", "parent_id": "b"} trailing',
      ]);
      const info = b64u(payload);
      return { kind: 'signed, invalid payload', lines: h(info, hmacOf(info, pick(keys))) };
    },
    () => {
      // A bit flip in a payload re-signed with a wrong key.
      const v = fresh();
      const bad = flipBit(v.info);
      return { kind: 'bit flip, signed with a wrong key', lines: h(bad, hmacOf(bad, 'ATTACKER')) };
    },
  ];

  const out: ForgedCase[] = [];
  // The documented exception: validly signed but longer than 8 KiB (JSON padded with spaces).
  for (let i = 0; i < 4; i++) {
    const json = `{"base_id": "${randomUUID()}",${' '.repeat(6200 + i * 10)}"parent_id": "${randomUUID()}"}`;
    const info = b64u(json);
    out.push({ kind: 'oversize, validly signed', lines: h(info, hmacOf(info, keys[0])), oversizeValid: true });
  }
  while (out.length < count) out.push(gens[out.length % gens.length]());
  return out;
}
