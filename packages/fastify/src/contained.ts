/**
 * Failures inside the adapter never reach the application: they are counted by core
 * (`failureCounts()`) under `fastify.<place>` and reported once per place as a warning.
 */
import { contained as containedFor } from '@osprofiler/core/instrument';

export const contained = containedFor('fastify');

/** Contained failures of this package per place (core's counts under `fastify.`). */
export function fastifyFailureCounts(): Record<string, number> {
  return contained.counts();
}
