import { get } from '@osprofiler/core';

/**
 * A pino `mixin`: `pino({ mixin: pinoMixin })`. Inside a trace each line gets `base_id`
 * and `point_id`; outside one it adds nothing (one context lookup and an empty object:
 * pino's default merge writes the line's fields into what a mixin returns, so it has to
 * be a fresh one).
 */
export function pinoMixin(): object {
  const p = get();
  return p === undefined ? {} : { base_id: p.baseId, point_id: p.currentId };
}
