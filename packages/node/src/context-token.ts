/**
 * The signed trace context handed to a child process (`OSPROFILER_TRACE_CONTEXT`), a worker
 * thread (worker environment data) or a pool task (`wrapTask`).
 *
 *   token   = <payload>.<mac>
 *   payload = base64url(JSON {"base_id": B, "parent_id": P, "exp": <ms since the epoch>})
 *   mac     = base64url(HMAC-SHA256(key, "osprofiler.context.v1." + payload))
 *
 * The key is the one the trace matched on the way in; it is never part of the token: the
 * receiver verifies with its own configured keys (`OSPROFILER_HMAC_KEYS`) and continues
 * with the key that matched. The expiry is inside the signed payload, so it cannot be
 * stretched; a different algorithm and a prefix keep these tokens from being usable as
 * `X-Trace-HMAC` headers or the other way round.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TraceOptions } from '@osprofiler/core';
import { contained } from './contained';

/** The environment variable a child process receives. */
export const TRACE_CONTEXT_ENV = 'OSPROFILER_TRACE_CONTEXT';

const PREFIX = 'osprofiler.context.v1.';
const MAX_TOKEN_LENGTH = 4096;
const MAX_ID_LENGTH = 256;

function mac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(PREFIX + payload, 'latin1').digest();
}

/** Signs `{base_id, parent_id, exp}` with `hmacKey`; `exp` is now + `ttlMs`. */
export function packContext(baseId: string, parentId: string, hmacKey: string, ttlMs: number, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ base_id: baseId, parent_id: parentId, exp: now + ttlMs }), 'utf8').toString('base64url');
  return `${payload}.${mac(hmacKey, payload).toString('base64url')}`;
}

/**
 * The trace to continue, or undefined for anything absent, malformed, forged (no key
 * matches) or expired. Never throws.
 */
export function unpackContext(token: unknown, hmacKeys: readonly string[], now = Date.now()): TraceOptions | undefined {
  try {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || hmacKeys.length === 0) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return undefined;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    if (given.length !== 32) return undefined;
    let key: string | undefined;
    for (const k of hmacKeys) {
      if (typeof k === 'string' && k.length > 0 && timingSafeEqual(mac(k, payload), given)) {
        key = k;
        break;
      }
    }
    if (key === undefined) return undefined;
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { base_id: baseId, parent_id: parentId, exp } = data ?? {};
    if (!isId(baseId) || !isId(parentId) || typeof exp !== 'number' || !(exp > now)) return undefined;
    return { hmacKey: key, baseId, parentId };
  } catch (err) {
    contained('contextToken', err); // a damaged token: the child runs untraced
    return undefined;
  }
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
}
