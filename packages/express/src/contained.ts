/**
 * Failures inside the middleware never reach the application: they are counted by core
 * (`failureCounts()`) under `express.<place>` and reported once per place as a warning.
 */
import { failureCounts, recordFailure } from '@osprofiler/core';

const PREFIX = 'express.';

export function contained(where: string, err: unknown): void {
  recordFailure(PREFIX + where, err);
}

/** Contained failures of this package per place (core's counts under `express.`). */
export function expressFailureCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(failureCounts())) if (k.startsWith(PREFIX)) out[k.slice(PREFIX.length)] = v;
  return out;
}
