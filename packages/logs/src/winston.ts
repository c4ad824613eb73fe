import { get } from '@osprofiler/core';

/** The shape winston (logform) asks of a format: any object with `transform`. */
export interface WinstonFormat {
  transform(info: Record<string | symbol, unknown>, opts?: unknown): Record<string | symbol, unknown> | boolean;
}

const format: WinstonFormat = {
  transform(info) {
    const p = get();
    if (p !== undefined) {
      info.base_id = p.baseId;
      info.point_id = p.currentId;
    }
    return info;
  },
};

/**
 * A winston format: `format: winston.format.combine(winstonFormat(), winston.format.json())`.
 * Inside a trace each line gets `base_id` and `point_id`; outside one it adds nothing
 * (one context lookup). Needs no import of winston: logform takes any `{ transform }`.
 */
export function winstonFormat(): WinstonFormat {
  return format;
}
