/**
 * A `wsgi` point's start info (`{request: {path, query, method, scheme}}`), shared and
 * frozen for a request target seen again: core's line formatter then makes its text once,
 * by identity (line.ts, "frozen info"), where a fresh object was formatted for every
 * request. A service answers the same few targets again and again (health checks, list
 * pages, a route without parameters); a target seen once (an id in the path, a query) costs
 * one slot comparison more than before and gets a fresh object, as before.
 * Direct-mapped slots by the target's length and last character, as line.ts's plain values:
 * a target that is not the slot's takes the slot (bounded memory, no eviction policy).
 */
import type { IncomingMessage } from 'node:http';
import { requestInfo, requestScheme } from '../wsgi-info';
import { frozenInfo } from './frozen-info';

const SLOTS = 256;
const targets: string[] = Array.from({ length: SLOTS }, () => '');
const methods: string[] = Array.from({ length: SLOTS }, () => '');
const schemes: string[] = Array.from({ length: SLOTS }, () => '');
// The frozen info once the slot's target came twice; a placeholder until then.
const NONE: object = Object.freeze({});
const infos: object[] = Array.from({ length: SLOTS }, () => NONE);

/**
 * A text's slot hash (its length and last character): for direct-mapped caches of texts a
 * service repeats (targets here, route templates in stop-infos.ts). Masked by the caller.
 */
export function textSlot(text: string): number {
  const n = text.length;
  return n === 0 ? 0 : n * 31 + text.charCodeAt(n - 1);
}

/** The start info of `req` for `target`: the slot's frozen one when the same request came before. */
export function requestStartInfo(req: IncomingMessage, target: string): object {
  const method = req.method ?? '';
  const scheme = requestScheme(req);
  const slot = textSlot(target) & (SLOTS - 1);
  if (targets[slot] === target && methods[slot] === method && schemes[slot] === scheme) {
    const known = infos[slot];
    if (known !== NONE) return known;
    return (infos[slot] = frozenInfo({ request: requestInfo(target, method, scheme) }));
  }
  targets[slot] = target;
  methods[slot] = method;
  schemes[slot] = scheme;
  infos[slot] = NONE;
  return { request: requestInfo(target, method, scheme) };
}
