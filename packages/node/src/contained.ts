/**
 * Failures inside the instrumentation never reach the application: they are counted by
 * core (`failureCounts()`) under `node.<place>` and warned about once per place.
 */
import { contained as containedFor } from '@osprofiler/core/instrument';

export const contained = containedFor('node');
