/**
 * Failures inside the middleware never reach the application: they are counted by core
 * (`failureCounts()`) under `express.<place>` and reported once per place as a warning.
 */
import { contained as containedFor } from '@osprofiler/core/instrument';

export const contained = containedFor('express');

/** Contained failures of this package per place (core's counts under `express.`). */
export function expressFailureCounts(): Record<string, number> {
  return contained.counts();
}
