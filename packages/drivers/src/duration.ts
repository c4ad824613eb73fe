/** Durations in connection strings: `ttl=7d`, `max_age=12h`, `prune_interval=30m`. */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Milliseconds of `<number><unit>` (units ms, s, m, h, d, w; a bare number is seconds),
 * or undefined when the text is not such a duration.
 */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's').toLowerCase()];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
